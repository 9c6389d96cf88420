"""Autograding with the real nbgrader on a tiny programme: quarantine, missing, deleted cells.

The shipped curriculum's checkpoints are graded in test_exercises.py."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from tandem.cohort.workspace import Workspace
from tandem.errors import GradingError
from tandem.grading.checkpoints import grade_session

from ..conftest import FIXTURES
from ..factories import submit


def test_a_broken_submission_is_quarantined_and_the_rest_graded(tiny_cohort: Workspace) -> None:
    ws = tiny_cohort
    submit(ws, "s1", "tiny-tech", "full")
    submit(ws, "s2", "tiny-tech", "full")
    shutil.copy(
        FIXTURES / "notebooks" / "not_json.ipynb",
        ws.submission_dir("s2", "tiny-tech") / "checkpoint.ipynb",
    )
    results = {(r.module, r.participant): r for r in grade_session(ws.root, "s1")}
    assert results["tiny-tech", "s1"].status == "graded"
    assert results["tiny-tech", "s1"].score is not None
    assert results["tiny-tech", "s1"].score.auto_score == 2
    broken = results["tiny-tech", "s2"]
    assert broken.status == "quarantined"
    assert broken.error is not None and "checkpoint.ipynb" in broken.error
    assert not ws.submission_dir("s2", "tiny-tech").exists()
    [kept] = (ws.folder("quarantine") / "s2").iterdir()
    assert (kept / "checkpoint.ipynb").read_text().startswith('{"cells": [ this')
    assert (
        "not valid JSON: Expecting value at line 1, column 13"
        in (kept / "QUARANTINED.txt").read_text()
    )
    assert results["tiny-mgmt", "j1"].status == "missing"


def test_a_deleted_test_cell_costs_its_points_without_crashing(tiny_cohort: Workspace) -> None:
    ws = tiny_cohort
    submit(ws, "s1", "tiny-tech", "deleted-cell")
    [result] = [r for r in grade_session(ws.root, "s1") if r.participant == "s1"]
    assert result.status == "graded"
    assert result.score is not None
    assert (result.score.auto_score, result.score.auto_max) == (0, 2)


def test_grading_a_session_not_yet_released(cohort_at: Callable[..., Workspace]) -> None:
    ws = cohort_at("initialised")
    with pytest.raises(GradingError, match="s1 has not been released"):
        grade_session(ws.root, "s1")
