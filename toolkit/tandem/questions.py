"""Question kinds for checkpoint notebooks: ``from tandem.questions import choice, check``.

A stable name for :mod:`tandem.notebook.questions` (see ``docs/authoring-modules.md``,
*Question kinds*); released checkpoints import it, so it stays."""

from __future__ import annotations

from tandem.notebook.questions import (
    ANSWERS_FILE,
    answer_of,
    answered,
    categorise,
    check,
    choice,
    match,
    number,
    order,
)

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
