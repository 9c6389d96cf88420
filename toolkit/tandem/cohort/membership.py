"""Roster changes during a programme: newcomers, withdrawals and re-pairing.

History is never rewritten: a withdrawn participant stays in the gradebook with their
past submissions (until erased with ``tandem privacy erase``); they are only taken out
of pairs, further releases and report rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tandem.cohort.workspace import Cohort, Workspace, refresh_contexts
from tandem.errors import CohortError
from tandem.people.roster import Pair, Participant, load_roster, pair_id


@dataclass
class RepairResult:
    pairs: list[Pair] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)


def add_participants(root: Path | str, roster: Path | str) -> RepairResult:
    """Add the newcomers of ``roster`` to the cohort, then pair whoever is unpaired."""
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
        cohort.participants += newcomers
        cohort.unpaired += [p.id for p in newcomers]
        with ws.gradebook(cohort) as gradebook:
            for person in newcomers:
                gradebook.update_or_create_student(
                    person.id,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    email=person.email,
                )
        result = _repair(ws, cohort, {p.id: p for p in newcomers})
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


def repair(root: Path | str) -> RepairResult:
    """Pair the unpaired (juniors with seniors) by the matching rules; explain each pair."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        result = _repair(ws, cohort, {})
        ws.save(cohort)
        refresh_contexts(ws, cohort)
    return result


def _repair(ws: Workspace, cohort: Cohort, fresh: dict[str, Participant]) -> RepairResult:
    """Match the cohort's unpaired participants; ``fresh`` holds newcomers with their
    roster ratings (earlier participants' ratings are not kept in cohort.yml)."""
    from tandem.people.matching import match

    waiting = [fresh.get(pid) or cohort.participant(pid) for pid in cohort.unpaired]
    result = RepairResult()
    if not any(p.role == "junior" for p in waiting) or not any(p.role == "senior" for p in waiting):
        result.unpaired = list(cohort.unpaired)
        return result
    matched = match(waiting, ws.program(cohort))
    used = {p.id for p in [*cohort.pairs, *cohort.former_pairs]}
    number = len(cohort.pairs) + 1
    for score in matched.scores:
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
    for left in matched.unmatched:
        result.explanations.append(f"{left.id} stays unpaired: {left.reason}")
    return result
