"""The psychological-safety pulse: three short items each person answers after a session.

Adapted from Edmondson (1999); one item is reverse-scored. The answers are private to
their author: the widget keeps them in the author's own store and writes them to
``tandem_pulse.json`` in the assignment folder (never to the check-in, which the partner
sees), so ``nbgrader submit`` carries them to the facilitator's ``submitted/`` folder.
There Tandem reads them only to flag a pair (low safety, or the partners' views diverge)
and to publish suppressed aggregates by role: no raw answer is ever shown in a report,
a pair page, an export or another participant's notebook. The facilitator owns
``submitted/``, so the promise is "never shown", not "cannot be read".
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tandem.errors import TandemError
from tandem.fsutil import atomic_write_text

PULSE_FILE = "tandem_pulse.json"
MAX_PULSE_BYTES = 10_000

#: item id -> (statement, reverse-scored)
PULSE_ITEMS: dict[str, tuple[str, bool]] = {
    "could-say": ("I could say when I did not understand something.", False),
    "taken-seriously": ("My partner took my suggestions seriously.", False),
    "held-back": ("I held back a question or an idea for fear of how it would land.", True),
}


class Pulse(BaseModel):
    """One person's pulse for one session (answers 1-5 by item id)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    participant: str
    cohort: str
    session: str
    updated: str = ""
    answers: dict[str, int] = Field(default_factory=dict)

    @field_validator("answers")
    @classmethod
    def _items(cls, answers: dict[str, int]) -> dict[str, int]:
        for item, value in answers.items():
            if item not in PULSE_ITEMS:
                raise ValueError(f"unknown pulse item {item!r}")
            if not 1 <= value <= 5:
                raise ValueError(f"pulse answer {value} for {item!r} is outside 1-5")
        return answers

    @property
    def complete(self) -> bool:
        return set(self.answers) == set(PULSE_ITEMS)


def write_pulse(folder: Path, pulse: Pulse) -> None:
    """Write ``pulse`` to the assignment folder ``folder`` (atomically)."""
    pulse.updated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atomic_write_text(folder / PULSE_FILE, pulse.model_dump_json(indent=2))


def read_pulse(path: Path, *, participant: str) -> Pulse:
    """Read and validate a submitted pulse; raise TandemError naming the field (the
    message never quotes an answer)."""
    try:
        if path.stat().st_size > MAX_PULSE_BYTES:
            raise TandemError("pulse file over its size limit: not read", path=path)
        pulse = Pulse.model_validate_json(path.read_text("utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        raise TandemError("invalid pulse file", path=path, where=where) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TandemError(f"unreadable pulse file: {type(exc).__name__}", path=path) from None
    if pulse.participant != participant:
        raise TandemError(f"pulse file is not {participant}'s", path=path)
    return pulse
