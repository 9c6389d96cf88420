"""Matching juniors with seniors so that each can teach what the other needs.

The score of a junior J with a senior S, from their 1-5 self-ratings (``rate_<id>``)::

    sum over tech competencies c        of max(0, rating(J, c) - rating(S, c))   # J teaches S
  + sum over management competencies c  of max(0, rating(S, c) - rating(J, c))   # S teaches J

The assignment maximises, in order: the number of pairs; with ``same_department="avoid"``,
the number of pairs across departments; the total score. Hard rules (manager or direct
report, ``avoid``, ``same_department="forbid"``) are never broken. `docs/matching.md`
is the user's guide: columns, a worked example, rules, ties and reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from tandem.curriculum.manifest import Program, Role, load_program
from tandem.errors import RosterError
from tandem.fsutil import atomic_write_text
from tandem.people.profiles import (
    HIGHEST_RATING,
    LOWEST_RATING,
    RATING_PREFIX,
    MatchingProfile,
    read_profiles,
)
from tandem.people.roster import Pair, Participant, load_roster, pair_id

SameDepartment = Literal["allowed", "avoid", "forbid"]
SAME_DEPARTMENT_RULES: tuple[SameDepartment, ...] = get_args(SameDepartment)
PAIRS_HEADER = ("id", "junior", "senior", "score", "tech_points", "management_points")
_EXACT_LIMIT = 2**52  # weights stay exact integers in float64 below this
_LISTED = 5  # ids named in an unmatched reason before "and N more"


@dataclass(frozen=True)
class Teaching:
    """One competency one partner can teach the other."""

    competency: str
    teacher_rating: int
    learner_rating: int

    @property
    def points(self) -> int:
        return max(0, self.teacher_rating - self.learner_rating)


@dataclass(frozen=True)
class PairScore:
    """A pair and its score, broken down by what each partner teaches the other."""

    pair: Pair
    junior_teaches: tuple[Teaching, ...]
    senior_teaches: tuple[Teaching, ...]
    same_department: bool

    @property
    def tech_points(self) -> int:
        return sum(t.points for t in self.junior_teaches)

    @property
    def management_points(self) -> int:
        return sum(t.points for t in self.senior_teaches)

    @property
    def score(self) -> int:
        return self.tech_points + self.management_points


@dataclass(frozen=True)
class Unmatched:
    id: str
    role: Role
    reason: str


@dataclass(frozen=True)
class MatchResult:
    """Pairs (ids pair-01, pair-02, ... in order of junior id), scores and who is left."""

    scores: tuple[PairScore, ...]
    unmatched: tuple[Unmatched, ...]
    same_department: SameDepartment
    juniors: int
    seniors: int
    senior_places: int
    missing_ratings: Mapping[str, tuple[str, ...]]
    names: Mapping[str, str]
    competencies: tuple[str, ...]

    @property
    def pairs(self) -> list[Pair]:
        return [s.pair for s in self.scores]

    @property
    def total_score(self) -> int:
        return sum(s.score for s in self.scores)

    @property
    def tech_total(self) -> int:
        return sum(s.tech_points for s in self.scores)

    @property
    def management_total(self) -> int:
        return sum(s.management_points for s in self.scores)

    @property
    def same_department_pairs(self) -> int:
        return sum(s.same_department for s in self.scores)


# --- reading the roster's matching columns ------------------------------------------------


def conflicts(
    junior: MatchingProfile, senior: MatchingProfile, same_department: SameDepartment
) -> list[str]:
    """The hard rules that forbid pairing ``junior`` with ``senior`` (empty: allowed)."""
    found = []
    if junior.manager_id == senior.id or senior.manager_id == junior.id:
        found.append("manager")
    if senior.id in junior.avoid or junior.id in senior.avoid:
        found.append("avoid")
    if (
        same_department == "forbid"
        and junior.department_key
        and junior.department_key == senior.department_key
    ):
        found.append("department")
    return found


def _allowed(
    juniors: Sequence[MatchingProfile],
    seniors: Sequence[MatchingProfile],
    same: NDArray[np.bool_],
    same_department: SameDepartment,
) -> NDArray[np.bool_]:
    allowed = ~same if same_department == "forbid" else np.ones(same.shape, dtype=bool)
    junior_index = {p.id: i for i, p in enumerate(juniors)}
    senior_index = {p.id: i for i, p in enumerate(seniors)}
    for i, junior in enumerate(juniors):
        for other in (junior.manager_id, *junior.avoid):
            if other in senior_index:
                allowed[i, senior_index[other]] = False
    for k, senior in enumerate(seniors):
        for other in (senior.manager_id, *senior.avoid):
            if other in junior_index:
                allowed[junior_index[other], k] = False
    return allowed


def _same_department(
    juniors: Sequence[MatchingProfile], seniors: Sequence[MatchingProfile]
) -> NDArray[np.bool_]:
    codes: dict[str, int] = {"": -1}
    junior_codes = np.array([codes.setdefault(p.department_key, len(codes)) for p in juniors])
    senior_codes = np.array([codes.setdefault(p.department_key, len(codes)) for p in seniors])
    same: NDArray[np.bool_] = (junior_codes[:, None] == senior_codes[None, :]) & (
        junior_codes[:, None] >= 0
    )
    return same


# --- scores and the assignment ---------------------------------------------------------------


def _ratings(people: Sequence[MatchingProfile], competencies: Sequence[str]) -> NDArray[np.int32]:
    return np.array([[p.ratings[c] for c in competencies] for p in people], dtype=np.int32).reshape(
        len(people), len(competencies)
    )


def score_matrix(
    juniors: Sequence[MatchingProfile], seniors: Sequence[MatchingProfile], program: Program
) -> NDArray[np.int64]:
    """Every junior's score with every senior (rows: juniors, columns: seniors)."""
    tech = [c.id for c in program.competencies if c.track == "tech"]
    management = [c.id for c in program.competencies if c.track == "management"]
    scores = np.zeros((len(juniors), len(seniors)), dtype=np.int64)
    for competencies, teacher_is_junior in ((tech, True), (management, False)):
        junior, senior = _ratings(juniors, competencies), _ratings(seniors, competencies)
        for c in range(len(competencies)):
            gap = junior[:, c, None] - senior[None, :, c]
            scores += np.maximum(gap if teacher_is_junior else -gap, 0)
    return scores


def _weights(
    scores: NDArray[np.int64],
    cross: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    max_pairs: int,
    max_score: int,
    source: Path | None,
) -> NDArray[np.float64]:
    """Integer weights whose sum, over any set of pairs, orders the sets by the objective."""
    score_base = max_pairs * max_score + 1  # more than any total score
    cross_base = max_pairs + 1 if cross.any() else 1  # more than any count of cross pairs
    pair_weight = cross_base * score_base
    if max_pairs * (pair_weight + score_base) >= _EXACT_LIMIT:
        raise RosterError("the roster is too large to match exactly", path=source)
    weights = pair_weight + cross.astype(np.int64) * score_base + scores
    return np.where(allowed, weights, 0).astype(np.float64)


def _solve(weights: NDArray[np.float64]) -> list[tuple[int, int]]:
    # imported here: scipy is slow to load; it ships no type stubs
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(weights, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, columns, strict=True) if weights[r, c] > 0]


def match(
    participants: Iterable[Participant],
    program: Program,
    *,
    same_department: SameDepartment = "allowed",
    source: Path | str | None = None,
) -> MatchResult:
    """Pair juniors with seniors for the best two-way complementarity (see the module doc).

    ``source`` (the roster's path) is named in errors. Raises :class:`RosterError`.
    """
    path = Path(source) if source is not None else None
    _check_rule(same_department)
    profiles = read_profiles(participants, program, source=path)
    return match_profiles(profiles, program, same_department=same_department, source=path)


def _check_rule(same_department: str) -> None:
    if same_department not in SAME_DEPARTMENT_RULES:
        raise RosterError(
            f"same_department must be one of {', '.join(SAME_DEPARTMENT_RULES)}, "
            f"not {same_department!r}"
        )


def match_profiles(
    profiles: Sequence[MatchingProfile],
    program: Program,
    *,
    same_department: SameDepartment = "allowed",
    source: Path | None = None,
) -> MatchResult:
    """:func:`match` on profiles already read (e.g. a running cohort's unpaired people,
    read with everyone else so that their rules may name them). Either side may be empty:
    then no pair is made and everyone is listed as unmatched, with the reason."""
    _check_rule(same_department)
    profiles = sorted(profiles, key=lambda p: p.id)
    juniors = [p for p in profiles if p.role == "junior"]
    seniors = [p for p in profiles if p.role == "senior"]
    places = [k for k, s in enumerate(seniors) for _ in range(min(s.capacity, len(juniors)))]
    scores = score_matrix(juniors, seniors, program)
    same = _same_department(juniors, seniors)
    allowed = _allowed(juniors, seniors, same, same_department)
    cross = ~same if same_department == "avoid" else np.zeros(same.shape, dtype=bool)
    max_pairs = min(len(juniors), len(places))
    max_score = (HIGHEST_RATING - LOWEST_RATING) * len(program.competencies)
    weights = _weights(scores, cross, allowed, max_pairs, max_score, source)
    chosen = sorted((j, places[slot]) for j, slot in _solve(weights[:, places]))
    made: list[PairScore] = []
    for j, k in chosen:
        if conflicts(juniors[j], seniors[k], same_department):
            continue  # never happens with a correct solver; a broken rule is never accepted
        pair = Pair(id=pair_id(len(made) + 1), junior=juniors[j].id, senior=seniors[k].id)
        made.append(_pair_score(pair, juniors[j], seniors[k], program, bool(same[j, k])))
    senior_places = sum(s.capacity for s in seniors)
    unmatched = _unmatched(juniors, seniors, made, senior_places, same_department)
    return MatchResult(
        scores=tuple(made),
        unmatched=tuple(unmatched),
        same_department=same_department,
        juniors=len(juniors),
        seniors=len(seniors),
        senior_places=senior_places,
        missing_ratings={p.id: p.missing for p in profiles if p.missing},
        names={p.id: p.name for p in profiles},
        competencies=tuple(c.id for c in program.competencies),
    )


def _pair_score(
    pair: Pair, junior: MatchingProfile, senior: MatchingProfile, program: Program, same: bool
) -> PairScore:
    tech = [c.id for c in program.competencies if c.track == "tech"]
    management = [c.id for c in program.competencies if c.track == "management"]
    return PairScore(
        pair=pair,
        junior_teaches=tuple(Teaching(c, junior.ratings[c], senior.ratings[c]) for c in tech),
        senior_teaches=tuple(Teaching(c, senior.ratings[c], junior.ratings[c]) for c in management),
        same_department=same,
    )


# --- who is left out, and why ---------------------------------------------------------------


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_LISTED])
    return shown + (f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else "")


RULE_NAMES = {
    "manager": "manager or direct report",
    "avoid": "avoid",
    "department": "same department (--same-department forbid)",
}


def _reason(
    person: MatchingProfile,
    others: Sequence[MatchingProfile],
    counts: tuple[int, int],
    same_department: SameDepartment,
) -> str:
    other_role = "senior" if person.role == "junior" else "junior"
    if not others:
        return f"there is no {other_role} to pair them with"
    by_rule: dict[str, list[str]] = {}
    possible = []
    for other in others:
        junior, senior = (person, other) if person.role == "junior" else (other, person)
        found = conflicts(junior, senior, same_department)
        for rule in found:
            by_rule.setdefault(rule, []).append(other.id)
        if not found:
            possible.append(other.id)
    if not possible:
        excluded = "; ".join(f"{RULE_NAMES[r]}: {_listed(ids)}" for r, ids in by_rule.items())
        return f"every {other_role} is excluded by the rules ({excluded})"
    people, places = counts
    numbers = f"{_count(people, 'junior')} for {_count(places, 'senior place')}"
    if person.role == "junior" and people > places:
        shortage = f"no senior place left: {numbers}"
    elif person.role == "senior" and places > people:
        shortage = f"no junior left: {numbers}"
    else:
        shortage = "no more pairs can be formed under the rules"
    return f"{shortage}; every {other_role} they may be paired with ({_listed(possible)}) is taken"


def _unmatched(
    juniors: Sequence[MatchingProfile],
    seniors: Sequence[MatchingProfile],
    made: Sequence[PairScore],
    places: int,
    same_department: SameDepartment,
) -> list[Unmatched]:
    paired = {member for s in made for member in s.pair.members}
    counts = (len(juniors), places)
    return [
        Unmatched(p.id, p.role, _reason(p, others, counts, same_department))
        for group, others in ((juniors, seniors), (seniors, juniors))
        for p in group
        if p.id not in paired
    ]


# --- rules kept with a cohort ---------------------------------------------------------------

KEPT_COLUMNS = ("manager_id", "avoid")
"""The rule columns a cohort keeps, besides every ``rate_`` column (capacity is not kept:
a cohort holds one pair per person)."""


def kept_columns(extra: Mapping[str, str]) -> dict[str, str]:
    """The non-blank rating and rule columns of a roster row: what matching needs later."""
    return {
        column: value
        for column, value in sorted(extra.items())
        if (column.startswith(RATING_PREFIX) or column in KEPT_COLUMNS) and value.strip()
    }


def pair_conflicts(
    pairs: Iterable[Pair],
    participants: Iterable[Participant],
    program: Program,
    *,
    same_department: SameDepartment = "allowed",
    source: Path | str | None = None,
) -> list[str]:
    """Each given pair that breaks a hard rule, as ``pair-03: j1 & s1 (manager or direct
    report)``; empty when every pair keeps the rules."""
    _check_rule(same_department)
    path = Path(source) if source is not None else None
    profiles = {p.id: p for p in read_profiles(participants, program, source=path)}
    broken = []
    for pair in pairs:
        found = conflicts(profiles[pair.junior], profiles[pair.senior], same_department)
        if found:
            rules = ", ".join(RULE_NAMES[rule] for rule in found)
            broken.append(f"{pair.id}: {pair.junior} & {pair.senior} ({rules})")
    return broken


# --- files ------------------------------------------------------------------------------------


def match_roster(
    roster: Path | str,
    curriculum: Path | str | None = None,
    *,
    same_department: SameDepartment = "allowed",
) -> MatchResult:
    """Load a roster and the programme manifest, and match the roster's participants."""
    program = load_program(curriculum)
    return match(load_roster(roster), program, same_department=same_department, source=roster)


def pairs_csv(result: MatchResult) -> str:
    """The pairs as CSV text that :func:`tandem.people.roster.load_pairs` reads."""
    lines = [",".join(PAIRS_HEADER)]
    for s in result.scores:
        values = (s.pair.id, s.pair.junior, s.pair.senior, s.score, s.tech_points)
        lines.append(",".join(str(v) for v in (*values, s.management_points)))
    return "\n".join(lines) + "\n"


def write_pairs(result: MatchResult, path: Path | str) -> Path:
    """Write the pairs CSV atomically; return its path."""
    target = Path(path)
    atomic_write_text(target, pairs_csv(result))
    return target
