"""Every checkpoint of the shipped curriculum, graded by the real nbgrader.

One cohort of three pairs works through all six sessions: in every module, pair 1's
learner submits the solutions, pair 2's learner submits the released notebook untouched,
and pair 3's learner submits a plausible wrong answer written by hand
(``tests/fixtures/wrong_answers/<module>.yml``), which must lose exactly the points of
the tests it should fail.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.curriculum.manifest import load_program
from tandem.engine.batch import Job, execute_job, folder_inputs
from tandem.grading.checkpoints import grade_session, read_grades, read_score

from ..conftest import MANIFEST
from ..factories import submit, wrong_answer

PROGRAM = load_program(MANIFEST)
MODULES = [m.id for m in PROGRAM.modules]
ROSTER = """id,name,email,role
j1,Ada Junior,ada@example.org,junior
s1,Sam Senior,sam@example.org,senior
j2,Bo Junior,bo@example.org,junior
s2,Kim Senior,kim@example.org,senior
j3,Cy Junior,cy@example.org,junior
s3,Lee Senior,lee@example.org,senior
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("exercises")
    (root / "roster.csv").write_text(ROSTER)
    init_cohort(root / "cohort", root / "roster.csv", curriculum=MANIFEST)
    ws = Workspace(root / "cohort")
    cohort = ws.load()
    for session in PROGRAM.sessions:
        release_session(ws.root, session.id)
        for module in session.modules:
            for pair, quality in zip(cohort.pairs, ("full", "blank", "wrong"), strict=True):
                submit(ws, pair.member(module.learner), module.id, quality)
            submit(ws, cohort.pairs[0].member(module.lead), module.id, "full")
        results = grade_session(ws.root, session.id)
        assert {r.status for r in results} == {"graded"}, results
    return ws


@pytest.mark.parametrize("module", MODULES)
def test_solutions_get_full_marks_and_blank_gets_zero(graded: Workspace, module: str) -> None:
    cohort = graded.load()
    learner = PROGRAM.module(module).learner
    full = read_score(graded, cohort, module, cohort.pairs[0].member(learner))
    blank = read_score(graded, cohort, module, cohort.pairs[1].member(learner))
    assert full is not None and blank is not None
    assert full.auto_max >= 3
    assert full.auto_score == full.auto_max
    assert full.manual_max > 0 and full.manual_pending  # the written answer awaits a human
    assert (blank.auto_score, blank.auto_max) == (0, full.auto_max)


@pytest.mark.parametrize("module", MODULES)
def test_a_wrong_answer_loses_exactly_the_points_of_its_failing_tests(
    graded: Workspace, module: str
) -> None:
    cohort = graded.load()
    fixture = wrong_answer(module)
    assert fixture["why"].strip() and fixture["fails"]
    learner = cohort.pairs[2].member(PROGRAM.module(module).learner)
    grades = read_grades(graded, cohort, module, learner)
    tests = {gid: g for gid, g in grades.items() if gid not in _manual_ids(graded, module)}
    assert set(fixture["fails"]) <= set(tests)
    for grade_id, (auto, maximum) in tests.items():
        expected = 0 if grade_id in fixture["fails"] else maximum
        assert auto == expected, f"{module}: {grade_id} scored {auto}, expected {expected}"


def _manual_ids(ws: Workspace, module: str) -> set[str]:
    ids = set()
    for path in (ws.folder("source") / module).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "markdown":
                ids.add(meta["grade_id"])
    return ids


def test_the_lead_is_never_graded(graded: Workspace) -> None:
    cohort = graded.load()
    for module in PROGRAM.modules:
        assert graded.submission_dir(cohort.pairs[0].member(module.lead), module.id).is_dir()
        assert read_score(graded, cohort, module.id, cohort.pairs[0].member(module.lead)) is None


@pytest.mark.parametrize("module", MODULES)
def test_the_released_lesson_runs_inside_its_assignment_folder(
    graded: Workspace, module: str, tmp_path: Path
) -> None:
    """The lesson travels with the checkpoint (with its data) and must run where it lands."""
    lesson = graded.folder("release") / module / Path(PROGRAM.module(module).lesson).name
    job = Job(
        id=module,
        notebook=lesson,
        output=tmp_path / lesson.name,
        inputs=folder_inputs(lesson.parent, exclude=(lesson.name,)),
    )
    record = execute_job(job)
    assert record.status == "done", record.error
    executed = nbformat.read(job.output, as_version=4)
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert errors == []
