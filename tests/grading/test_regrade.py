"""Grading a session again never throws a grader's work away: only new or changed
submissions are autograded again, a grade by hand of an unchanged one stands (even with
``force``), and one that changed after it was graded by hand is listed by status."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest

from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import (
    CheckpointResult,
    grade_session,
    graded_record,
    read_score,
    submission_change,
)
from tandem.reports.status import cohort_status

from ..factories import run_cli, submit

pytestmark = pytest.mark.slow  # real nbgrader autograding

STAMP = "2019-12-31 12:00:00.000000 UTC"


def _grade_by_hand(ws: Workspace, participant: str, module: str, points: float) -> None:
    """What formgrader does with a grade by hand."""
    with ws.gradebook(ws.load()) as gradebook:
        grade = gradebook.find_grade("explain", "checkpoint", module, participant)
        grade.manual_score = points
        grade.needs_manual_grade = False
        gradebook.db.commit()


def _result(results: list[CheckpointResult], participant: str) -> CheckpointResult:
    [result] = [r for r in results if r.participant == participant]
    return result


def _resubmit(ws: Workspace, participant: str, module: str, quality: str) -> None:
    shutil.rmtree(ws.submission_dir(participant, module))
    submit(ws, participant, module, quality, stamp="2020-01-05 12:00:00.000000 UTC")


@pytest.fixture
def hand_graded(cohort_at: Callable[..., Workspace]) -> Workspace:
    """s1's tiny-tech checkpoint autograded (2/2) and its written answer graded by hand
    (1/1)."""
    ws = cohort_at("released")
    submit(ws, "s1", "tiny-tech", "full", stamp=STAMP)
    assert _result(grade_session(ws.root, "s1"), "s1").status == "graded"
    _grade_by_hand(ws, "s1", "tiny-tech", 1)
    return ws


def _by_hand(ws: Workspace) -> tuple[float | None, bool]:
    score = read_score(ws, ws.load(), "tiny-tech", "s1")
    assert score is not None
    return score.manual_score, score.manual_pending


def test_grading_a_session_twice_keeps_an_unchanged_submissions_grade_by_hand(
    hand_graded: Workspace,
) -> None:
    ws = hand_graded
    submit(ws, "j1", "tiny-mgmt", "full", stamp=STAMP)  # arrives after the first grading

    results = grade_session(ws.root, "s1")

    kept = _result(results, "s1")
    assert (kept.status, kept.unchanged) == ("graded", True)
    assert kept.score is not None and (kept.score.manual_score, kept.score.manual_pending) == (
        1,
        False,
    )
    assert _by_hand(ws) == (1, False)  # not sent back to "needs grading"
    new = _result(results, "j1")
    assert (new.status, new.unchanged) == ("graded", False)  # the new one is graded
    assert cohort_status(ws.root).changed_after_grading == []


def test_force_regrades_an_unchanged_submission_and_its_grade_by_hand_stands(
    hand_graded: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = hand_graded
    autograded = ws.folder("autograded") / "s1" / "tiny-tech" / "checkpoint.ipynb"
    first = autograded.stat().st_mtime_ns

    code, out, err = run_cli(["grade", str(ws.root), "s1", "--workers", "1"], capsys)
    assert code == 0, err
    assert "unchanged" in out and "1 submission unchanged since autograded" in err
    assert autograded.stat().st_mtime_ns == first  # not autograded again

    code, out, err = run_cli(["grade", str(ws.root), "s1", "--workers", "1", "--force"], capsys)
    assert code == 0, err
    assert "unchanged" not in out + err
    assert autograded.stat().st_mtime_ns > first  # autograded again
    assert _by_hand(ws) == (1, False)


def test_a_submission_changed_after_grading_by_hand_is_listed_by_status(
    hand_graded: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = hand_graded
    _resubmit(ws, "s1", "tiny-tech", "blank")
    assert submission_change(ws, "tiny-tech", "s1") == "changed"
    status = cohort_status(ws.root)
    assert status.changed_after_grading == ["s1 on tiny-tech"]
    assert "1 changed after grading" in status.summary()

    code, _, err = run_cli(["grade", str(ws.root), "s1", "--workers", "1"], capsys)
    assert code == 0, err
    assert "changed after grading: s1 on tiny-tech" in err
    score = read_score(ws, ws.load(), "tiny-tech", "s1")
    assert score is not None and score.auto_score == 0  # the new answers were autograded
    assert score.manual_pending  # the facilitator decides about the old grade by hand
    assert cohort_status(ws.root).changed_after_grading == ["s1 on tiny-tech"]

    _grade_by_hand(ws, "s1", "tiny-tech", 0)  # the facilitator decided
    assert cohort_status(ws.root).changed_after_grading == []
    assert _result(grade_session(ws.root, "s1"), "s1").unchanged
    assert _by_hand(ws) == (0, False)


def test_a_submission_graded_before_checksums_were_kept_is_judged_by_time(
    hand_graded: Workspace,
) -> None:
    ws = hand_graded
    graded_record(ws, "s1", "tiny-tech").unlink()  # as graded by an earlier Tandem
    assert submission_change(ws, "tiny-tech", "s1") == "unchanged"
    assert _result(grade_session(ws.root, "s1"), "s1").unchanged
    assert _by_hand(ws) == (1, False)
    assert graded_record(ws, "s1", "tiny-tech").is_file()  # kept from now on

    graded_record(ws, "s1", "tiny-tech").unlink()
    later = time.time() + 60
    stamp = ws.submission_dir("s1", "tiny-tech") / "timestamp.txt"
    os.utime(stamp, (later, later))  # submitted again after it was autograded
    assert submission_change(ws, "tiny-tech", "s1") == "changed"
    assert not _result(grade_session(ws.root, "s1"), "s1").unchanged
