"""Improvement ideas and what became of them: the ideas participants recorded in their
check-ins, and the facilitator's outcome records in the workspace file ``ideas.yml``.

An idea (:class:`tandem.notebook.checkin.Idea`) travels in its author's check-in of a
module; its id (``idea-`` + 8 hex digits) is made once by the widget and never changes.
``ideas.yml`` maps an idea id to the facilitator's record::

    idea-0a1b2c3d:
      status: adopted          # trialled | adopted | declined
      note: Rolled out to the Leeds depot in May
      updated: '2027-06-01T09:30:00+00:00'
      history:                 # the records it replaced, oldest first (at most 5)
      - {status: trialled, note: One site for a month, updated: '2027-05-02T10:00:00+00:00'}

An idea without a record is "raised". A record is written under the workspace's lock and
replaced atomically; setting a status again replaces the record and keeps the one it
replaced in ``history``. A damaged ``ideas.yml`` is an error naming its line, never reset.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tandem.cohort.exchange import read_checkins
from tandem.cohort.workspace import Cohort, Workspace
from tandem.errors import CohortError, TandemError, UsageError
from tandem.fsutil import atomic_write_text
from tandem.notebook.checkin import Idea

IDEAS_FILE = "ideas.yml"
#: The outcomes a facilitator records; an idea without a record is :data:`RAISED`.
IDEA_STATUSES = ("trialled", "adopted", "declined")
RAISED = "raised"
HISTORY_KEPT = 5
MAX_NOTE = 2000


class PastRecord(BaseModel):
    """A record that a later ``tandem ideas set`` replaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["trialled", "adopted", "declined"]
    note: str = Field(default="", max_length=MAX_NOTE)
    updated: str = ""


class IdeaRecord(PastRecord):
    """The facilitator's record of one idea in ``ideas.yml``."""

    history: tuple[PastRecord, ...] = ()


@dataclass(frozen=True)
class IdeaRow:
    """One idea as listed: who raised it, where, and what became of it."""

    idea: Idea
    participant: str
    role: str
    pair_id: str
    module_id: str
    status: str = RAISED
    note: str = ""
    updated: str = ""
    history: tuple[PastRecord, ...] = ()

    @property
    def direction(self) -> str:
        """Who the idea came from: "from the junior" (fresh eyes) or "from the senior"."""
        return f"from the {self.role}"

    def as_json(self) -> dict[str, Any]:
        return {
            **self.idea.model_dump(mode="json"),
            "participant": self.participant,
            "role": self.role,
            "direction": self.direction,
            "pair": self.pair_id,
            "module": self.module_id,
            "status": self.status,
            "note": self.note,
            "updated": self.updated,
            "history": [r.model_dump(mode="json") for r in self.history],
        }


@dataclass
class IdeaList:
    """Every idea of the collected check-ins, and the check-ins that were skipped."""

    rows: list[IdeaRow] = field(default_factory=list)
    problems: list[TandemError] = field(default_factory=list)


def _workspace(ws: Workspace | Path | str) -> Workspace:
    return ws if isinstance(ws, Workspace) else Workspace(ws)


def ideas_path(ws: Workspace | Path | str) -> Path:
    return _workspace(ws).root / IDEAS_FILE


def _line_of(text: str, idea_id: str) -> int | None:
    """The line of ``idea_id``'s entry in ``ideas.yml`` (1-based), if it can be found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if getattr(key, "value", None) == idea_id:
                return int(key.start_mark.line) + 1
    return None


def load_records(ws: Workspace | Path | str) -> dict[str, IdeaRecord]:
    """The facilitator's records, by idea id; a damaged file raises, naming its line."""
    path = ideas_path(ws)
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CohortError(
            f"not valid YAML: {problem}; fix or restore the file (it is never reset)",
            path=path,
            where=where,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CohortError(f"cannot read the idea records: {exc}", path=path) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CohortError(
            "expected a mapping of idea id -> {status, note, updated}", path=path, where="line 1"
        )
    records: dict[str, IdeaRecord] = {}
    for idea_id, value in raw.items():
        try:
            records[str(idea_id)] = IdeaRecord.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            fields = ".".join(str(p) for p in first["loc"])
            line = _line_of(text, str(idea_id))
            where = f"line {line}, {idea_id}" if line else str(idea_id)
            raise CohortError(
                f"{fields or 'record'}: {first['msg']}", path=path, where=where
            ) from None
    return records


def _save_records(ws: Workspace, records: dict[str, IdeaRecord]) -> None:
    data = {}
    for idea_id, record in records.items():
        entry = record.model_dump(mode="json")
        if not entry["history"]:
            del entry["history"]
        data[idea_id] = entry
    atomic_write_text(
        ideas_path(ws), yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )


def _released_modules(ws: Workspace, cohort: Cohort) -> list[str]:
    program = ws.program(cohort)
    modules = [m.id for s in program.sessions if s.id in cohort.released for m in s.modules]
    followup = getattr(program, "followup", None)  # the follow-up module, where it exists
    if followup is not None and followup.id not in modules:
        modules.append(followup.id)
    return modules


def _pair_id(cohort: Cohort, participant: str) -> str:
    pair = cohort.pair_of(participant) or next(
        (p for p in reversed(cohort.former_pairs) if participant in p.members), None
    )
    return pair.id if pair is not None else ""


def read_ideas(ws: Workspace | Path | str) -> IdeaList:
    """Every idea in every collected check-in of the released modules, with its status.

    Rows are in programme order of the modules, then by pair, participant and the order
    the participant recorded them. An idea id seen twice (a copied check-in) is listed
    once, where it first appears. Unreadable check-ins are skipped and reported."""
    ws = _workspace(ws)
    cohort = ws.load()
    records = load_records(ws)
    roles = {p.id: p.role for p in cohort.participants}
    found: list[tuple[int, str, str, int, IdeaRow]] = []
    result = IdeaList()
    for index, module_id in enumerate(_released_modules(ws, cohort)):
        checkins, problems = read_checkins(ws, cohort, module_id)
        result.problems += problems
        for participant, checkin in checkins.items():
            pair_id = _pair_id(cohort, participant)
            for position, idea in enumerate(checkin.ideas):
                record = records.get(idea.id)
                row = IdeaRow(
                    idea=idea,
                    participant=participant,
                    role=str(roles.get(participant, "")),
                    pair_id=pair_id,
                    module_id=module_id,
                    status=record.status if record else RAISED,
                    note=record.note if record else "",
                    updated=record.updated if record else "",
                    history=record.history if record else (),
                )
                found.append((index, pair_id, participant, position, row))
    seen: set[str] = set()
    for *_, row in sorted(found, key=lambda item: item[:4]):
        if row.idea.id not in seen:
            seen.add(row.idea.id)
            result.rows.append(row)
    return result


def list_ideas(ws: Workspace | Path | str) -> list[IdeaRow]:
    """Every idea of the collected check-ins with its status (see :func:`read_ideas`)."""
    return read_ideas(ws).rows


def _unknown_idea(idea_id: str, rows: Iterable[IdeaRow]) -> CohortError:
    known = [r.idea.id for r in rows]
    if not known:
        return CohortError(
            f"no idea {idea_id!r}: no ideas in the collected check-ins yet "
            "(run 'tandem collect' first)"
        )
    close = difflib.get_close_matches(idea_id, known, n=3, cutoff=0.5)
    hint = (
        f"closest: {', '.join(close)}"
        if close
        else f"{len(known)} known; list them with 'tandem ideas'"
    )
    return CohortError(f"no idea {idea_id!r} in the collected check-ins ({hint})")


def set_status(
    ws: Workspace | Path | str, idea_id: str, status: str, note: str | None = None
) -> IdeaRow:
    """Record what became of an idea (trialled, adopted, declined) with an optional note.

    A record already there is replaced and kept in the new record's ``history`` (the
    returned row's ``history[-1]`` is the one replaced)."""
    if status not in IDEA_STATUSES:
        raise UsageError(
            f"status {status!r} is not one of: {', '.join(IDEA_STATUSES)} "
            f"(an idea without a record is {RAISED!r})",
            where="--status",
        )
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise UsageError(
            f"the note is {len(note):,} characters; the limit is {MAX_NOTE:,}", where="--note"
        )
    ws = _workspace(ws)
    with ws.locked():
        rows = list_ideas(ws)
        row = next((r for r in rows if r.idea.id == idea_id), None)
        if row is None:
            raise _unknown_idea(idea_id, rows)
        records = load_records(ws)
        previous = records.get(idea_id)
        history: tuple[PastRecord, ...] = ()
        if previous is not None:
            replaced = PastRecord(
                status=previous.status, note=previous.note, updated=previous.updated
            )
            history = (*previous.history, replaced)[-HISTORY_KEPT:]
        record = IdeaRecord(
            status=status,  # type: ignore[arg-type]  # checked above
            note=note,
            updated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            history=history,
        )
        records[idea_id] = record
        _save_records(ws, records)
    return IdeaRow(
        idea=row.idea,
        participant=row.participant,
        role=row.role,
        pair_id=row.pair_id,
        module_id=row.module_id,
        status=record.status,
        note=record.note,
        updated=record.updated,
        history=record.history,
    )


def forget_records(ws: Workspace | Path | str, idea_ids: Iterable[str]) -> list[str]:
    """Remove the records of ``idea_ids`` from ``ideas.yml`` (a participant's erasure);
    return the ids whose records were removed."""
    ws = _workspace(ws)
    wanted = set(idea_ids)
    with ws.locked():
        records = load_records(ws)
        gone = [i for i in records if i in wanted]
        if gone:
            _save_records(ws, {i: r for i, r in records.items() if i not in wanted})
    return gone


__all__ = [
    "IDEAS_FILE",
    "IDEA_STATUSES",
    "RAISED",
    "IdeaList",
    "IdeaRecord",
    "IdeaRow",
    "PastRecord",
    "forget_records",
    "ideas_path",
    "list_ideas",
    "load_records",
    "read_ideas",
    "set_status",
]
