"""What makes a checkpoint fit Tandem's learners, checked cell by cell.

The learners are professionals, not programmers: a senior learns the tech modules, a
junior the management ones. So a checkpoint's points come only from questions answered
with controls (or by replacing one literal), each graded item says which of the module's
objectives it tests, and coding is an optional *stretch* that carries no points.

The rules, for every checkpoint notebook of a module:

* **Objectives.** Every graded cell (an autograded test cell or a written answer) names
  the one or two objectives it tests in its metadata, ``{"tandem": {"objectives":
  ["<objective id>"]}}``, each an objective id of the module in ``program.yml``; together
  they cover every objective of the module.
* **Core answer cells** (nbgrader solution code cells) ask exactly one question with a
  question kind of :mod:`tandem.questions`, and hold no function or class definition, loop,
  comprehension, lambda or import: the answer is one literal, ``answer = ...``.
* **Autograded test cells** only call ``answered``/``check`` on questions the notebook
  asks, so every point can be earned with the controls.
* **Stretch cells** (cell ids starting ``stretch-``) are neither graded nor solution cells,
  so nbgrader's totals, its feedback and Tandem's mastery equal the core.

:func:`checkpoint_problems` lists what breaks them; ``tandem validate`` prints them as
advice, and ``tandem validate --strict`` (the shipped curriculum's tests) refuses them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tandem.curriculum.manifest import Module, Program
from tandem.errors import NotebookError, TandemError

#: What nbgrader puts in place of a solution region (``ClearSolutions.code_stub``, set in
#: every cohort's nbgrader config): a core answer cell's ``answer = "..."`` is released
#: blank, and a learner without the controls types the answer in place of ``None``.
CODE_STUB = "answer = None  # YOUR ANSWER: use the controls below, or type it in place of None"
QUESTION_KINDS = frozenset({"choice", "number", "order", "categorise", "match"})
TEST_CALLS = frozenset({"answered", "check"})
STRETCH_PREFIX = "stretch-"
#: Constructs a core answer cell may not hold, with the words an author reads.
FORBIDDEN: dict[type[ast.AST], str] = {
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.For: "a loop",
    ast.AsyncFor: "a loop",
    ast.While: "a loop",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Lambda: "a lambda",
    ast.Import: "an import",
    ast.ImportFrom: "an import",
}


def objectives_of(cell: Any) -> list[str]:
    """The objective ids a graded cell says it tests (its ``tandem.objectives``)."""
    tagged = cell.get("metadata", {}).get("tandem", {}).get("objectives", [])
    return [str(t) for t in tagged] if isinstance(tagged, list) else []


def is_stretch(cell: Any) -> bool:
    return str(cell.get("id", "")).startswith(STRETCH_PREFIX)


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            yield node


def _first_arg(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def notebook_problems(path: Path, objective_ids: set[str]) -> tuple[list[TandemError], set[str]]:
    """The problems of one checkpoint notebook, and the objectives its graded items cover."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    problems: list[TandemError] = []
    covered: set[str] = set()
    asked: set[str] = set()
    checked: list[tuple[str, str]] = []  # (where, question id)

    def problem(message: str, where: str) -> None:
        problems.append(NotebookError(message, path=path, where=where))

    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        where = f"cell {index} ({meta.get('grade_id') or cell.get('id') or cell.cell_type})"
        if is_stretch(cell):
            if meta.get("grade") or meta.get("solution") or meta.get("points"):
                problem("a stretch cell must carry no points and not be a solution cell", where)
            continue
        if meta.get("grade"):
            tags = objectives_of(cell)
            if not 1 <= len(tags) <= 2:
                problem(
                    "a graded cell names the one or two objectives it tests in its metadata: "
                    '{"tandem": {"objectives": ["<objective id>"]}}',
                    where,
                )
            for tag in tags:
                if tag not in objective_ids:
                    problem(f"objective {tag!r} is not one of the module's objectives", where)
            covered.update(t for t in tags if t in objective_ids)
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source)
        if tree is None:
            problem("the cell is not valid Python", where)
            continue
        if meta.get("solution"):
            for node in ast.walk(tree):
                if type(node) in FORBIDDEN:
                    problem(
                        f"an answer cell holds {FORBIDDEN[type(node)]}: ask a question "
                        "instead, or make it a stretch- cell with no points",
                        where,
                    )
                    break
            kinds = [
                c
                for c in _calls(tree)
                if isinstance(c.func, ast.Name) and c.func.id in QUESTION_KINDS
            ]
            if len(kinds) != 1 or _first_arg(kinds[0]) is None:
                problem(
                    "an answer cell asks exactly one question (choice, number, order, "
                    "categorise or match) with a literal id",
                    where,
                )
            else:
                asked.add(str(_first_arg(kinds[0])))
        elif meta.get("grade"):
            statements = [s for s in tree.body]
            if not statements or not all(
                isinstance(s, ast.Expr)
                and isinstance(s.value, ast.Call)
                and isinstance(s.value.func, ast.Name)
                and s.value.func.id in TEST_CALLS
                for s in statements
            ):
                problem(
                    "an autograded test cell only calls answered()/check() on the "
                    "notebook's questions, so every point can be earned with the controls",
                    where,
                )
            for call in _calls(tree):
                if isinstance(call.func, ast.Name) and call.func.id == "check":
                    checked.append((where, _first_arg(call) or "?"))
    for where, question in checked:
        if question not in asked:
            problem(f"check({question!r}) names no question asked in an answer cell", where)
    return problems, covered


def checkpoint_problems(program: Program, module: Module) -> list[TandemError]:
    """Every way ``module``'s checkpoints break the rules above."""
    objective_ids = {o.id for o in module.objectives if o.id}
    problems: list[TandemError] = []
    covered: set[str] = set()
    for notebook in program.exercise_notebooks(module):
        found, tagged = notebook_problems(notebook, objective_ids)
        problems += found
        covered |= tagged
    if len(objective_ids) < len(module.objectives):
        problems.append(
            NotebookError(
                "every objective needs an id, so graded items can name it",
                path=program.manifest,
                where=f"module {module.id}: objectives",
            )
        )
    for missing in sorted(objective_ids - covered):
        problems.append(
            NotebookError(
                f"objective {missing!r} is tested by no graded item",
                path=program.exercise_dir(module),
                where=f"module {module.id}",
            )
        )
    return problems


def solution_answers(nb: Any) -> dict[str, Any]:
    """question id -> the correct answer, read from a source checkpoint's answer cells
    (``answer = <literal>`` in the solution region): what an answers file holds when a
    learner chose every right answer with the controls."""
    answers: dict[str, Any] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution") or is_stretch(cell):
            continue
        tree = _parse(cell.source)
        if tree is None:
            continue
        asked = [
            c for c in _calls(tree) if isinstance(c.func, ast.Name) and c.func.id in QUESTION_KINDS
        ]
        literal = [
            s.value
            for s in tree.body
            if isinstance(s, ast.Assign)
            and [getattr(t, "id", None) for t in s.targets] == ["answer"]
        ]
        if len(asked) == 1 and _first_arg(asked[0]) and literal:
            answers[str(_first_arg(asked[0]))] = ast.literal_eval(literal[-1])
    return answers
