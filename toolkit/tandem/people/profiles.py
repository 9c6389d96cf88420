"""What matching knows of each participant: a profile read from their roster row
(ratings ``rate_<competency>``, manager, ``avoid`` list, capacity, department, location).

Missing ratings count as neutral and are listed; malformed values are errors naming the
row and column. `docs/matching.md` documents the columns."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tandem.curriculum.manifest import Program, Role
from tandem.errors import RosterError
from tandem.people.roster import Participant

RATING_PREFIX = "rate_"
LOWEST_RATING, HIGHEST_RATING = 1, 5
NEUTRAL_RATING = 3
_SEPARATORS = re.compile(r"[;,\s]+")
_WHOLE = re.compile(r"[0-9]{1,4}")


@dataclass(frozen=True)
class MatchingProfile:
    """What matching knows of one participant, read from their roster row."""

    id: str
    name: str
    role: Role
    department: str
    ratings: Mapping[str, int]
    missing: tuple[str, ...]
    manager_id: str
    avoid: frozenset[str]
    capacity: int
    location: str = ""

    @property
    def department_key(self) -> str:
        return self.department.strip().casefold()


def _where(person: Participant, column: str) -> str:
    row = f"line {person.line}" if person.line else f"participant {person.id!r}"
    return f"{row}, field {column!r}"


def _rating_columns(
    people: Sequence[Participant], program: Program, source: Path | None
) -> dict[str, str]:
    """The roster's ``rate_`` columns and the competency each one rates."""
    known = [c.id for c in program.competencies]
    columns: dict[str, str] = {}
    for column in sorted({k for p in people for k in p.extra}):
        if not column.startswith(RATING_PREFIX):
            continue
        competency = column.removeprefix(RATING_PREFIX)
        if competency not in known:
            close = difflib.get_close_matches(competency, known, n=1)
            hint = f"did you mean {RATING_PREFIX}{close[0]}? " if close else ""
            raise RosterError(
                f"column {column!r} rates no competency of the programme "
                f"({hint}program.yml knows: {', '.join(known)})",
                path=source,
                where=f"header, field {column!r}",
            )
        columns[column] = competency
    return columns


def _rating(person: Participant, column: str, source: Path | None) -> int | None:
    value = person.extra.get(column, "").strip()
    if not value:
        return None
    if not _WHOLE.fullmatch(value) or not LOWEST_RATING <= int(value) <= HIGHEST_RATING:
        raise RosterError(
            f"rating {value!r} is not a whole number from {LOWEST_RATING} to {HIGHEST_RATING}",
            path=source,
            where=_where(person, column),
        )
    return int(value)


def _capacity(person: Participant, source: Path | None) -> int:
    value = person.extra.get("capacity", "").strip()
    if not value:
        return 1
    if not _WHOLE.fullmatch(value) or int(value) < 1:
        raise RosterError(
            f"capacity {value!r} is not a whole number of juniors (1 or more)",
            path=source,
            where=_where(person, "capacity"),
        )
    if person.role == "junior" and int(value) != 1:
        raise RosterError(
            "capacity is for seniors: a junior has one senior",
            path=source,
            where=_where(person, "capacity"),
        )
    return int(value)


def _referenced_ids(
    person: Participant, column: str, ids: set[str], source: Path | None, *, most: int = 0
) -> list[str]:
    """The ids named in ``column`` (separated by ';', ',' or spaces), all in the roster."""
    named = [v for v in _SEPARATORS.split(person.extra.get(column, "").strip()) if v]
    if most and len(named) > most:
        raise RosterError(
            f"give at most {most} id here, not {len(named)}",
            path=source,
            where=_where(person, column),
        )
    for other in named:
        if other == person.id:
            raise RosterError(
                f"{person.id!r} names themselves", path=source, where=_where(person, column)
            )
        if other not in ids:
            raise RosterError(
                f"{other!r} is not in the roster", path=source, where=_where(person, column)
            )
    return named


def read_profiles(
    participants: Iterable[Participant], program: Program, *, source: Path | str | None = None
) -> list[MatchingProfile]:
    """Read and check each participant's matching columns; return profiles sorted by id.

    A blank rating (or a competency with no ``rate_`` column) counts as
    :data:`NEUTRAL_RATING` and is listed in the profile's ``missing``.
    """
    path = Path(source) if source is not None else None
    people = sorted(participants, key=lambda p: p.id)
    for role in ("junior", "senior"):
        if not any(p.role == role for p in people):
            raise RosterError(
                f"the roster has no {role}s: matching needs at least one junior and one senior",
                path=path,
            )
    columns = _rating_columns(people, program, path)
    by_competency = {competency: column for column, competency in columns.items()}
    ids = {p.id for p in people}
    profiles = []
    for person in people:
        ratings: dict[str, int] = {}
        missing = []
        for competency in (c.id for c in program.competencies):
            column = by_competency.get(competency)
            value = _rating(person, column, path) if column else None
            if value is None:
                missing.append(competency)
            ratings[competency] = NEUTRAL_RATING if value is None else value
        managers = _referenced_ids(person, "manager_id", ids, path, most=1)
        profiles.append(
            MatchingProfile(
                id=person.id,
                name=person.name,
                role=person.role,
                department=person.department,
                ratings=ratings,
                missing=tuple(missing),
                manager_id=managers[0] if managers else "",
                avoid=frozenset(_referenced_ids(person, "avoid", ids, path)),
                capacity=_capacity(person, path),
                location=person.extra.get("location", ""),
            )
        )
    return profiles


# --- the rules ------------------------------------------------------------------------------
