"""Every checkpoint of the shipped curriculum, graded by the real nbgrader.

One cohort of four pairs works through all six sessions: in every module, pair 1's
learner types the solutions into the answer cells, pair 2's learner submits the released
notebook untouched, pair 3's learner answers with the controls (an answers file beside the
untouched notebook) but gives the plausible wrong answers written by hand in
``tests/fixtures/wrong_answers/<module>.yml``, which must lose exactly the points of the
items they answer, and pair 4's learner gives every right answer with the controls. All
of it is graded by ``tandem grade``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tandem.cli.app import main
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.curriculum.manifest import load_program
from tandem.engine.batch import Job, execute_job, folder_inputs
from tandem.grading.checkpoints import read_grades, read_score, unfinished_grading

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
j4,Di Junior,di@example.org,junior
s4,Mo Senior,mo@example.org,senior
"""
QUALITIES = ("full", "blank", "wrong", "answers")


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
            for pair, quality in zip(cohort.pairs, QUALITIES, strict=True):
                submit(ws, pair.member(module.learner), module.id, quality)
            submit(ws, cohort.pairs[0].member(module.lead), module.id, "full")
        with pytest.raises(SystemExit) as done:  # `tandem grade COHORT SESSION`
            main(["grade", str(ws.root), session.id])
        assert done.value.code in (0, None)
        assert unfinished_grading(ws, cohort, list(session.modules)) == []
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
def test_right_answers_chosen_with_the_controls_get_full_marks(
    graded: Workspace, module: str
) -> None:
    """The answers file alone (the notebook as released) earns every autograded point."""
    cohort = graded.load()
    learner = PROGRAM.module(module).learner
    typed = read_score(graded, cohort, module, cohort.pairs[0].member(learner))
    chosen = read_score(graded, cohort, module, cohort.pairs[3].member(learner))
    assert typed is not None and chosen is not None
    assert chosen.auto_score == chosen.auto_max == typed.auto_max


@pytest.mark.parametrize("module", MODULES)
def test_a_wrong_answer_loses_exactly_the_points_of_its_items(
    graded: Workspace, module: str
) -> None:
    cohort = graded.load()
    fixture = wrong_answer(module)
    assert fixture["why"].strip() and fixture["fails"] and fixture["answers"]
    learner = cohort.pairs[2].member(PROGRAM.module(module).learner)
    grades = read_grades(graded, cohort, module, learner)
    tests = {gid: g for gid, g in grades.items() if gid not in _manual_ids(graded, module)}
    assert set(fixture["fails"]) <= set(tests)
    assert set(fixture["fails"]) == _items_checking(module, set(fixture["answers"]))
    for grade_id, (auto, maximum) in tests.items():
        expected = 0 if grade_id in fixture["fails"] else maximum
        assert auto == expected, f"{module}: {grade_id} scored {auto}, expected {expected}"


def _items_checking(module: str, questions: set[str]) -> set[str]:
    """The graded test cells of ``module``'s checkpoint that check one of ``questions``."""
    items = set()
    for path in PROGRAM.exercise_notebooks(PROGRAM.module(module)):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            checks = any(f'check("{q}"' in cell.source for q in questions)
            if cell.cell_type == "code" and meta.get("grade") and checks:
                items.add(meta["grade_id"])
    return items


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
