"""The authoring rules refuse each way a checkpoint can slip back to asking for code, or
stop saying what it tests; a checkpoint that keeps them passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

from tandem.curriculum.checkpoint_rules import notebook_problems, solution_answers

OBJECTIVES = {"read-chart", "judge"}

QUESTION = """### BEGIN SOLUTION
answer = "Line chart"
### END SOLUTION
choice("q1", "Which chart?", ["Bar chart", "Line chart"], answer=answer)"""
TEST = """answered("q1")
### BEGIN HIDDEN TESTS
check("q1", "Line chart")
### END HIDDEN TESTS"""


def _nb(*cells: Any) -> Any:
    return v4.new_notebook(cells=list(cells))


def _answer(source: str = QUESTION, grade_id: str = "q1") -> Any:
    cell = v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                 "schema_version": 3, "solution": True}  # fmt: skip
    return cell


def _test(source: str = TEST, tags: list[str] | None = None, grade_id: str = "test_q1") -> Any:
    cell = v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True,
                                 "points": 2, "schema_version": 3, "solution": False}  # fmt: skip
    cell.metadata["tandem"] = {"objectives": ["read-chart"] if tags is None else tags}
    return cell


def _written(tags: list[str]) -> Any:
    cell = v4.new_markdown_cell("A model answer.")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "written", "locked": False,
                                 "points": 2, "schema_version": 3, "solution": True}  # fmt: skip
    cell.metadata["tandem"] = {"objectives": tags}
    return cell


def _problems(tmp_path: Path, nb: Any) -> tuple[list[str], set[str]]:
    path = tmp_path / "checkpoint.ipynb"
    nbformat.write(nb, path)
    problems, covered = notebook_problems(path, OBJECTIVES)
    return [str(p) for p in problems], covered


def test_a_checkpoint_that_keeps_the_rules_passes_and_covers_its_tags(tmp_path: Path) -> None:
    stretch = v4.new_code_cell("def rate(a, b):\n    return None", id="stretch-answer")
    nb = _nb(_answer(), _test(), _written(["judge"]), stretch)
    assert _problems(tmp_path, nb) == ([], {"read-chart", "judge"})
    assert solution_answers(nb) == {"q1": "Line chart"}


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            "@choice('q1', 'Which?', ['A'])\ndef answer_1():\n    return 'A'",
            "a function definition",
        ),
        ("import math\nanswer = math.pi\nnumber('q1', 'Pi?', answer=answer)", "an import"),
        ("answer = [x for x in 'ab']\nchoice('q1', 'x', ['a'], answer=answer)", "a comprehension"),
        ("for x in 'ab':\n    pass\nchoice('q1', 'x', ['a'], answer=None)", "a loop"),
        ("f = lambda: 'a'\nchoice('q1', 'x', ['a'], answer=f())", "a lambda"),
        ("class A:\n    pass\nchoice('q1', 'x', ['a'], answer=None)", "a class definition"),
        ("answer = 'a'", "asks exactly one question"),
        ("choice(qid, 'x', ['a'], answer=None)", "asks exactly one question"),
    ],
)
def test_an_answer_cell_that_needs_code_is_refused(tmp_path: Path, answer: str, said: str) -> None:
    problems, _ = _problems(tmp_path, _nb(_answer(answer), _test(), _written(["judge"])))
    assert any(said in p for p in problems), problems
    assert all("checkpoint.ipynb (cell 0 (q1))" in p for p in problems if said in p)


def test_a_test_cell_that_runs_the_learners_code_is_refused(tmp_path: Path) -> None:
    code_test = _test("assert double(2) == 4\ncheck('q1', 'Line chart')")
    problems, _ = _problems(tmp_path, _nb(_answer(), code_test, _written(["judge"])))
    assert any("only calls answered()/check()" in p for p in problems)
    unknown = _test("check('q9', 'A')")
    problems, _ = _problems(tmp_path, _nb(_answer(), unknown, _written(["judge"])))
    assert any("check('q9') names no question asked" in p for p in problems)


@pytest.mark.parametrize(
    ("tags", "said"),
    [
        ([], "names the one or two objectives it tests"),
        (["read-chart", "judge", "read-chart"], "names the one or two objectives it tests"),
        (["read-charts"], "objective 'read-charts' is not one of the module's objectives"),
    ],
)
def test_a_graded_item_must_name_what_it_tests(tmp_path: Path, tags: list[str], said: str) -> None:
    problems, covered = _problems(tmp_path, _nb(_answer(), _test(tags=tags), _written(["judge"])))
    assert any(said in p for p in problems), problems
    assert "read-charts" not in covered


def test_a_stretch_item_with_points_is_refused(tmp_path: Path) -> None:
    stretch = _test(grade_id="stretch_points")
    stretch.id = "stretch-check"
    problems, _ = _problems(tmp_path, _nb(_answer(), _test(), _written(["judge"]), stretch))
    assert problems == [
        f"{tmp_path / 'checkpoint.ipynb'} (cell 3 (stretch_points)): a stretch cell must carry "
        "no points and not be a solution cell"
    ]
