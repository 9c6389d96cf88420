"""Autograding with the real nbgrader: full marks, zero, quarantine, missing, leads not graded."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tandem.cohort import Workspace, init_cohort, release_session
from tandem.demo import submission
from tandem.errors import GradingError
from tandem.grading import grade_session, read_score

from .conftest import FIXTURES, MANIFEST, ROSTER_2_PAIRS


def _submit(ws: Workspace, participant: str, module: str, quality: str) -> None:
    """Copy the released folder as ``participant``'s submission, answers by ``quality``."""
    release = ws.folder("release") / module
    target = ws.submission_dir(participant, module)
    shutil.copytree(release, target)
    for source in (ws.folder("source") / module).glob("*.ipynb"):
        student = nbformat.read(release / source.name, as_version=4)
        filled = submission(nbformat.read(source, as_version=4), student, quality)
        nbformat.write(filled, target / source.name)


@pytest.fixture(scope="module")
def graded_curriculum(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Session 1 of the real curriculum: pair-01's learners submit the solutions,
    pair-02's learners submit the released (blank) notebooks, and the leads submit too."""
    root = tmp_path_factory.mktemp("grading")
    roster = root / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS)
    init_cohort(root / "cohort", roster, curriculum=MANIFEST)
    ws = Workspace(root / "cohort")
    release_session(ws.root, "session-01")
    cohort = ws.load()
    for module in ws.program(cohort).session("session-01").modules:
        for pair, quality in zip(cohort.pairs, ("full", "blank"), strict=True):
            _submit(ws, pair.member(module.learner), module.id, quality)
            _submit(ws, pair.member(module.lead), module.id, "full")
    grade_session(ws.root, "session-01")
    return ws


@pytest.mark.parametrize("module", ["t1-social-media", "m1-problem-solving"])
def test_solutions_get_full_marks_and_blank_gets_zero(
    graded_curriculum: Workspace, module: str
) -> None:
    ws = graded_curriculum
    cohort = ws.load()
    learner = ws.program(cohort).module(module).learner
    full = read_score(ws, cohort, module, cohort.pairs[0].member(learner))
    blank = read_score(ws, cohort, module, cohort.pairs[1].member(learner))
    assert full is not None and blank is not None
    assert full.auto_max >= 3  # 3+ autograded answers, each worth a point or more
    assert full.auto_score == full.auto_max
    assert full.manual_max > 0 and full.manual_pending  # the written answer awaits a human
    assert blank.auto_score == 0
    assert blank.auto_max == full.auto_max


def test_the_lead_is_never_graded(graded_curriculum: Workspace) -> None:
    ws = graded_curriculum
    cohort = ws.load()
    for module in ws.program(cohort).session("session-01").modules:
        for pair in cohort.pairs:
            assert read_score(ws, cohort, module.id, pair.member(module.lead)) is None


def test_the_grade_run_is_recorded(graded_curriculum: Workspace) -> None:
    import json

    run = json.loads((graded_curriculum.folder("runs") / "grade-session-01.json").read_text())
    assert [r["status"] for r in run["results"]] == ["graded"] * 4


def test_released_lessons_run_inside_their_assignment_folder(
    graded_curriculum: Workspace, tmp_path: Path
) -> None:
    """The lesson notebook travels with the checkpoint and must run where it lands."""
    from tandem.batch import Job, execute_job

    for lesson in sorted(graded_curriculum.folder("release").glob("*/[tm][0-9]*.ipynb")):
        job = Job(id=lesson.stem, notebook=lesson, output=tmp_path / lesson.name)
        execute_job(job)
        executed = nbformat.read(job.output, as_version=4)
        errors = [
            o
            for c in executed.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if o.output_type == "error"
        ]
        assert errors == [], lesson


@pytest.fixture
def tiny_cohort(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> Workspace:
    init_cohort(tmp_path / "cohort", write_roster(ROSTER_2_PAIRS), curriculum=tiny_programme)
    ws = Workspace(tmp_path / "cohort")
    release_session(ws.root, "s1")
    return ws


def test_a_broken_submission_is_quarantined_and_the_rest_graded(tiny_cohort: Workspace) -> None:
    ws = tiny_cohort
    _submit(ws, "s1", "tiny-tech", "full")
    _submit(ws, "s2", "tiny-tech", "full")
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
    assert "not a readable notebook" in (kept / "QUARANTINED.txt").read_text()
    assert results["tiny-mgmt", "j1"].status == "missing"


def test_a_deleted_test_cell_costs_its_points_without_crashing(tiny_cohort: Workspace) -> None:
    ws = tiny_cohort
    _submit(ws, "s1", "tiny-tech", "deleted-cell")
    [result] = [r for r in grade_session(ws.root, "s1") if r.participant == "s1"]
    assert result.status == "graded"
    assert result.score is not None
    assert (result.score.auto_score, result.score.auto_max) == (0, 2)


def test_grading_a_session_not_yet_released(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    init_cohort(tmp_path / "c", write_roster(ROSTER_2_PAIRS), curriculum=tiny_programme)
    with pytest.raises(GradingError, match="s1 has not been released"):
        grade_session(tmp_path / "c", "s1")
