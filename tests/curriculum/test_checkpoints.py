"""Every shipped checkpoint keeps the authoring rules of
:mod:`tandem.curriculum.checkpoint_rules`: each objective tested by a tagged item, every
point earned with the controls, coding only as stretch items without points."""

from __future__ import annotations

import nbformat
import pytest

from tandem.curriculum.checkpoint_rules import checkpoint_problems, objectives_of, solution_answers

from ..conftest import MANIFEST
from ..curriculum.test_exercises import MODULES, PROGRAM


@pytest.mark.parametrize("module", MODULES)
def test_the_checkpoint_keeps_the_authoring_rules(module: str) -> None:
    problems = checkpoint_problems(PROGRAM, PROGRAM.module(module))
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("module", MODULES)
def test_every_item_names_what_it_tests_and_every_question_has_a_right_answer(
    module: str,
) -> None:
    spec = PROGRAM.module(module)
    (path,) = PROGRAM.exercise_notebooks(spec)
    nb = nbformat.read(path, as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    tagged = {t for c in graded for t in objectives_of(c)}
    assert tagged == {o.id for o in spec.objectives}
    answers = solution_answers(nb)
    asked = {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }
    assert len(answers) == len(asked) >= 4, "every core question has a literal right answer"
    points = sum(c.metadata["nbgrader"]["points"] for c in graded)
    stretch = [c for c in nb.cells if str(c.get("id", "")).startswith("stretch-")]
    assert points >= 8 and all(
        "nbgrader" not in c.metadata or not c.metadata["nbgrader"].get("grade") for c in stretch
    )


def test_validate_strict_accepts_the_shipped_curriculum(capsys: pytest.CaptureFixture[str]) -> None:
    from ..factories import run_cli

    code, out, err = run_cli(["validate", "--strict", str(MANIFEST)], capsys)
    assert code == 0, err
    assert "advice" not in out
