"""Privacy end to end: private text never reaches the course; data export and erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tandem.cohort.exchange import WIDGET_STATE, WIDGET_VIEW, collect_session, fetch, submit
from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import grade_session
from tandem.notebook.checkin import load_context
from tandem.notebook.store import Key, Store
from tandem.notebook.widgets import Where, reflection
from tandem.privacy import erase_participant, export_participant
from tandem.reports.build import build_reports

ROSTER = """id,name,email,role,department
zeb-junior,Zebedee Quillfeather,zeb@example.org,junior,IT
sam-senior,Samantha Okonkwo,sam@example.org,senior,Operations
"""
PRIVATE = "PRIVATE: my manager's plan worries me"
SHARED = "SHARED: I will post weekly"


def _answer(where: Where, prompt: str, text: str, *, share: bool = False) -> Any:
    """What a participant does in JupyterLab: type into a reflection, maybe tick Share."""
    box = reflection(prompt, "A prompt", where=where)
    textarea, buttons = box.children[1], box.children[2]
    textarea.value = text
    buttons.children[1].value = share  # the Share checkbox saves at once
    buttons.children[0].click()  # Save
    assert "Saved" in box.children[3].value, box.children[3].value
    return box


def _save_widget_state_like_jupyterlab(notebook: Path, text: str) -> None:
    """JupyterLab's 'Save Widget State Automatically' writes widget models (with their
    values) into the notebook's metadata and widget views into outputs."""
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                "abc123": {
                    "model_name": "TextareaModel",
                    "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {"value": text},
                }
            },
        }
    }
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "abc123"},
                "text/plain": text,
            },
        )
    ]
    nbformat.write(nb, notebook)


@pytest.fixture
def programme_run(tmp_path: Path, cohort_at: Callable[..., Workspace]) -> tuple[Workspace, Store]:
    """Zebedee (junior) learns the tiny management module: fetch, reflect, submit, collect."""
    ws = cohort_at("released", roster=ROSTER)
    store = Store(tmp_path / "zeb-home" / "store")
    home = tmp_path / "zeb-home"
    folder = fetch(ws, home, "tiny-mgmt", "zeb-junior")
    where = Where("zeb-junior", load_context(folder), store)
    _answer(where, "tiny-mgmt-private", PRIVATE)
    _answer(where, "tiny-mgmt-shared", SHARED, share=True)
    _save_widget_state_like_jupyterlab(folder / "tiny-mgmt.ipynb", PRIVATE)
    submit(ws, home, "tiny-mgmt", "zeb-junior")
    collect_session(ws.root, "s1")
    return ws, store


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_private_text_never_reaches_the_course_but_shared_text_does(
    programme_run: tuple[Workspace, Store],
) -> None:
    ws, store = programme_run
    assert (
        store.latest(Key("zeb-junior", ws.load().course_id, "tiny-mgmt", "tiny-mgmt-private")).text
        == PRIVATE
    )  # type: ignore[union-attr]
    assert _files_containing(ws.root, "PRIVATE:") == []
    checkin = json.loads(
        (ws.submission_dir("zeb-junior", "tiny-mgmt") / "tandem_checkin.json").read_text()
    )
    assert checkin["shared_reflections"] == {"tiny-mgmt-shared": SHARED}
    assert sorted(checkin["answered"]) == ["tiny-mgmt-private", "tiny-mgmt-shared"]
    lesson = nbformat.read(
        ws.submission_dir("zeb-junior", "tiny-mgmt") / "tiny-mgmt.ipynb", as_version=4
    )
    assert "widgets" not in lesson.metadata


def test_export_then_erase_everywhere(programme_run: tuple[Workspace, Store]) -> None:
    ws, store = programme_run
    grade_session(ws.root, "s1")
    build_reports(ws.root)
    assert _files_containing(ws.root, "Zebedee")  # the pair page names them

    exported = export_participant("zeb-junior", workspace=ws.root, store=store)
    texts = [r["text"] for a in exported["private_store"]["answers"] for r in a["revisions"]]
    assert PRIVATE in texts and SHARED in texts
    cohort_part = exported["cohort"]
    assert cohort_part["profile"]["name"] == "Zebedee Quillfeather"
    assert cohort_part["check_ins"]["tiny-mgmt"]["shared_reflections"] == {
        "tiny-mgmt-shared": SHARED
    }
    assert cohort_part["checkpoint_scores"]["tiny-mgmt"]["autograded_max"] == 2
    json.dumps(exported)  # plain JSON

    removed = erase_participant("zeb-junior", workspace=ws.root, store=store)
    assert any(r.startswith("private store") for r in removed)
    assert "gradebook: student and submissions" in removed
    assert "submitted/zeb-junior/" in removed
    assert any(r.startswith("exchange inbound") for r in removed)
    for needle in ("zeb-junior", "Zebedee", "zeb@example.org", SHARED):
        assert _files_containing(ws.root, needle) == [], needle
        assert _files_containing(store.root, needle) == [], needle
    cohort = ws.load()
    assert cohort.pairs == [] and cohort.unpaired == ["sam-senior"]
    assert (ws.folder("reports") / "index.html").exists()  # rebuilt without them


def test_erasing_someone_unknown_says_so(programme_run: tuple[Workspace, Store]) -> None:
    ws, _ = programme_run
    with pytest.raises(Exception, match="no participant 'nobody'"):
        erase_participant("nobody", workspace=ws.root)
