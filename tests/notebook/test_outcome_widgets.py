"""The two-way outcome widgets in-process (no browser): the lead's partner rating and
feedback, the learner's consent, the private safety pulse; saved, restored, and kept to
the people they are promised to."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import pytest
from ipywidgets.embed import dependency_state, embed_data

from tandem.notebook.checkin import CHECKIN_FILE, load_context
from tandem.notebook.outcome_widgets import (
    CONSENT_LABEL,
    PULSE_NOTICE,
    lead_feedback,
    partner_rating,
    safety_pulse,
)
from tandem.notebook.pulse import PULSE_FILE, PULSE_ITEMS, read_pulse
from tandem.notebook.store import MAX_TEXT, Key, Store
from tandem.notebook.widgets import Panel, Where, self_assessment
from tandem.notebook.widgetstate import SAFE_REPR, scrub_widgets

from ..factories import assignment_folder

LEAD, LEARNER = "s1", "j1"  # a management module: the senior leads, the junior learns
COMPETENCIES = ["root-cause-analysis", "pareto-prioritisation"]


def _module(tmp_path: Path, name: str = "m1") -> Path:
    """One participant's copy of an assignment folder (its context file only)."""
    return assignment_folder(
        tmp_path / name, "m1", track="management", lead="senior", competencies=COMPETENCIES,
        titles={"root-cause-analysis": "Finding root causes"},
    )  # fmt: skip


def _where(tmp_path: Path, participant: str) -> Where:
    folder = _module(tmp_path / participant)
    return Where(participant, load_context(folder), Store(tmp_path / participant / "store"))


def _checkin(where: Where) -> dict[str, object]:
    assert where.context is not None
    result: dict[str, object] = json.loads((where.context.folder / CHECKIN_FILE).read_text())
    return result


def _status(panel: Panel) -> str:
    return html.unescape(next(c.value for c in panel.children if "tandem-status" in c._dom_classes))


def _rows(panel: Panel) -> list[object]:
    return [c for c in panel.children if "tandem-rating" in c._dom_classes]


def _every_file_text(*roots: Path) -> str:
    files = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*"))]
    return "\n".join(p.read_text(errors="ignore") for p in files if p.is_file())


# -- the partner rating ------------------------------------------------------------------


def test_the_lead_rates_the_learner_into_store_and_check_in_and_it_is_restored(
    tmp_path: Path,
) -> None:
    lead = _where(tmp_path, LEAD)
    before = partner_rating(COMPETENCIES, "before", where=lead)
    assert (
        repr(before) == "<Tandem partner rating>" and "tandem-partner-rating" in before._dom_classes
    )
    first, second = _rows(before)
    assert first.description == "Finding root causes"  # type: ignore[attr-defined]
    assert second.description == "Pareto prioritisation"  # type: ignore[attr-defined]
    first.value = 2  # type: ignore[attr-defined]
    second.value = 3  # type: ignore[attr-defined]
    assert "Saved" in _status(before)
    after = partner_rating(COMPETENCIES, "after", where=lead)
    _rows(after)[0].value = 4  # type: ignore[attr-defined]
    checkin = _checkin(lead)
    assert checkin["partner_rating"] == {
        "before": {"root-cause-analysis": 2, "pareto-prioritisation": 3},
        "after": {"root-cause-analysis": 4},
    }
    assert checkin["self_assessment"] == {} and checkin["participant"] == LEAD
    again = partner_rating(COMPETENCIES, "before", where=lead)
    assert [r.value for r in _rows(again)] == [2, 3]  # type: ignore[attr-defined]
    notice = html.unescape(again.children[-1].value)
    assert "Your partner sees them after the module" in notice and "facilitator" in notice


def test_the_learner_is_told_the_lead_rates_them_and_nothing_is_written(tmp_path: Path) -> None:
    learner = _where(tmp_path, LEARNER)
    box = partner_rating(COMPETENCIES, "before", where=learner)
    assert _rows(box) == []
    assert (
        "Your partner, who leads this module, rates you here; you will see it after the module "
        "beside your own rating" in html.unescape(box.children[1].value)
    )
    assert learner.context is not None
    assert not (learner.context.folder / CHECKIN_FILE).exists()
    assert not (tmp_path / LEARNER / "store").exists()


def test_the_lead_is_pointed_from_the_self_assessment_to_the_partner_rating(
    tmp_path: Path,
) -> None:
    box = self_assessment(COMPETENCIES, "before", where=_where(tmp_path, LEAD))
    assert "you rate your partner in the partner rating" in box.children[1].value


def test_a_moment_other_than_before_or_after_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before"):
        partner_rating(COMPETENCIES, "during", where=_where(tmp_path, LEAD))  # type: ignore[arg-type]


def test_ratings_out_of_range_in_the_store_restore_as_none(tmp_path: Path) -> None:
    lead = _where(tmp_path, LEAD)
    key = lead.key("partner-rating-before", "lesson")
    lead.store.save(key, "", data={"root-cause-analysis": 9, "pareto-prioritisation": 4})
    box = partner_rating(COMPETENCIES, "before", where=lead)
    assert [r.value for r in _rows(box)] == [None, 4]  # type: ignore[attr-defined]
    lead.store.save(key, "", data=["not", "a", "mapping"])  # type: ignore[arg-type]
    assert [r.value for r in _rows(partner_rating(COMPETENCIES, "before", where=lead))] == [  # type: ignore[attr-defined]
        None,
        None,
    ]


def test_a_damaged_store_file_is_shown_not_raised_and_a_damaged_check_in_is_rebuilt(
    tmp_path: Path,
) -> None:
    lead = _where(tmp_path, LEAD)
    path = lead.store.path(lead.key("partner-rating-before", "lesson"))
    path.parent.mkdir(parents=True)
    path.write_text('{"unexpected": true}')
    box = partner_rating(COMPETENCIES, "before", where=lead)
    assert "NOT RESTORED:" in _status(box) and "damaged" in _status(box)
    assert lead.context is not None
    (lead.context.folder / CHECKIN_FILE).write_text("{ not json")
    path.unlink()
    _rows(box)[0].value = 5  # type: ignore[attr-defined]
    assert _checkin(lead)["partner_rating"] == {"before": {"root-cause-analysis": 5}}


# -- the lead's feedback and the learner's consent ---------------------------------------

FEEDBACK = {
    "situation": "In Tuesday's fishbone exercise",
    "behaviour": "you asked 'how do we know?' three times",
    "impact": "we dropped a cause we had assumed",
    "try_next": "Write the evidence beside each why",
}


def _feedback_boxes(panel: Panel) -> dict[str, object]:
    return {
        c._dom_classes[0].removeprefix("tandem-lead-feedback-").replace("-", "_"): c
        for c in panel.children
        if any(k.startswith("tandem-lead-feedback-") for k in c._dom_classes)
    }


def _buttons(panel: Panel) -> tuple[object, object]:
    [row] = [c for c in panel.children if c.__class__.__name__ == "HBox"]
    save, offer = row.children
    return save, offer


def test_the_lead_gives_feedback_saved_on_save_to_store_and_check_in_and_restored(
    tmp_path: Path,
) -> None:
    lead = _where(tmp_path, LEAD)
    panel = lead_feedback("m1", where=lead)
    assert repr(panel) == "<Tandem lead feedback>"
    boxes = _feedback_boxes(panel)
    assert list(boxes) == ["situation", "behaviour", "impact", "try_next"]
    assert boxes["try_next"].description == "One thing to try next"  # type: ignore[attr-defined]
    for field, text in FEEDBACK.items():
        boxes[field].value = text  # type: ignore[attr-defined]
    save, offer = _buttons(panel)
    assert offer.description == "The facilitator may read this, if my partner agrees too"  # type: ignore[attr-defined]
    save.click()  # type: ignore[attr-defined]
    assert "Saved" in _status(panel)
    given = _checkin(lead)["lead_feedback"]
    assert given == {**FEEDBACK, "share_with_facilitator": False}
    offer.value = True  # type: ignore[attr-defined]
    assert _checkin(lead)["lead_feedback"]["share_with_facilitator"] is True  # type: ignore[index]
    assert _checkin(lead)["feedback_consent"] is False
    again = lead_feedback("m1", where=lead)
    assert {f: b.value for f, b in _feedback_boxes(again).items()} == FEEDBACK  # type: ignore[attr-defined]
    assert _buttons(again)[1].value is True  # type: ignore[attr-defined]
    assert "Restored your feedback" in _status(again)
    notice = html.unescape(again.children[-1].value)
    assert "never its text" in notice and "your partner agrees" in notice


def test_the_lead_feedback_autosaves_once_typing_pauses(tmp_path: Path) -> None:
    lead = _where(tmp_path, LEAD)
    panel = lead_feedback("m1", where=lead)
    _feedback_boxes(panel)["impact"].value = "typed, never saved by hand"  # type: ignore[attr-defined]
    assert lead.context is not None
    checkin = lead.context.folder / CHECKIN_FILE
    deadline = time.monotonic() + 10
    while not checkin.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.2)
    assert _checkin(lead)["lead_feedback"]["impact"] == "typed, never saved by hand"  # type: ignore[index]


def test_an_oversized_feedback_is_not_saved_and_stays_in_the_box(tmp_path: Path) -> None:
    lead = _where(tmp_path, LEAD)
    panel = lead_feedback("m1", where=lead)
    box = _feedback_boxes(panel)["behaviour"]
    box.value = "x" * (MAX_TEXT + 1)  # type: ignore[attr-defined]
    _buttons(panel)[0].click()  # type: ignore[attr-defined]
    assert "NOT SAVED:" in _status(panel) and "Behaviour is" in _status(panel)
    assert len(box.value) == MAX_TEXT + 1  # type: ignore[attr-defined]
    assert lead.context is not None
    assert not (lead.context.folder / CHECKIN_FILE).exists()


def test_the_learner_consents_in_their_own_check_in_and_it_is_restored(tmp_path: Path) -> None:
    learner = _where(tmp_path, LEARNER)
    panel = lead_feedback("m1", where=learner)
    assert _feedback_boxes(panel) == {}
    [consent] = [c for c in panel.children if "tandem-consent" in c._dom_classes]
    assert consent.description == CONSENT_LABEL
    assert consent.value is False
    consent.value = True
    checkin = _checkin(learner)
    assert checkin["feedback_consent"] is True and checkin["lead_feedback"] is None
    again = lead_feedback("m1", where=learner)
    assert [c.value for c in again.children if "tandem-consent" in c._dom_classes] == [True]
    consent.value = False
    assert _checkin(learner)["feedback_consent"] is False
    notice = html.unescape(panel.children[-1].value)
    assert "never its text" in notice and "unless your partner offers" in notice


# -- the safety pulse ----------------------------------------------------------------------


def _pulse_rows(panel: Panel) -> list[object]:
    return [c for c in panel.children if "tandem-pulse-item" in c._dom_classes]


def test_each_partner_answers_the_pulse_into_their_store_and_pulse_file_never_the_check_in(
    tmp_path: Path,
) -> None:
    for participant, answers in ((LEAD, [5, 4, 2]), (LEARNER, [2, 1, 5])):
        where = _where(tmp_path, participant)
        assert where.context is not None
        # A check-in already there (a rating) stays byte for byte as it was.
        where.share("m1", lambda c: c.answered.append("m1-first"))
        checkin_before = (where.context.folder / CHECKIN_FILE).read_bytes()
        panel = safety_pulse("session-01", where=where)
        assert repr(panel) == "<Tandem safety pulse>"
        rows = _pulse_rows(panel)
        assert [r.description for r in rows] == [s for s, _ in PULSE_ITEMS.values()]  # type: ignore[attr-defined]
        assert PULSE_NOTICE in html.unescape(panel.children[-1].value)
        assert "1 = strongly disagree, 5 = strongly agree" in panel.children[0].value
        for row, value in zip(rows, answers, strict=True):
            row.value = value  # type: ignore[attr-defined]
        assert "Saved" in _status(panel)
        pulse = read_pulse(where.context.folder / PULSE_FILE, participant=participant)
        assert pulse.answers == dict(zip(PULSE_ITEMS, answers, strict=True)) and pulse.complete
        assert (pulse.cohort, pulse.session) == ("spring", "session-01")
        assert (where.context.folder / CHECKIN_FILE).read_bytes() == checkin_before
        again = safety_pulse("session-01", where=where)
        assert [r.value for r in _pulse_rows(again)] == answers  # type: ignore[attr-defined]
        assert [r.value for r in _pulse_rows(safety_pulse("session-02", where=where))] == [  # type: ignore[attr-defined]
            None
        ] * 3
    # Each pulse file and store holds its author's answers only.
    for participant, other in ((LEAD, LEARNER), (LEARNER, LEAD)):
        root = tmp_path / participant
        assert [p.name for p in (root / "store").iterdir()] == [participant]
        assert read_pulse(root / "m1" / PULSE_FILE, participant=participant)
        assert f'"{other}"' not in _every_file_text(root / "store", root / "m1" / PULSE_FILE)


def test_outside_a_cohort_the_pulse_is_kept_in_the_store_only(tmp_path: Path) -> None:
    folder = tmp_path / "lesson"
    folder.mkdir()
    where = Where("ada", None, Store(tmp_path / "store"))
    panel = safety_pulse("session-01", where=where)
    assert "Outside a cohort" in html.unescape(panel.children[-1].value)
    _pulse_rows(panel)[0].value = 3  # type: ignore[attr-defined]
    saved = Store(tmp_path / "store").latest(Key("ada", "no-cohort", "session-01", "safety-pulse"))
    assert saved is not None and saved.data == {"could-say": 3}
    assert not list(tmp_path.rglob(PULSE_FILE))


def test_someone_not_in_the_cohort_writes_no_pulse_file(tmp_path: Path) -> None:
    folder = _module(tmp_path)
    where = Where("stranger", load_context(folder), Store(tmp_path / "store"))
    _pulse_rows(safety_pulse("session-01", where=where))[1].value = 4  # type: ignore[attr-defined]
    assert not (folder / PULSE_FILE).exists() and not (folder / CHECKIN_FILE).exists()


def test_under_autograde_the_pulse_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _where(tmp_path, LEARNER)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    _pulse_rows(safety_pulse("session-01", where=where))[0].value = 1  # type: ignore[attr-defined]
    assert where.context is not None
    assert not (where.context.folder / PULSE_FILE).exists()
    assert not (tmp_path / LEARNER / "store").exists()


def test_a_damaged_pulse_file_is_replaced_and_one_that_cannot_be_written_is_shown(
    tmp_path: Path,
) -> None:
    where = _where(tmp_path, LEARNER)
    assert where.context is not None
    target = where.context.folder / PULSE_FILE
    target.write_text('{"answers": {"could-say": 99}')
    where.store.save(
        Key(LEARNER, "spring", "session-01", "safety-pulse"), "", data={"could-say": 0}
    )
    panel = safety_pulse("session-01", where=where)
    assert [r.value for r in _pulse_rows(panel)] == [None] * 3  # type: ignore[attr-defined]
    _pulse_rows(panel)[2].value = 2  # type: ignore[attr-defined]
    assert read_pulse(target, participant=LEARNER).answers == {"held-back": 2}
    target.unlink()
    target.mkdir()  # a folder where the file should be
    _pulse_rows(panel)[0].value = 4  # type: ignore[attr-defined]
    assert "NOT SAVED:" in _status(panel)


def test_a_session_id_that_cannot_name_a_file_is_refused(tmp_path: Path) -> None:
    from tandem.errors import TandemError

    with pytest.raises(TandemError, match="session"):
        safety_pulse("../session-01", where=_where(tmp_path, LEARNER))


# -- widget state and the stable names ---------------------------------------------------


def test_the_new_panels_state_is_removed_from_a_saved_notebook(tmp_path: Path) -> None:
    lead = _where(tmp_path, LEAD)
    learner = _where(tmp_path / "other", LEARNER)
    rating = partner_rating(COMPETENCIES, "after", where=lead)
    _rows(rating)[0].value = 4  # type: ignore[attr-defined]
    feedback = lead_feedback("m1", where=lead)
    _feedback_boxes(feedback)["situation"].value = "SECRET-SITUATION-TEXT"  # type: ignore[attr-defined]
    consent = lead_feedback("m1", where=learner)
    pulse = safety_pulse("session-01", where=learner)
    _pulse_rows(pulse)[0].value = 1  # type: ignore[attr-defined]
    panels = [rating, feedback, consent, pulse]
    assert all(SAFE_REPR.fullmatch(repr(p)) for p in panels)
    state = embed_data(views=panels, state=dependency_state(panels))["manager_state"]
    state = json.loads(json.dumps(state))  # as JupyterLab saves it
    assert "SECRET-SITUATION-TEXT" in json.dumps(state)
    notebook = {
        "cells": [],
        "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": state}},
    }
    assert scrub_widgets(notebook, only_tandem=True)
    assert "widgets" not in notebook["metadata"]


def test_the_new_widgets_are_importable_from_the_stable_name() -> None:
    import tandem.widgets

    assert {"partner_rating", "lead_feedback", "safety_pulse"} <= set(tandem.widgets.__all__)
    assert tandem.widgets.safety_pulse is safety_pulse
