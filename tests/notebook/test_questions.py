"""Question kinds: answers kept in the assignment folder's answers file, and graded from it
by nbgrader's autograde through ``tandem grade`` (real exchange, real kernels)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tandem.cohort.exchange import collect_session, fetch, submit
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.curriculum.checkpoint_rules import CODE_STUB
from tandem.grading.checkpoints import grade_session
from tandem.notebook import questions
from tandem.notebook.checkin import CONTEXT_FILE
from tandem.notebook.questions import (
    ANSWERS_FILE,
    AnswerBook,
    answer_of,
    answered,
    check,
    choice,
    order,
)

from ..conftest import FIXTURES, ROSTER_2_PAIRS
from ..factories import submit as put_submission

MODULE = "tiny-tech"  # seniors s1 and s2 learn it
RIGHT: dict[str, Any] = {
    "q1": "Line chart",
    "q2": 90.2,  # within the tolerance of 0.5
    "q3": ["Ask a question", "Collect the data", "Share the result"],
    "q4": {"Age": "Number", "Name": "Text"},
    "q5": {"report.xlsx": "Excel", "notes.docx": "Word"},
}
AUTO_MAX = 8.0  # q1 2, q2 3, q3 1, q4 1, q5 1


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An assignment folder inside a cohort (it has a context file) as the working dir."""
    (tmp_path / CONTEXT_FILE).write_text("{}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    questions._QUESTIONS.clear()
    return tmp_path


def _saved(folder: Path) -> dict[str, Any]:
    answers: dict[str, Any] = json.loads((folder / ANSWERS_FILE).read_text())["answers"]
    return answers


def test_a_changed_answer_is_written_and_restored_when_the_cell_runs_again(folder: Path) -> None:
    choice("q1", "Which?", ["A", "B"], answer=None)  # the release: `answer = None`
    assert answer_of("q1") is None and not (folder / ANSWERS_FILE).exists()
    questions._QUESTIONS["q1"].set("B")
    assert _saved(folder) == {"q1": "B"}
    assert choice("q1", "Which?", ["A", "B"], answer=None) is None  # shows only the controls
    assert answer_of("q1") == "B"


def test_a_typed_answer_counts_only_where_the_controls_hold_none(folder: Path) -> None:
    order("q3", "Order", ["x", "y"], answer=["y", "x"])
    assert answer_of("q3") == ["y", "x"]
    assert not (folder / ANSWERS_FILE).exists()  # typing writes nothing: the cell holds it
    questions._QUESTIONS["q3"].set(["x", "y"])
    order("q3", "Order", ["x", "y"], answer=["y", "x"])
    assert answer_of("q3") == ["x", "y"]


def test_the_release_holds_the_stub_in_place_of_the_answer(cohort: Workspace) -> None:
    """Tandem's course config: nbgrader releases `answer = "..."` as `answer = None`, and
    the released cell runs (no NotImplementedError), so Run All reaches every question."""
    released = nbformat.read(cohort.folder("release") / MODULE / "checkpoint.ipynb", 4)
    answer_cells = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")]
    code = [c.source for c in answer_cells if c.cell_type == "code"]
    assert len(code) == len(RIGHT)
    assert all(src.startswith(CODE_STUB + "\n") and "answer=answer" in src for src in code)


def test_nothing_is_written_under_autograde_or_outside_a_cohort(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    choice("q1", "Which?", ["A", "B"], answer=None)
    questions._QUESTIONS["q1"].set("A")
    assert not (folder / ANSWERS_FILE).exists()
    monkeypatch.delenv("NBGRADER_EXECUTION")
    (folder / CONTEXT_FILE).unlink()  # the author's source folder: no context file
    assert not AnswerBook(folder).writable


def test_a_tampered_or_damaged_answers_file_only_blanks_the_learners_own_answers(
    folder: Path,
) -> None:
    (folder / ANSWERS_FILE).write_text(json.dumps({"answers": {"q1": "Z", "q3": ["x", "x", 1]}}))
    choice("q1", "Which?", ["A", "B"], answer=None)
    order("q3", "Order", ["x", "y"], answer=None)
    assert answer_of("q1") is None and answer_of("q3") is None  # not options: no answer
    (folder / ANSWERS_FILE).write_text("{not json")
    choice("q1", "Which?", ["A", "B"], answer="A")
    assert answer_of("q1") == "A"


def test_checks_say_unanswered_or_wrong_without_showing_the_expected_answer(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AssertionError, match="has not run"):
        answered("q9")
    choice("q1", "Which?", ["Apple", "Banana"], answer=None)
    answered("q1")  # in the learner's kernel: a reminder, so Run All reaches every question
    assert "q1: not answered yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="not answered yet"):
        answered("q1")
    monkeypatch.delenv("NBGRADER_EXECUTION")
    questions._QUESTIONS["q1"].set("Apple")
    answered("q1")
    with pytest.raises(AssertionError) as info:
        check("q1", "Banana")
    assert "Banana" not in str(info.value)
    choice("q6", "Which?", ["A", "B", "C"], multiple=True, answer=["C", "A"])
    check("q6", ["A", "C"])


def test_the_plain_text_form_shows_the_question_and_the_answer(folder: Path) -> None:
    choice("q1", "Which chart?", ["Bar", "Line"], answer="Line")
    text = questions._QUESTIONS["q1"].text()
    assert "[q1] Which chart?" in text and "- Bar" in text and 'Your answer: "Line"' in text


# ---- grading through the exchange and `tandem grade` --------------------------------------


@pytest.fixture
def cohort(tmp_path: Path) -> Workspace:
    programme = tmp_path / "programme"
    shutil.copytree(FIXTURES / "questions_programme", programme)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS)
    init_cohort(tmp_path / "cohort", roster, curriculum=programme / "curriculum" / "program.yml")
    release_session(tmp_path / "cohort", "s1")
    return Workspace(tmp_path / "cohort")


def _hand_in(ws: Workspace, home: Path, learner: str, answers: dict[str, Any] | None) -> None:
    """Fetch the module, leave the notebook as released, write the answers file as the
    widgets would, and submit through nbgrader's exchange."""
    folder = fetch(ws, home / learner, MODULE, learner)
    if answers is not None:
        (folder / ANSWERS_FILE).write_text(json.dumps({"answers": answers}))
    submit(ws, home / learner, MODULE, learner)


def _auto_scores(results: list[Any]) -> dict[str, float]:
    return {r.participant: r.score.auto_score for r in results if r.module == MODULE and r.score}


def test_answers_files_grade_right_answers_to_full_marks_and_a_wrong_choice_loses_its_points(
    cohort: Workspace, tmp_path: Path
) -> None:
    _hand_in(cohort, tmp_path / "homes", "s1", RIGHT)
    _hand_in(cohort, tmp_path / "homes", "s2", {**RIGHT, "q1": "Pie chart"})
    collect_session(cohort.root, "s1")
    assert (cohort.submission_dir("s1", MODULE) / ANSWERS_FILE).is_file()  # kept by collect

    results = grade_session(cohort.root, "s1")

    assert _auto_scores(results) == {"s1": AUTO_MAX, "s2": AUTO_MAX - 2}
    [right] = [r for r in results if r.module == MODULE and r.participant == "s1"]
    assert right.score is not None and right.score.auto_max == AUTO_MAX


def test_the_source_grades_to_full_marks_and_the_release_to_zero(
    cohort: Workspace, tmp_path: Path
) -> None:
    put_submission(cohort, "s1", MODULE, "full")  # the source's answer cells, no answers file
    put_submission(cohort, "s2", MODULE, "blank")  # the release as it is
    assert not (cohort.folder("source") / MODULE / ANSWERS_FILE).exists()
    released = nbformat.read(cohort.folder("release") / MODULE / "checkpoint.ipynb", 4)
    text = "\n".join(c.source for c in released.cells)
    assert 'answer = "Line chart"' not in text and "check(" not in text  # answers stay hidden

    results = grade_session(cohort.root, "s1")

    assert _auto_scores(results) == {"s1": AUTO_MAX, "s2": 0.0}
