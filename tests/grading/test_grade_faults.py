"""Faulty submissions, graded by Tandem and by nbgrader itself: same outcome, same scores.

``tests/fixtures/faults/`` holds a small nbgrader course (``course/``: the quiz, with
``Execute.timeout`` 5 s) and one submission per fault, each a notebook named for its
fault (``make_faults.py`` writes them from the release). Each tool grades its own copy
of the released course, at the same time: Tandem (``tandem.grading.autograde.grade``, fork-started
kernels) in this process, nbgrader's own ``autograde`` in a plain Python process of its
own; then the two gradebooks' per-cell autograded scores are compared. The curriculum's
exercises are compared the same way, on their solutions and hand-written wrong answers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tandem.cohort.workspace import Workspace, _fast_gradebook_creation
from tandem.curriculum.checkpoint_rules import CODE_STUB
from tandem.engine.batch import RunOptions
from tandem.engine.executors import Executor, make_executor
from tandem.grading.autograde import GradeOutcome, course_api, grade
from tandem.grading.checkpoints import quiet_nbgrader

from ..conftest import FIXTURES
from ..curriculum.test_exercises import MODULES, PROGRAM
from ..factories import run_cli as run
from ..factories import submit
from ..fixtures.faults import make_faults

pytestmark = pytest.mark.slow  # real nbgrader and real kernels

FAULTS = FIXTURES / "faults"
QUIZ = make_faults.ASSIGNMENT
STUDENTS = list(make_faults.SUBMISSIONS)  # each submission's student id is its file's stem
Scores = dict[str, float | None]

#: What each submission of the quiz scores, by grade cell: test-double (2 points),
#: test-total (3) and the written answer (1, left to a human unless untouched).
#: None: not graded at all.
FULL = {"test-double": 2.0, "test-total": 3.0, "explain": None}
EXPECTED: dict[str, tuple[str, Scores | None]] = {
    "correct": ("graded", FULL),
    "blank": ("graded", {"test-double": 0.0, "test-total": 0.0, "explain": 0.0}),
    "broken_json": ("invalid", None),
    "schema_invalid": ("invalid", None),
    "schema_invalid_no_outputs": ("invalid", None),
    # the test cell is gone: nothing to award for it (nbgrader does not put it back)
    "deleted_grade_cell": ("graded", {**FULL, "test-total": None}),
    # nbgrader turns the answer back into a code cell, which then runs
    "changed_cell_type": ("graded", FULL),
    # graded by the original test, hidden assertion included
    "edited_locked_test": ("graded", {**FULL, "test-double": 0.0}),
    "infinite_loop": ("graded", {**FULL, "test-total": 0.0}),
    "sys_exit": ("graded", FULL),
    "kernel_killed": ("failed", None),
    "patched_showtraceback": ("graded", {**FULL, "test-double": 0.0}),
}
#: Where Tandem and nbgrader differ, and how (see test_nbgrader_grades_what_tandem_refuses).
DIVERGES = {
    "schema_invalid_no_outputs": "nbgrader grades a code cell without outputs (its "
    "ClearOutput step adds them back); Tandem refuses the notebook as not valid nbformat",
}
#: Submissions also graded with --kernels plain: a dead kernel and a silenced traceback.
PLAIN = ["kernel_killed", "patched_showtraceback"]


# -- helpers ---------------------------------------------------------------------------
def tandem_grade(
    course: Path,
    work: Sequence[tuple[str, str]],
    kernels: str = "fork",
    executor: Executor | None = None,
) -> dict[tuple[str, str], GradeOutcome]:
    options = RunOptions(kernels=kernels, progress=False)
    with quiet_nbgrader():
        outcomes = grade(course_api(course), work, options=options, executor=executor)
    assert [(o.assignment, o.student) for o in outcomes] == list(work)  # same order
    return {(o.assignment, o.student): o for o in outcomes}


#: nbgrader's own ``autograde`` of each submission, one after another, in a process of
#: its own: plain Python and Jupyter's own kernels, as nbgrader's users run it. One
#: submission taking longer than STALL seconds dumps the stacks and ends the process.
NBGRADER = """
import faulthandler, json, sys
from pathlib import Path
from tandem.grading.autograde import course_api

course, work, stall, out = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
api, results = course_api(course), []
for assignment, student in work:
    faulthandler.dump_traceback_later(stall, exit=True)
    result = api.autograde(assignment, student, force=True, create=True)
    faulthandler.cancel_dump_traceback_later()
    results.append({k: result.get(k) for k in ("success", "error", "log")})
Path(out).write_text(json.dumps(results))
"""
STALL = 300


class NbgraderRun:
    """:data:`NBGRADER` on ``course``, started now (Tandem grades meanwhile)."""

    def __init__(self, course: Path, work: Sequence[tuple[str, str]]) -> None:
        self.work = list(work)
        self.out, self.log = course.with_suffix(".json"), course.with_suffix(".log")
        env = {k: v for k, v in os.environ.items() if k != "JUPYTER_DEFAULT_PROVISIONER_NAME"}
        args = [str(course), json.dumps(self.work), str(STALL), str(self.out)]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-W", "ignore", "-c", NBGRADER, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=course,
            )

    def results(self) -> dict[tuple[str, str], dict[str, Any]]:
        code = self.process.wait()
        assert code == 0, f"nbgrader exited with {code}:\n{self.log.read_text()[-5000:]}"
        results = json.loads(self.out.read_text())
        return dict(zip(self.work, results, strict=True))

    def __enter__(self) -> NbgraderRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:  # Tandem failed first: do not leave nbgrader running
            self.process.kill()
            self.process.wait()


@dataclass
class Graded:
    """One batch graded by both tools, each on its own copy of the course."""

    tandem: Path
    outcomes: dict[tuple[str, str], GradeOutcome]
    nbgrader: Path
    results: dict[tuple[str, str], dict[str, Any]]  # api.autograde's: success, error, log


def grade_both(base: Path, work: Sequence[tuple[str, str]], pool: Executor) -> Graded:
    """Tandem and nbgrader, at the same time, each on its own copy of ``base``."""
    tandem, reference = copy_course(base, "tandem"), copy_course(base, "nbgrader")
    with NbgraderRun(reference, work) as nbgrader:
        outcomes = tandem_grade(tandem, work, executor=pool)
        results = nbgrader.results()
    return Graded(tandem, outcomes, reference, results)


def cell_scores(course: Path, assignment: str, student: str) -> Scores | None:
    """Each grade cell's autograded score in the course's gradebook, by grade id; None
    when the submission has no autograded notebook (both tools remove it on failure)."""
    from nbgrader.api import Gradebook

    if not any((course / "autograded" / student / assignment).glob("*.ipynb")):
        return None
    coursedir = course_api(course).coursedir
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades}


def autograded(course: Path, student: str) -> dict[str, Any]:
    """The autograded quiz of ``student``: its cells by grade id."""
    nb = nbformat.read(course / "autograded" / student / QUIZ / make_faults.NOTEBOOK, 4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def errors(cell: Any) -> list[Any]:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def copy_course(base: Path, name: str) -> Path:
    target = base.parent / name
    shutil.copytree(base, target)
    return target


@pytest.fixture(scope="module")
def pool() -> Iterator[Executor]:
    """One pool of workers (fork-started kernels) for this module's Tandem runs."""
    executor = make_executor("local", kernels="fork")
    yield executor
    executor.close()


# -- the faults course -----------------------------------------------------------------
@pytest.fixture(scope="module")
def faults_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quiz released by nbgrader, with every fixture submitted (not yet graded)."""
    _fast_gradebook_creation()
    course = tmp_path_factory.mktemp("faults") / "base"
    shutil.copytree(FAULTS / "course", course)
    result = course_api(course).generate_assignment(QUIZ, force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    for student in STUDENTS:
        folder = course / "submitted" / student / QUIZ
        folder.mkdir(parents=True)
        shutil.copy(FAULTS / f"{student}.ipynb", folder / make_faults.NOTEBOOK)
    return course


@pytest.fixture(scope="module")
def graded_faults(faults_course: Path, pool: Executor) -> Graded:
    return grade_both(faults_course, [(QUIZ, s) for s in STUDENTS], pool)


@pytest.fixture(scope="module")
def by_tandem(graded_faults: Graded) -> tuple[Path, dict[str, GradeOutcome]]:
    """Tandem's copy of the faults course and its outcomes, by student."""
    return graded_faults.tandem, {s: o for (_, s), o in graded_faults.outcomes.items()}


@pytest.fixture(scope="module")
def by_nbgrader(graded_faults: Graded) -> tuple[Path, dict[str, dict[str, Any]]]:
    """nbgrader's copy of the faults course and its results, by student."""
    return graded_faults.nbgrader, {s: r for (_, s), r in graded_faults.results.items()}


@pytest.fixture(scope="module")
def by_tandem_plain(faults_course: Path) -> tuple[Path, dict[str, GradeOutcome]]:
    """Tandem with its own pool and Jupyter's kernel start-up (no fork)."""
    course = copy_course(faults_course, "tandem-plain")
    outcomes = tandem_grade(course, [(QUIZ, s) for s in PLAIN], kernels="plain")
    return course, {student: o for (_, student), o in outcomes.items()}


def test_the_fault_notebooks_are_what_make_faults_writes(faults_course: Path) -> None:
    release = make_faults.release_notebook(faults_course)
    for name, text in make_faults.texts(release).items():
        assert (FAULTS / f"{name}.ipynb").read_text("utf-8") == text, (
            f"{name}.ipynb is out of date: run tests/fixtures/faults/make_faults.py"
        )


@pytest.mark.parametrize("student", STUDENTS)
def test_each_fault_gets_its_status_and_scores(
    by_tandem: tuple[Path, dict[str, GradeOutcome]], student: str
) -> None:
    course, outcomes = by_tandem
    status, expected = EXPECTED[student]
    outcome = outcomes[student]
    assert outcome.status == status, outcome.reason
    assert cell_scores(course, QUIZ, student) == expected
    if expected is None:
        assert outcome.score is None and outcome.reason
    else:
        assert outcome.reason is None
        assert outcome.score == sum(s or 0.0 for s in expected.values())
        assert outcome.max_score == 6


def test_a_file_that_is_not_json_is_refused_with_its_line_and_column(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
) -> None:
    reason = by_tandem[1]["broken_json"].reason
    assert reason == "quiz.ipynb: not valid JSON: Expecting ',' delimiter at line 92, column 1"


def test_a_schema_invalid_notebook_is_refused_naming_the_field(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
) -> None:
    reason = by_tandem[1]["schema_invalid"].reason
    assert reason == "quiz.ipynb: not valid nbformat at cells/3: 'metadata' is a required property"
    reason = by_tandem[1]["schema_invalid_no_outputs"].reason
    assert reason == "quiz.ipynb: not valid nbformat at cells/3: 'outputs' is a required property"


def test_a_kernel_that_kills_itself_is_run_again_then_reported(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
) -> None:
    outcome = by_tandem[1]["kernel_killed"]
    assert outcome.reason is not None
    assert "DeadKernelError: the kernel died twice" in outcome.reason
    assert not (by_tandem[0] / "autograded" / "kernel_killed" / QUIZ).exists()


def test_what_the_autograded_notebooks_show(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
) -> None:
    """The faults were graded for the right reasons (not, say, a kernel that never ran)."""
    course = by_tandem[0]
    loop = autograded(course, "infinite_loop")["test-total"]
    assert "CellTimeoutError" in {e.ename for e in errors(loop)}
    exited = autograded(course, "sys_exit")
    assert [e.ename for e in errors(exited["answer-double"])] == ["SystemExit"]
    assert errors(exited["test-double"]) == errors(exited["test-total"]) == []
    silenced = autograded(course, "patched_showtraceback")["test-double"]
    [error] = errors(silenced)
    assert error.ename == "AssertionError"
    assert "showtraceback was disabled" in "".join(error.traceback)
    edited = autograded(course, "edited_locked_test")["test-double"]
    assert "assert double(-3) == -6" in edited.source  # the hidden test, restored
    assert "assert True" not in edited.source
    assert autograded(course, "changed_cell_type")["answer-total"].cell_type == "code"
    assert "test-total" not in autograded(course, "deleted_grade_cell")


def test_one_bad_submission_never_stops_the_rest(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
) -> None:
    course, outcomes = by_tandem
    assert {s for s, o in outcomes.items() if o.status != "graded"} == {
        "broken_json",
        "schema_invalid",
        "schema_invalid_no_outputs",
        "kernel_killed",
    }
    for student in ("correct", "sys_exit", "changed_cell_type"):
        assert outcomes[student].score == 5
        assert cell_scores(course, QUIZ, student) == FULL


@pytest.mark.parametrize("student", [s for s in STUDENTS if s not in DIVERGES])
def test_tandem_and_nbgrader_give_the_same_scores(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
    by_nbgrader: tuple[Path, dict[str, dict[str, Any]]],
    student: str,
) -> None:
    tandem = cell_scores(by_tandem[0], QUIZ, student)
    nbgrader = cell_scores(by_nbgrader[0], QUIZ, student)
    assert tandem == nbgrader
    graded = by_tandem[1][student].status == "graded"
    assert graded == by_nbgrader[1][student]["success"] == (nbgrader is not None)


def test_nbgrader_grades_what_tandem_refuses(
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
    by_nbgrader: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    """nbgrader only logs "Notebook JSON is invalid" for a code cell without "outputs"
    (its ClearOutput step adds them), then grades it in full; Tandem refuses it."""
    student = "schema_invalid_no_outputs"
    assert student in DIVERGES
    result = by_nbgrader[1][student]
    assert result["success"]
    assert "Notebook JSON is invalid: 'outputs' is a required property" in result["log"]
    assert cell_scores(by_nbgrader[0], QUIZ, student) == FULL
    assert by_tandem[1][student].status == "invalid"


@pytest.mark.parametrize("student", PLAIN)
def test_plain_kernels_give_the_same_outcome(
    by_tandem_plain: tuple[Path, dict[str, GradeOutcome]],
    by_nbgrader: tuple[Path, dict[str, dict[str, Any]]],
    student: str,
) -> None:
    course, outcomes = by_tandem_plain
    assert outcomes[student].status == EXPECTED[student][0]
    assert cell_scores(course, QUIZ, student) == cell_scores(by_nbgrader[0], QUIZ, student)
    assert cell_scores(course, QUIZ, student) == EXPECTED[student][1]


def test_the_cli_grades_every_submission_and_exits_nonzero(
    faults_course: Path,
    by_tandem: tuple[Path, dict[str, GradeOutcome]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # the table's reasons on one line each
    course = copy_course(faults_course, "cli")
    code, out, err = run(["grade", "--course-dir", str(course), "--assignment", QUIZ], capsys)
    assert code == 1
    assert "tandem: error: 4 of 12 submissions were not graded" in err
    assert "invalid: schema_invalid: quiz.ipynb: not valid nbformat at cells/3" in err
    table = [[c.strip() for c in re.split("[│|]", line)[1:-1]] for line in out.splitlines()]
    rows = {row[0]: row[1:] for row in table if row and row[0] in STUDENTS}
    assert set(rows) == set(STUDENTS)
    assert rows["broken_json"][2].endswith("Expecting ',' delimiter at line 92, column 1")
    assert rows["schema_invalid"][2].endswith("cells/3: 'metadata' is a required property")
    assert rows["schema_invalid_no_outputs"][2].endswith("'outputs' is a required property")
    assert "DeadKernelError: the kernel died twice" in rows["kernel_killed"][2]
    for student, (status, _, reason) in rows.items():
        outcome = by_tandem[1][student]
        assert (status, reason) == (outcome.status, outcome.reason or "")
        assert cell_scores(course, QUIZ, student) == cell_scores(by_tandem[0], QUIZ, student)
    assert rows["correct"][1] == "5/6" and rows["infinite_loop"][1] == "2/6"


# -- the curriculum's exercises --------------------------------------------------------
QUALITIES = ("full", "wrong")  # the solutions, and tests/fixtures/wrong_answers/<module>.yml
STUB = {"python": CODE_STUB}  # as every cohort's nbgrader config has it


@pytest.fixture(scope="module")
def exercises_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every module's checkpoint released by nbgrader; students "full" and "wrong"."""
    _fast_gradebook_creation()
    course = tmp_path_factory.mktemp("exercises") / "base"
    course.mkdir()
    config = {"CourseDirectory": {"course_id": "ex"}, "ClearSolutions": {"code_stub": STUB}}
    (course / "nbgrader_config.json").write_text(json.dumps(config))
    for m in PROGRAM.modules:
        shutil.copytree(PROGRAM.exercise_dir(m), course / "source" / m.id)
    api = course_api(course)
    for module in MODULES:
        result = api.generate_assignment(module, force=True, create=True)
        assert result["success"], result.get("error") or result.get("log")
    for module in MODULES:
        for quality in QUALITIES:
            submit(Workspace(course), quality, module, quality)
    return course


@pytest.fixture(scope="module")
def exercises_graded(exercises_course: Path, pool: Executor) -> tuple[Path, Path]:
    """(Tandem's copy, nbgrader's copy), each graded by its tool."""
    work = [(m, q) for m in MODULES for q in QUALITIES]
    graded = grade_both(exercises_course, work, pool)
    assert {o.status for o in graded.outcomes.values()} == {"graded"}, graded.outcomes
    assert all(r["success"] for r in graded.results.values()), graded.results
    return graded.tandem, graded.nbgrader


@pytest.mark.parametrize("module", MODULES)
def test_the_exercises_score_the_same_under_tandem_and_nbgrader(
    exercises_graded: tuple[Path, Path], module: str
) -> None:
    tandem, reference = exercises_graded
    scores = {q: cell_scores(tandem, module, q) for q in QUALITIES}
    for quality in QUALITIES:
        assert scores[quality] == cell_scores(reference, module, quality), quality
    assert scores["full"] and scores["wrong"]
    lost = {g for g, s in scores["wrong"].items() if s != scores["full"][g]}
    assert lost, f"{module}: the wrong answer scored like the solution"


def test_metadata_checks_answer_as_jsonschema_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking nbgrader's schema once changes when the schema is checked, not what a
    cell's metadata check answers: valid metadata passes, invalid raises the same error."""
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError, common

    from tandem.grading.speedups import _SchemaCheckedOnce, check_metadata_schema_once

    meta = {
        "schema_version": 3,
        "grade": True,
        "solution": False,
        "locked": True,
        "task": False,
        "grade_id": "test-a",
        "points": 2,
    }
    cells = [
        nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": dict(meta)}),
        nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {**meta, "points": "2"}}),
        nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {**meta, "locked": 1}}),
    ]

    def answers() -> list[str | None]:
        found: list[str | None] = []
        for cell in cells * 2:
            try:
                MetadataValidator().validate_cell(cell)
                found.append(None)
            except ValidationError as exc:
                found.append(str(exc))
        return found

    real = getattr(common.jsonschema, "_module", common.jsonschema)
    monkeypatch.setattr(common, "jsonschema", real)
    before = answers()
    check_metadata_schema_once()
    assert isinstance(common.jsonschema, _SchemaCheckedOnce)
    assert answers() == before
    assert before[0] is None and before[1] and before[2]


def test_gradebooks_share_an_engine_and_a_new_database_still_gets_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the grading process each database has one engine (its compiled-SQL cache kept
    between nbgrader's many ``Gradebook`` openings), tables are checked once per engine,
    and nbgrader's records read and write as before, on an old or a brand new database."""
    from nbgrader import api

    from tandem.grading.speedups import share_gradebook_engines

    monkeypatch.setattr(api, "create_engine", api.create_engine)
    monkeypatch.setattr(api.Base.metadata, "create_all", api.Base.metadata.create_all)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")  # alembic
    share_gradebook_engines()
    engines = []
    for name in ("one.db", "two.db"):
        url = f"sqlite:///{tmp_path / name}"
        with api.Gradebook(url, "course") as first:
            first.add_student("ada", first_name="Ada")
            engine = first.engine
        with api.Gradebook(url, "course") as again:
            assert again.engine is engine
            assert [s.id for s in again.students] == ["ada"]
            again.add_assignment("a1")
        with api.Gradebook(url, "course") as last:
            assert [a.name for a in last.assignments] == ["a1"]
        tables = set(api.inspect(engine).get_table_names())
        assert {"student", "assignment", "alembic_version"} <= tables
        engines.append(engine)
    assert engines[0] is not engines[1]  # one engine per database, not one for all
