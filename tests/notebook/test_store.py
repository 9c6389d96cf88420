"""The private store: round trips, revisions, concurrency, crashes, size limits."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.errors import TandemError
from tandem.notebook.store import MAX_TEXT, Key, Store, StoreError, home

KEY = Key("ada", "spring-2027", "t1-social-media", "t1-what-next")


# Texts of any length up to well past the limit, clustered around the limit itself.
LONG_TEXT = st.builds(
    lambda unit, length: (unit * (MAX_TEXT // len(unit) + 5))[:length],
    st.text(min_size=1, max_size=8),
    st.integers(min_value=MAX_TEXT - 3, max_value=MAX_TEXT + 3) | st.integers(1, 3 * MAX_TEXT),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text() | LONG_TEXT)
def test_any_text_round_trips_or_is_refused_clearly(tmp_path: Path, text: str) -> None:
    store = Store(tmp_path / "store")
    if len(text) > MAX_TEXT:
        with pytest.raises(StoreError, match=f"the limit is {MAX_TEXT:,}"):
            store.save(KEY, text)
        return
    store.save(KEY, text, shared=True)
    latest = Store(tmp_path / "store").latest(KEY)
    assert latest is not None
    assert (latest.text, latest.shared) == (text, True)


def test_lone_surrogates_and_control_characters_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    text = "caf\u00e9 \ud800 \x00 \u202e \U0001f600\r\nline two"
    store.save(KEY, text)
    assert store.latest(KEY).text == text  # type: ignore[union-attr]


def test_every_revision_is_kept_in_order_with_a_timestamp(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for text in ("first", "second", "third"):
        store.save(KEY, text)
    revisions = store.revisions(KEY)
    assert [r.text for r in revisions] == ["first", "second", "third"]
    assert revisions[0].at < revisions[1].at < revisions[2].at
    assert store.path(KEY) == tmp_path / "ada" / "spring-2027" / "t1-social-media" / (
        "t1-what-next.json"
    )
    assert store.path(KEY).stat().st_mode & 0o777 == 0o600  # the author's eyes only


def _hammer(root: str, writer: int, count: int) -> None:
    store = Store(root)
    for i in range(count):
        store.save(KEY, f"writer {writer} revision {i}")


def test_two_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_hammer, args=(str(tmp_path), n, 500)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    path = Store(tmp_path).path(KEY)
    reads = 0
    while any(worker.is_alive() for worker in workers):
        if path.exists():  # a reader never sees a torn file
            json.loads(path.read_text(encoding="utf-8"))
            reads += 1
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    texts = [r.text for r in Store(tmp_path).revisions(KEY)]
    assert len(texts) == 1000
    for n in (1, 2):
        assert [t for t in texts if t.startswith(f"writer {n} ")] == [
            f"writer {n} revision {i}" for i in range(500)
        ]
    assert reads > 0


def test_a_crash_before_the_rename_keeps_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    store.save(KEY, "kept")

    def crash(*_: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StoreError, match="Input/output error"):
        store.save(KEY, "lost in the crash")
    monkeypatch.undo()
    assert [r.text for r in store.revisions(KEY)] == ["kept"]
    assert [p.name for p in store.path(KEY).parent.iterdir() if p.suffix == ".tmp"] == []


def test_an_unwritable_store_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store should be")
    with pytest.raises(StoreError, match=r"cannot write .*Not a directory"):
        Store(blocker / "store").save(KEY, "text")


def test_ids_cannot_escape_the_store(tmp_path: Path) -> None:
    with pytest.raises(TandemError, match=re.escape("prompt id '../../x'")):
        Store(tmp_path).save(Key("ada", "c", "m", "../../x"), "text")


def test_home_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TANDEM_HOME", str(tmp_path / "mine"))
    assert home() == tmp_path / "mine"
    monkeypatch.delenv("TANDEM_HOME")
    assert home().name == "tandem"


def test_export_and_erase(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save(KEY, "mine")
    store.save(Key("bo", "c", "m", "p"), "someone else's")
    exported = store.export("ada")
    assert [d["revisions"][0]["text"] for d in exported] == ["mine"]
    removed = store.erase("ada")
    assert store.path(KEY) in removed
    assert store.export("ada") == [] and store.latest(KEY) is None
    assert store.latest(Key("bo", "c", "m", "p")) is not None
