"""Checkpoint questions a learner answers by clicking and typing, graded by nbgrader.

Kinds: :func:`choice` (one option, or several with ``multiple=True``), :func:`number`,
:func:`order` (put items in order), :func:`categorise` (sort items into categories) and
:func:`match` (pair each item with one of a second list). An answer cell is an nbgrader
*solution* cell whose solution region is one literal, ``answer = ...``; Tandem's course
config makes nbgrader release it as ``answer = None`` (``checkpoint_rules.CODE_STUB``), so
the release starts blank and a learner without the controls can still type the answer in
place of ``None``::

    ### BEGIN SOLUTION
    answer = "Line chart"
    ### END SOLUTION
    choice("q1", "Which chart shows a trend best?", ["Bar chart", "Line chart", "Pie chart"],
           answer=answer)

The call shows the question's controls and returns the current answer. A graded test
cell checks it, the expected value inside the hidden tests::

    answered("q1")
    ### BEGIN HIDDEN TESTS
    check("q1", "Line chart")
    ### END HIDDEN TESTS

Where answers live: every change is written (atomically) to ``tandem_answers.json`` in the
notebook's folder, the assignment folder, so ``nbgrader submit`` carries it, and it is
read back when the cell runs again (reopened notebook, restarted kernel). Widget state
plays no part: collect strips it and nbgrader's autograde re-executes the notebook, which
reads the same file. Under autograde (``NBGRADER_EXECUTION``) nothing is written. Outside
a cohort (no ``tandem_context.json`` beside the notebook, e.g. the author running the
source) nothing is written either, so an answers file never lands in ``source/``. A typed
answer counts when the controls hold no answer for that question. The file holds only
this learner's answers; the expected values live in the test cells, so editing it
changes only one's own answers, and a value that is not one of the question's options
counts as no answer.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as w
from filelock import FileLock

from tandem.errors import TandemError
from tandem.fsutil import atomic_write_text
from tandem.notebook.checkin import CONTEXT_FILE, participant_id

ANSWERS_FILE = "tandem_answers.json"
MAX_ANSWERS_BYTES = 200_000
BLANK = "—"
Answer = Any  # str | list[str] | float | dict[str, str] | None: plain JSON values

_QUESTIONS: dict[str, Question] = {}


def grading() -> bool:
    """Whether nbgrader's autograde (or validate) is running this notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


@dataclass
class AnswerBook:
    """``tandem_answers.json`` of one assignment folder: question id -> answer."""

    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / ANSWERS_FILE

    @property
    def writable(self) -> bool:
        """Only a learner's copy inside a cohort is written, never under autograde."""
        return not grading() and (self.folder / CONTEXT_FILE).is_file()

    def read(self) -> dict[str, Answer]:
        """The saved answers; a missing, oversized or damaged file holds none."""
        with contextlib.suppress(OSError, ValueError):
            if self.path.stat().st_size <= MAX_ANSWERS_BYTES:
                data = json.loads(self.path.read_text("utf-8"))
                answers = data.get("answers") if isinstance(data, dict) else None
                if isinstance(answers, dict):
                    return {str(k): v for k, v in answers.items()}
        return {}

    def save(self, question_id: str, value: Answer) -> None:
        if not self.writable:
            return
        with FileLock(str(self.folder / f".{ANSWERS_FILE}.lock"), timeout=30):
            answers = self.read()
            if value is None:
                answers.pop(question_id, None)
            else:
                answers[question_id] = value
            data = {"schema_version": 1, "participant": participant_id(), "answers": answers}
            atomic_write_text(self.path, json.dumps(data, indent=2, ensure_ascii=False))


@dataclass
class Question:
    """One question: its kind, what it offers, and the learner's current answer."""

    kind: str
    id: str
    prompt: str
    options: list[str] = field(default_factory=list)  # choices, items to order or sort
    targets: list[str] = field(default_factory=list)  # categories, or the right-hand list
    multiple: bool = False
    value: Answer = None
    book: AnswerBook | None = None
    error: str = ""

    def clean(self, value: Answer) -> Answer:
        """``value`` if it is a well-formed answer to this question, else None."""
        if value is None:
            return None
        if self.kind == "choice":
            if self.multiple:
                ok = isinstance(value, list) and all(v in self.options for v in value)
                return sorted(set(value), key=self.options.index) if ok else None
            return value if isinstance(value, str) and value in self.options else None
        if self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return float(value) if math.isfinite(value) else None
        if self.kind == "order":
            ok = isinstance(value, list) and len(value) == len(self.options)
            return value if ok and all(v is None or v in self.options for v in value) else None
        if isinstance(value, dict) and all(
            k in self.options and v in self.targets for k, v in value.items()
        ):
            return dict(value)
        return None

    def set(self, value: Answer) -> None:
        """The learner changed the answer: keep it and write it to the answers file."""
        self.value = self.clean(value)
        if self.book is not None:
            try:
                self.book.save(self.id, self.value)
                self.error = ""
            except (OSError, TandemError, TimeoutError) as exc:
                self.error = str(exc)

    def text(self) -> str:
        """The plain-text form (for nbval, autograde and feedback: no browser)."""
        lines = [f"[{self.id}] {self.prompt}"]
        if self.kind == "choice":
            lines += [f"  - {o}" for o in self.options]
        elif self.kind == "order":
            lines.append("  Put in order: " + "; ".join(self.options))
        elif self.kind in ("categorise", "match"):
            lines.append("  Items: " + "; ".join(self.options))
            lines.append("  Into: " + "; ".join(self.targets))
        shown = "(no answer yet)" if self.value is None else json.dumps(self.value)
        return "\n".join([*lines, f"  Your answer: {shown}"])


class QuestionPanel(w.VBox):  # type: ignore[misc]
    """The controls of a question; its plain-text form is the question as text."""

    def __init__(self, question: Question, children: list[w.Widget]) -> None:
        super().__init__(children)
        self.question = question
        self.add_class("tandem-question")
        self.add_class(f"tandem-question-{question.kind}")

    def __repr__(self) -> str:
        return self.question.text()


def _status(question: Question) -> tuple[w.HTML, Callable[[], None]]:
    status = w.HTML(value="")
    status.add_class("tandem-status")

    def show() -> None:
        if question.error:
            reason = html.escape(question.error)
            status.value = f"<span style='color:#b42318'><b>NOT SAVED:</b> {reason}</span>"
        elif question.book is not None and question.book.writable:
            status.value = "<span style='color:#2f6f5e'>Saved</span>"
        else:
            status.value = "<small>Outside a cohort: answers are not saved.</small>"

    return status, show


def _choice_controls(q: Question, changed: Callable[[Answer], None]) -> list[w.Widget]:
    if q.multiple:
        boxes = [
            w.Checkbox(value=o in (q.value or []), description=o, indent=False) for o in q.options
        ]

        def picked(_: Any) -> None:
            changed([o for o, box in zip(q.options, boxes, strict=True) if box.value])

        for box in boxes:
            box.observe(picked, names="value")
        return boxes
    radio = w.RadioButtons(options=q.options, index=None, layout=w.Layout(width="max-content"))
    if q.value is not None:
        radio.value = q.value
    radio.observe(lambda change: changed(change["new"]), names="value")
    return [radio]


def _number_control(q: Question, changed: Callable[[Answer], None]) -> list[w.Widget]:
    box = w.Text(value="" if q.value is None else f"{q.value:g}", placeholder="Type a number")
    box.add_class("tandem-number")
    note = w.HTML("")

    def typed(change: dict[str, Any]) -> None:
        text = str(change["new"]).strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            value: float | None = float(text) if text else None
        except ValueError:
            note.value = "<small>Not a number yet: type digits, e.g. 12.5</small>"
            return
        note.value = ""
        changed(value)

    box.observe(typed, names="value")
    return [box, note]


def _dropdown(label: str, options: Sequence[str], value: str | None) -> w.Dropdown:
    menu = w.Dropdown(
        options=[(BLANK, None), *[(o, o) for o in options]],
        value=value if value in options else None,
        description=label,
        style={"description_width": "initial"},
    )
    menu.add_class("tandem-slot")
    return menu


def _order_controls(q: Question, changed: Callable[[Answer], None]) -> list[w.Widget]:
    current = q.value or [None] * len(q.options)
    menus = [_dropdown(f"{i + 1}.", q.options, v) for i, v in enumerate(current)]

    def picked(_: Any) -> None:
        chosen = [m.value for m in menus]
        changed(None if all(v is None for v in chosen) else chosen)

    for menu in menus:
        menu.observe(picked, names="value")
    return menus


def _sort_controls(q: Question, changed: Callable[[Answer], None]) -> list[w.Widget]:
    current = q.value or {}
    menus = {item: _dropdown(item, q.targets, current.get(item)) for item in q.options}

    def picked(_: Any) -> None:
        chosen = {item: m.value for item, m in menus.items() if m.value is not None}
        changed(chosen or None)

    for menu in menus.values():
        menu.observe(picked, names="value")
    return list(menus.values())


CONTROLS = {
    "choice": _choice_controls,
    "number": _number_control,
    "order": _order_controls,
    "categorise": _sort_controls,
    "match": _sort_controls,
}


def ask(question: Question, typed: Answer = None) -> Answer:
    """Register and show ``question``; return its answer: the saved one, else ``typed``.

    The question kinds return nothing, so a cell ending with one shows only the controls;
    :func:`answer_of` reads the answer."""
    if not question.id or not question.id.replace("-", "").replace("_", "").isalnum():
        raise TandemError(f"question id {question.id!r} must be letters, digits, '-' or '_'")
    book = AnswerBook(Path.cwd())
    question.book = book
    saved = question.clean(book.read().get(question.id))
    question.value = saved if saved is not None else question.clean(typed)
    _QUESTIONS[question.id] = question
    _show(question)
    return question.value


def _show(question: Question) -> None:
    from IPython.display import display

    if grading():
        print(question.text())
        return
    status, show = _status(question)

    def changed(value: Answer) -> None:
        question.set(value)
        show()

    prompt = w.HTML(f"<b>{html.escape(question.prompt)}</b>")
    display(QuestionPanel(question, [prompt, *CONTROLS[question.kind](question, changed), status]))  # type: ignore[no-untyped-call]


def choice(
    question_id: str,
    prompt: str,
    options: Sequence[str],
    *,
    multiple: bool = False,
    answer: Answer = None,
) -> None:
    """One option (``multiple=True``: any number of them) out of ``options``; ``answer``
    is the typed fallback (``None``: none), used when the controls hold no answer."""
    ask(Question("choice", question_id, prompt, list(options), multiple=multiple), answer)


def number(question_id: str, prompt: str, *, answer: Answer = None) -> None:
    """A number, typed; :func:`check` compares it within a tolerance."""
    ask(Question("number", question_id, prompt), answer)


def order(question_id: str, prompt: str, items: Sequence[str], *, answer: Answer = None) -> None:
    """``items`` put in order: the answer is the list, first to last."""
    ask(Question("order", question_id, prompt, list(items)), answer)


def categorise(
    question_id: str,
    prompt: str,
    items: Sequence[str],
    categories: Sequence[str],
    *,
    answer: Answer = None,
) -> None:
    """Each item sorted into one of ``categories``: the answer maps item -> category."""
    ask(Question("categorise", question_id, prompt, list(items), list(categories)), answer)


def match(
    question_id: str,
    prompt: str,
    items: Sequence[str],
    partners: Sequence[str],
    *,
    answer: Answer = None,
) -> None:
    """Each item paired with one of ``partners``: the answer maps item -> partner."""
    ask(Question("match", question_id, prompt, list(items), list(partners)), answer)


def answer_of(question_id: str) -> Answer:
    """The current answer to a question whose cell has run (AssertionError otherwise)."""
    question = _QUESTIONS.get(question_id)
    if question is None:
        raise AssertionError(f"{question_id}: the question's cell has not run: run it first")
    return question.value


def answered(question_id: str) -> None:
    """A visible test: the learner has given an answer (says nothing about which).

    In the learner's own kernel an unanswered question is a printed reminder, not an
    error, so *Run All* goes on to the next questions; under nbgrader it fails."""
    if answer_of(question_id) is None:
        if not grading():
            print(f"{question_id}: not answered yet. Choose or type your answer above.")
            return
        raise AssertionError(f"{question_id}: not answered yet")


def check(question_id: str, expected: Answer, *, tolerance: float = 0.0) -> None:
    """A (hidden) test: the answer is ``expected``. Choices of a ``multiple`` question
    compare as sets; numbers within ``tolerance``. The message never shows ``expected``."""
    value = answer_of(question_id)
    question = _QUESTIONS[question_id]
    if value is None:
        raise AssertionError(f"{question_id}: not answered yet")
    if question.kind == "number":
        right = abs(float(value) - float(expected)) <= tolerance
    elif question.kind == "choice" and question.multiple:
        right = set(value) == set(expected)
    else:
        right = value == expected
    if not right:
        raise AssertionError(f"{question_id}: not the right answer")


__all__ = [
    "ANSWERS_FILE",
    "answer_of",
    "answered",
    "categorise",
    "check",
    "choice",
    "match",
    "number",
    "order",
]
