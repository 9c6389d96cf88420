"""Who is writing, in which cohort and module, and the check-in file that travels with them.

* Identity: ``$TANDEM_PARTICIPANT``, else ``$JUPYTERHUB_USER``, else the OS user.
* Context: release writes ``tandem_context.json`` into each module's folder; the widgets
  read it from the notebook's folder (the kernel's working directory).
* Check-in: ``tandem_checkin.json`` beside it holds what the participant shares with
  their partner and facilitator (ratings, feedback, completion, and reflection text they
  marked *share*); ``nbgrader submit`` carries it. Private text never goes here.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tandem.errors import TandemError
from tandem.fsutil import atomic_write_text

CONTEXT_FILE = "tandem_context.json"
CHECKIN_FILE = "tandem_checkin.json"
#: Beside the context file: the programme's sessions, modules and due dates, cohort-wide
#: (no participant in it), written by ``tandem release``; read by "My programme".
PROGRAMME_FILE = "tandem_programme.json"
MAX_CHECKIN_BYTES = 1_000_000
"""A check-in holds ratings and a few shared paragraphs: a larger file is refused when
read (a 120 MB one once made a 121 MB pair page)."""

Rating = Field(ge=1, le=5)


def participant_id() -> str:
    """The participant at the keyboard (see the module docstring for the precedence)."""
    for variable in ("TANDEM_PARTICIPANT", "JUPYTERHUB_USER"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    return getpass.getuser()


class Member(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    pair: str
    partner: str
    leads: str


class Context(BaseModel):
    """The contents of ``tandem_context.json``."""

    model_config = ConfigDict(frozen=True)

    cohort: str
    course_id: str
    module: str
    title: str
    track: str
    lead: str
    learner: str
    competencies: list[str]
    competency_titles: dict[str, str] = Field(default_factory=dict)
    participants: dict[str, Member]
    folder: Path = Field(default=Path("."), exclude=True)

    def member(self, participant: str) -> Member | None:
        return self.participants.get(participant)


def load_context(folder: Path | None = None) -> Context | None:
    """The context of the assignment folder ``folder`` (default: the working directory)."""
    base = Path(folder) if folder is not None else Path.cwd()
    path = base / CONTEXT_FILE
    if not path.is_file():
        return None
    try:
        return Context.model_validate({**json.loads(path.read_text("utf-8")), "folder": base})
    except (ValueError, ValidationError) as exc:
        raise TandemError(f"unreadable context file: {exc}".splitlines()[0], path=path) from None


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clarity: int | None = Field(default=None, ge=1, le=5)
    relevance: int | None = Field(default=None, ge=1, le=5)
    pace: int | None = Field(default=None, ge=1, le=5)
    comment: str = ""


class LeadFeedback(BaseModel):
    """The lead's structured feedback to the learner (Situation-Behaviour-Impact, as m3
    teaches): what went well, and one thing to try next. It reaches the learner in the
    feedback ``tandem feedback`` releases to them; the facilitator is shown only that it
    was given, unless the lead offered it (``share_with_facilitator``) *and* the learner
    agreed (the learner's :attr:`CheckIn.feedback_consent`)."""

    model_config = ConfigDict(extra="forbid")

    situation: str = ""
    behaviour: str = ""
    impact: str = ""
    try_next: str = ""
    share_with_facilitator: bool = False

    @property
    def given(self) -> bool:
        return any(t.strip() for t in (self.situation, self.behaviour, self.impact, self.try_next))


#: The themes an improvement idea is filed under (reports count ideas by theme).
IDEA_THEMES = (
    "customers and service",
    "operations and logistics",
    "communication and collaboration",
    "tools, data and automation",
    "people and ways of working",
    "safety and security",
)


class Idea(BaseModel):
    """An improvement idea for "how we've always done it", recorded by one partner (the
    direction is the recorder's role). ``id`` is made once by the widget
    (``idea-`` + 8 hex digits) and never changes, so the facilitator's status records
    (``tandem ideas set``) keep pointing at it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^idea-[0-9a-f]{8}$")
    title: str = Field(min_length=1, max_length=200)
    process: str = Field(default="", max_length=2000)
    benefit: str = Field(default="", max_length=2000)
    owner: str = Field(default="", max_length=200)
    theme: str = IDEA_THEMES[0]

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str) -> str:
        if value not in IDEA_THEMES:
            raise ValueError(f"theme {value!r} is not one of: {', '.join(IDEA_THEMES)}")
        return value


class FollowUp(BaseModel):
    """A participant's answers to the follow-up three months on (Kirkpatrick level 3):
    how often they still use what their partner taught them, how often they see their
    partner use what they taught, 1-5 (1 = never, 5 = every week), and one example in
    their own words (shared with the partner and facilitator, like the check-in)."""

    model_config = ConfigDict(extra="forbid")

    still_use: int | None = Field(default=None, ge=1, le=5)
    partner_uses: int | None = Field(default=None, ge=1, le=5)
    example: str = Field(default="", max_length=5000)


class CheckIn(BaseModel):
    """What a participant shares for one module. Validated when read from submissions.

    The learner writes ``self_assessment``, ``feedback`` (on the lead's teaching) and
    ``feedback_consent``; the lead writes ``partner_rating`` (the lead's 1-5 ratings of the
    learner on the module's competencies, before and after, same anchors as the
    self-assessment) and ``lead_feedback``. Either partner may record ``ideas``; the
    check-in of the follow-up module holds ``followup``. The safety pulse never travels
    here: the partner sees check-ins (:mod:`tandem.notebook.pulse`)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    participant: str
    cohort: str
    module: str
    updated: str = ""
    self_assessment: dict[str, dict[str, int]] = Field(default_factory=dict)
    feedback: Feedback | None = None
    shared_reflections: dict[str, str] = Field(default_factory=dict)
    answered: list[str] = Field(default_factory=list)
    partner_rating: dict[str, dict[str, int]] = Field(default_factory=dict)
    lead_feedback: LeadFeedback | None = None
    feedback_consent: bool = False
    ideas: list[Idea] = Field(default_factory=list)
    followup: FollowUp | None = None

    def model_post_init(self, context: Any, /) -> None:
        for field in ("self_assessment", "partner_rating"):
            for moment, ratings in getattr(self, field).items():
                if moment not in ("before", "after"):
                    raise ValueError(f"{field} moment {moment!r} is not before/after")
                for competency, rating in ratings.items():
                    if not 1 <= rating <= 5:
                        raise ValueError(f"rating {rating} for {competency!r} is outside 1-5")


def update_checkin(
    folder: Path, participant: str, cohort: str, module: str, change: Callable[[CheckIn], None]
) -> CheckIn:
    """Apply ``change`` to the check-in in ``folder`` under a lock; write it atomically."""
    path = folder / CHECKIN_FILE
    with FileLock(str(folder / f".{CHECKIN_FILE}.lock"), timeout=30):
        checkin = CheckIn(participant=participant, cohort=cohort, module=module)
        if path.is_file() and path.stat().st_size <= MAX_CHECKIN_BYTES:
            # A damaged (or oversized) check-in is rebuilt from what this widget knows.
            with contextlib.suppress(ValueError, ValidationError):
                checkin = CheckIn.model_validate_json(path.read_text("utf-8"))
        change(checkin)
        checkin.updated = datetime.now(timezone.utc).isoformat(timespec="seconds")
        atomic_write_text(path, checkin.model_dump_json(indent=2))
    return checkin


def read_checkin(path: Path, *, participant: str, module: str) -> CheckIn:
    """Read and validate a submitted check-in; raise TandemError naming the field."""
    try:
        size = path.stat().st_size
        if size > MAX_CHECKIN_BYTES:
            raise TandemError(
                f"check-in of {size:,} bytes is over the limit of {MAX_CHECKIN_BYTES:,}: "
                "not read (ask the participant to shorten what they shared)",
                path=path,
            )
        checkin = CheckIn.model_validate_json(path.read_text("utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        raise TandemError(
            first["msg"].removeprefix("Value error, "), path=path, where=where
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TandemError(f"unreadable check-in: {exc}", path=path) from None
    if checkin.participant != participant or checkin.module != module:
        raise TandemError(
            f"check-in is for {checkin.participant}/{checkin.module}, "
            f"found in {participant}/{module}",
            path=path,
        )
    return checkin
