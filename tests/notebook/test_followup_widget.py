"""The follow-up's questions in-process (no browser): both partners answer, each about
their own direction; saved to the author's store and check-in, restored on re-run."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from tandem.notebook.checkin import CHECKIN_FILE, CheckIn, load_context
from tandem.notebook.followup_widget import EXAMPLE_LIMIT, followup_questions
from tandem.notebook.store import Key, Store
from tandem.notebook.widgets import Panel, Where
from tandem.widgets import followup_questions as reexported

from ..factories import assignment_folder

FOLLOWUP = "three-months-on"


def _folder(tmp_path: Path) -> Path:
    """One participant's copy of the follow-up's folder (its context file only)."""
    return assignment_folder(
        tmp_path / FOLLOWUP, FOLLOWUP, track="followup", lead="", title="Three months on"
    )


def _where(tmp_path: Path, participant: str) -> Where:
    folder = _folder(tmp_path / participant)
    return Where(participant, load_context(folder), Store(tmp_path / participant / "store"))


def _part(panel: Panel, css: str) -> Any:
    return next(c for c in panel.children if css in c._dom_classes)


def _rows(panel: Panel) -> list[Any]:
    return [c for c in panel.children if "tandem-rating" in c._dom_classes]


def _status(panel: Panel) -> str:
    return html.unescape(_part(panel, "tandem-status").value)


def _answer(where: Where, still: int, partner: int, example: str) -> Panel:
    panel = followup_questions(FOLLOWUP, where=where)
    _part(panel, "tandem-followup-example").value = example
    rows = _rows(panel)
    rows[0].value, rows[1].value = still, partner
    _part(panel, "tandem-save").click()
    return panel


def _checkin(where: Where) -> CheckIn:
    assert where.context is not None
    return CheckIn.model_validate_json((where.context.folder / CHECKIN_FILE).read_text())


def test_both_partners_answer_into_their_own_checkin_and_store(tmp_path: Path) -> None:
    junior, senior = _where(tmp_path, "j1"), _where(tmp_path, "s1")
    _answer(junior, 4, 2, "I ask why five times before fixing the first cause.")
    _answer(senior, 3, 5, "I check the engagement rate, not the likes.")
    mine = _checkin(junior)
    assert mine.participant == "j1" and mine.module == FOLLOWUP
    assert mine.followup is not None
    assert (mine.followup.still_use, mine.followup.partner_uses) == (4, 2)
    assert mine.followup.example.startswith("I ask why")
    theirs = _checkin(senior).followup
    assert theirs is not None and (theirs.still_use, theirs.partner_uses) == (3, 5)
    saved = junior.store.latest(Key("j1", "spring", FOLLOWUP, "followup"))
    assert saved is not None and saved.shared and saved.data == {"still_use": 4, "partner_uses": 2}


def test_each_partner_is_asked_about_their_own_direction(tmp_path: Path) -> None:
    junior = [
        r.description for r in _rows(followup_questions(FOLLOWUP, where=_where(tmp_path, "j1")))
    ]
    senior = [
        r.description for r in _rows(followup_questions(FOLLOWUP, where=_where(tmp_path, "s1")))
    ]
    assert "taught me (the management modules)" in junior[0]
    assert "what I taught them (the tech modules)" in junior[1]
    assert "taught me (the tech modules)" in senior[0]
    assert "what I taught them (the management modules)" in senior[1]


def test_answers_are_restored_when_the_cell_runs_again(tmp_path: Path) -> None:
    where = _where(tmp_path, "s1")
    _answer(where, 2, 4, "We now send links to the shared file.")
    again = followup_questions(FOLLOWUP, where=where)
    assert [r.value for r in _rows(again)] == [2, 4]
    assert _part(again, "tandem-followup-example").value == "We now send links to the shared file."
    assert _status(again).startswith("Restored your answers saved")


def test_the_example_is_saved_once_typing_pauses(tmp_path: Path) -> None:
    where = _where(tmp_path, "j1")
    panel = followup_questions(FOLLOWUP, where=where)
    _part(panel, "tandem-followup-example").value = "Typed, never saved by a click."
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        path = where.context.folder / CHECKIN_FILE if where.context else None
        if path is not None and path.is_file():
            break
        time.sleep(0.1)
    followup = _checkin(where).followup
    assert followup is not None and followup.example == "Typed, never saved by a click."
    assert followup.still_use is None  # a row left blank is no answer, not a zero


def test_outside_a_cohort_answers_stay_in_the_store(tmp_path: Path) -> None:
    where = Where("someone", None, Store(tmp_path / "store"))
    panel = _answer(where, 5, 5, "An example.")
    assert "Saved" in _status(panel) and "Outside a cohort" in _part(panel, "tandem-privacy").value
    saved = where.store.latest(Key("someone", "no-cohort", FOLLOWUP, "followup"))
    assert saved is not None and saved.text == "An example."
    assert not list(tmp_path.rglob(CHECKIN_FILE))


def test_an_example_over_the_limit_is_not_saved_and_says_so(tmp_path: Path) -> None:
    where = _where(tmp_path, "j1")
    panel = _answer(where, 1, 1, "x" * (EXAMPLE_LIMIT + 1))
    assert "NOT SAVED" in _status(panel) and "Shorten it" in _status(panel)
    assert where.context is not None
    assert not (where.context.folder / CHECKIN_FILE).exists()
    assert where.store.latest(Key("j1", "spring", FOLLOWUP, "followup")) is None


def test_notebooks_import_it_from_tandem_widgets() -> None:
    assert reexported is followup_questions
