"""Roster changes during a programme: newcomers, withdrawals and re-pairing.

History is never rewritten: a withdrawn participant stays in the gradebook with their
past submissions (until erased with ``tandem privacy erase``); they are only taken out
of pairs, further releases and report rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.cohort.workspace import Cohort, Matching, Workspace, refresh_contexts
from tandem.curriculum.manifest import Program, Role
from tandem.errors import CohortError
from tandem.people.profiles import MatchingProfile
from tandem.people.roster import Pair, Participant, load_roster, pair_id

if TYPE_CHECKING:
    from tandem.people.matching import PairScore, SameDepartment


ADD_HINT = "tandem cohort add DIR --roster newcomers.csv"
BEFORE_RULES = (
    "this cohort was created before Tandem kept matching rules (managers, avoid lists, "
    "ratings), so {who} cannot be paired safely: give 'tandem cohort repair DIR --roster "
    "ROSTER' the roster it was made from (or re-run 'tandem cohort init')"
)


@dataclass
class RepairResult:
    pairs: list[Pair] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Waiting:
    """Someone a repair leaves unpaired: why, and what would help."""

    id: str
    role: Role
    reason: str

    @property
    def helps(self) -> str:
        other = "senior" if self.role == "junior" else "junior"
        return f"add a {other} ('{ADD_HINT}')"

    def __str__(self) -> str:
        return (
            f"{self.id} ({self.role}) stays unpaired: {self.reason}; what would help: {self.helps}"
        )


@dataclass
class PairingOutlook:
    """What ``tandem cohort repair`` would do now: the pairs it would make, who would
    still wait and why, and the pairs kept against the rules (``--allow-rule-break``)."""

    scores: list[PairScore] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    unknown_rules: list[str] = field(default_factory=list)
    rule_break: str = ""
    broken_pairs: list[str] = field(default_factory=list)

    @property
    def repairable(self) -> list[str]:
        return [m for s in self.scores for m in s.pair.members]

    def todo(self, unpaired: list[str]) -> list[str]:
        """The status summary's items for the unpaired."""
        waits = {w.id: w for w in self.waiting}
        items = []
        ready = [p for p in unpaired if p not in waits and p not in self.unknown_rules]
        if ready:
            items.append(f"re-pair {', '.join(ready)} (tandem cohort repair)")
        items += [f"re-pair {w.id}: {w.helps}" for w in self.waiting]
        if self.unknown_rules:
            items.append(f"re-pair {', '.join(self.unknown_rules)}: rules unknown (see below)")
        return items

    def notes(self) -> list[str]:
        """Lines for the facilitator: why people wait; rules not checked; rules broken."""
        lines = [str(w) for w in self.waiting]
        if self.unknown_rules:
            lines.append(BEFORE_RULES.format(who=", ".join(self.unknown_rules)))
        if self.rule_break and self.broken_pairs:
            lines.append(
                "Pairs kept against the matching rules (--allow-rule-break "
                f"{self.rule_break!r}): {'; '.join(self.broken_pairs)}"
            )
        return lines


def add_participants(root: Path | str, roster: Path | str) -> RepairResult:
    """Add the newcomers of ``roster`` to the cohort, then pair whoever is unpaired."""
    from tandem.people.matching import kept_columns

    ws = Workspace(root)
    newcomers = load_roster(roster)
    with ws.locked():
        cohort = ws.load()
        known = {p.id.casefold(): p.id for p in cohort.participants}
        clash = [
            p.id if known[p.id.casefold()] == p.id else f"{p.id} (as {known[p.id.casefold()]})"
            for p in newcomers
            if p.id.casefold() in known
        ]
        if clash:
            raise CohortError(f"already in the cohort: {', '.join(clash)}", path=Path(roster))
        matching = cohort.matching or Matching()
        matching.rules.update({p.id: kept_columns(p.extra) for p in newcomers})
        cohort.matching = matching
        cohort.participants += newcomers
        cohort.unpaired += [p.id for p in newcomers]
        result = _repair(ws, cohort, source=roster)  # first: it refuses malformed columns
        with ws.gradebook(cohort) as gradebook:
            for person in newcomers:
                gradebook.update_or_create_student(
                    person.id,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    email=person.email,
                )
        ws.save(cohort)
        refresh_contexts(ws, cohort)
    return result


def withdraw(root: Path | str, participant: str) -> str | None:
    """Withdraw ``participant``; return their former partner (now needing a re-pair)."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        cohort.participant(participant)
        if participant in cohort.withdrawn:
            raise CohortError(f"{participant} has already withdrawn")
        pair = cohort.pair_of(participant)
        partner = None
        if pair is not None:
            cohort.pairs = [p for p in cohort.pairs if p.id != pair.id]
            cohort.former_pairs.append(pair)  # history: their pair id is never reused
            partner = pair.senior if pair.junior == participant else pair.junior
            cohort.unpaired.append(partner)
        cohort.unpaired = [p for p in cohort.unpaired if p != participant]
        cohort.withdrawn.append(participant)
        ws.save(cohort)
        refresh_contexts(ws, cohort)
    return partner


def repair(
    root: Path | str,
    *,
    roster: Path | str | None = None,
    same_department: SameDepartment | None = None,
) -> RepairResult:
    """Pair the unpaired (juniors with seniors) by the cohort's matching rules and score,
    as ``tandem match`` would; explain each pair, and why anyone still waits.

    ``roster`` (the roster the cohort was made from, or an updated one) replaces the
    kept rating and rule columns of every participant it lists: the way to give a cohort
    made before Tandem kept them its rules. ``same_department`` replaces the department
    rule.
    """
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        notes = _read_rules(cohort, roster, same_department)
        result = _repair(ws, cohort, source=roster)
        result.explanations[:0] = notes
        ws.save(cohort)
        refresh_contexts(ws, cohort)
    return result


def _read_rules(
    cohort: Cohort, roster: Path | str | None, same_department: SameDepartment | None
) -> list[str]:
    from tandem.people.matching import kept_columns

    matching = cohort.matching or Matching()
    if same_department is not None:
        matching.same_department = same_department
    notes = []
    if roster is not None:
        people = load_roster(roster)
        ids = {p.id for p in cohort.participants}
        matching.rules.update({p.id: kept_columns(p.extra) for p in people if p.id in ids})
        strangers = [p.id for p in people if p.id not in ids]
        if strangers:
            notes.append(
                f"Not in the cohort, ignored (add them with 'tandem cohort add'): "
                f"{', '.join(strangers)}"
            )
    if roster is not None or same_department is not None or cohort.matching is not None:
        cohort.matching = matching
    return notes


def outlook(
    cohort: Cohort, program: Program, *, source: Path | str | None = None
) -> PairingOutlook:
    """What a repair would do now, without doing it (read by ``tandem status``).

    Only people whose rules the cohort keeps are paired; everyone is checked with the
    cohort's department rule and scored as ``tandem match`` scores. Raises
    :class:`RosterError` for a malformed rating or rule (naming ``source``'s line for
    people read from it).
    """
    from tandem.people.matching import match_profiles, pair_conflicts
    from tandem.people.profiles import read_profiles

    matching = cohort.matching or Matching()
    rules = matching.kept_for({p.id for p in cohort.participants}).rules
    people = [p.model_copy(update={"extra": rules.get(p.id, {})}) for p in cohort.participants]
    view = PairingOutlook(rule_break=matching.rule_break)
    both = {p.role for p in people} == {"junior", "senior"}
    if both and matching.rule_break:
        view.broken_pairs = pair_conflicts(
            cohort.pairs, people, program, same_department=matching.same_department
        )
    view.unknown_rules = [pid for pid in cohort.unpaired if pid not in rules]
    candidates = [p for p in cohort.unpaired if p in rules]
    if not candidates:
        return view
    path = Path(source) if source is not None else None
    if both:
        profiles = read_profiles(people, program, source=path)
    else:  # no rule can name someone of a role nobody has: only reasons to give
        profiles = [_neutral(p) for p in people]
    waiting = [p for p in profiles if p.id in candidates]
    result = match_profiles(waiting, program, same_department=matching.same_department)
    view.scores = list(result.scores)
    view.waiting = [Waiting(u.id, u.role, u.reason) for u in result.unmatched]
    return view


def _neutral(person: Participant) -> MatchingProfile:
    return MatchingProfile(
        id=person.id,
        name=person.name,
        role=person.role,
        department=person.department,
        ratings={},
        missing=(),
        manager_id="",
        avoid=frozenset(),
        capacity=1,
    )


def _repair(ws: Workspace, cohort: Cohort, *, source: Path | str | None = None) -> RepairResult:
    """Pair the cohort's unpaired participants as :func:`outlook` says; record the pairs."""
    view = outlook(cohort, ws.program(cohort), source=source)
    result = RepairResult()
    used = {p.id for p in [*cohort.pairs, *cohort.former_pairs]}
    number = len(cohort.pairs) + 1
    for score in view.scores:
        while pair_id(number) in used:
            number += 1
        pair = Pair(id=pair_id(number), junior=score.pair.junior, senior=score.pair.senior)
        used.add(pair.id)
        cohort.pairs.append(pair)
        result.pairs.append(pair)
        teaches = (
            ", ".join(f"{t.competency} (+{t.points})" for t in score.junior_teaches if t.points)
            or "nothing measurable"
        )
        learns = (
            ", ".join(f"{t.competency} (+{t.points})" for t in score.senior_teaches if t.points)
            or "nothing measurable"
        )
        result.explanations.append(
            f"{pair.id}: {pair.junior} & {pair.senior} (score {score.score}): the junior "
            f"teaches {teaches}; the senior teaches {learns}"
        )
    paired = {m for p in result.pairs for m in p.members}
    cohort.unpaired = [p for p in cohort.unpaired if p not in paired]
    result.unpaired = list(cohort.unpaired)
    result.explanations += [str(w) for w in view.waiting]
    if view.unknown_rules:
        result.explanations.append(BEFORE_RULES.format(who=", ".join(view.unknown_rules)))
    return result
