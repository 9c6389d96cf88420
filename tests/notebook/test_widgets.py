"""The widgets in-process (no browser): identity, context, check-ins, failures shown."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from tandem.notebook.checkin import CHECKIN_FILE, load_context, participant_id
from tandem.notebook.store import Key, Store
from tandem.notebook.widgets import Panel, Where, reflection, self_assessment, session_feedback

from ..factories import assignment_folder


def test_identity_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_PARTICIPANT", "ada")
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-ada")
    assert participant_id() == "ada"
    monkeypatch.delenv("TANDEM_PARTICIPANT")
    assert participant_id() == "hub-ada"
    monkeypatch.delenv("JUPYTERHUB_USER")
    import getpass

    assert participant_id() == getpass.getuser()


def test_outside_a_cohort_it_still_saves_and_says_whose_store(tmp_path: Path) -> None:
    where = Where("ada", None, Store(tmp_path))
    box = reflection("p1", "What did you learn?", where=where)
    notice = html.unescape(box.children[4].value)
    assert "Outside a cohort: answers are kept in ada's own store" in notice
    box.children[1].value = "Something"
    box.children[2].children[0].click()
    assert "Saved" in box.children[3].value
    assert Store(tmp_path).latest(Key("ada", "no-cohort", "lesson", "p1")).text == "Something"  # type: ignore[union-attr]
    assert repr(box) == "<Tandem reflection>" and isinstance(box, Panel)


def _assignment(tmp_path: Path) -> Path:
    return assignment_folder(
        tmp_path / "t1", "t1", track="tech", lead="junior", competencies=["social-networking"],
        titles={"social-networking": "Networking on social media"},
    )  # fmt: skip


def test_the_learner_rates_and_the_check_in_records_it(tmp_path: Path) -> None:
    folder = _assignment(tmp_path)
    where = Where("s1", load_context(folder), Store(tmp_path / "store"))
    ratings = self_assessment(["social-networking"], "before", where=where)
    assert "Networking on social media" in ratings.children[1].description
    ratings.children[1].value = 2
    feedback = session_feedback("t1", where=where)
    feedback.children[1].value = 5
    checkin = json.loads((folder / CHECKIN_FILE).read_text())
    assert checkin["self_assessment"] == {"before": {"social-networking": 2}}
    assert checkin["feedback"]["clarity"] == 5
    # Re-running the cell restores the ratings from the store.
    again = self_assessment(["social-networking"], "before", where=where)
    assert again.children[1].value == 2


def test_the_lead_is_told_the_learner_rates(tmp_path: Path) -> None:
    where = Where("j1", load_context(_assignment(tmp_path)), Store(tmp_path / "store"))
    box = self_assessment(["social-networking"], "before", where=where)
    assert "You lead this module" in box.children[1].value
    assert "You led this module" in session_feedback("t1", where=where).children[1].value


def test_someone_not_in_the_cohort_keeps_answers_to_themself(tmp_path: Path) -> None:
    folder = _assignment(tmp_path)
    where = Where("stranger", load_context(folder), Store(tmp_path / "store"))
    box = reflection("p1", "Prompt", where=where)
    assert "not in cohort Spring" in html.unescape(box.children[4].value)
    box.children[1].value = "mine"
    box.children[2].children[0].click()
    assert not (folder / CHECKIN_FILE).exists()


def test_a_failed_save_is_shown_and_the_text_stays(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    box = reflection("p1", "Prompt", where=Where("ada", None, Store(blocker / "store")))
    assert "NOT RESTORED:" in box.children[3].value  # the store cannot even be read
    box.children[1].value = "keep me"
    box.children[2].children[0].click()
    assert "NOT SAVED:" in box.children[3].value and "Not a directory" in box.children[3].value
    assert box.children[1].value == "keep me"
