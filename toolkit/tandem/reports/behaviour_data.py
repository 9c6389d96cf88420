"""Behaviour data for the reports (Kirkpatrick level 3): improvement ideas and the
follow-up three months on, with the privacy rules in code.

* **Ideas** are read from the check-ins of the current pairs' members (either partner may
  record one in any module's check-in); the *direction* is the recorder's role ("from the
  junior", "from the senior"). Their outcome is the facilitator's record in the workspace
  file ``ideas.yml`` (idea id -> ``{status, note, updated}``); an idea without one is
  *awaiting an outcome*. Ideas are shared data: the pair page lists the pair's own, the
  facilitator's site all of them with their pair.
* **Programme figures** (aggregates only): ideas raised (all of them) and, by the outcome
  recorded, awaiting, trialled, adopted and declined; by theme and by direction. A count
  of ideas rests on the distinct *pairs* behind it (a pair counts as one person): a cell
  from fewer than ``min_group_size`` pairs is "fewer than N", and a cell that would let
  such a cell be worked out (by subtraction from its row's or column's total, or from
  another cell) is "not shown" (:func:`withhold`).
* **Follow-up**: per direction, the mean of ``still_use`` given by the direction's
  learners (seniors for tech, juniors for management) and of ``partner_uses`` given by
  its leads (the partner who taught), each over at least ``min_group_size`` people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tandem.cohort.exchange import read_checkins
from tandem.cohort.ideas import load_records
from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Program
from tandem.errors import TandemError
from tandem.notebook.checkin import IDEA_THEMES, CheckIn
from tandem.people.roster import Pair
from tandem.reports.suppression import Disclosure, Group

IDEAS_FILE = "ideas.yml"
OUTCOMES = ("trialled", "adopted", "declined")
AWAITING = "awaiting"
#: The columns of the ideas tables: every idea is raised; each has one current outcome.
COLUMNS = ("raised", AWAITING, *OUTCOMES)
FROM = {"junior": "from the junior", "senior": "from the senior"}
#: Follow-up: (direction, the role that learned it, the role that taught it).
FOLLOWUP_DIRECTIONS = (
    ("seniors learning tech", "senior", "junior"),
    ("juniors learning management", "junior", "senior"),
)


# Ideas ---------------------------------------------------------------------------------
def read_idea_records(ws: Workspace) -> dict[str, dict[str, Any]]:
    """The facilitator's outcome records in ``ideas.yml`` (empty when there is none), as
    :func:`tandem.cohort.ideas.load_records` reads them: a damaged file is an error naming
    its line, never silently read as no records."""
    return {
        idea_id: {"status": r.status, "note": r.note, "updated": r.updated}
        for idea_id, r in load_records(ws).items()
    }


def idea_rows(
    cohort: Cohort,
    checkins: Mapping[str, Mapping[str, CheckIn]],
    records: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Every idea recorded by a current pair's member, once (by id), in check-in order:
    ``checkins`` is module id -> participant -> check-in."""
    members = {m: (pair.id, role) for pair in cohort.pairs for role, m in _roles(pair)}
    rows: dict[str, dict[str, Any]] = {}
    for module_id, found in checkins.items():
        for participant, checkin in found.items():
            if participant not in members:
                continue
            pair_id, role = members[participant]
            for idea in checkin.ideas:
                if idea.id in rows:
                    continue
                record = records.get(idea.id, {})
                rows[idea.id] = {
                    **idea.model_dump(),
                    "direction": FROM[role],
                    "recorder": participant,
                    "recorder_role": role,
                    "pair": pair_id,
                    "module": module_id,
                    "status": record.get("status", AWAITING),
                    "note": record.get("note", ""),
                    "updated": record.get("updated", ""),
                }
    return list(rows.values())


def _roles(pair: Pair) -> tuple[tuple[str, str], ...]:
    return (("junior", pair.junior), ("senior", pair.senior))


def pair_ideas(rows: list[dict[str, Any]], pair_id: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["pair"] == pair_id]


def _group(rows: Iterable[dict[str, Any]]) -> Group:
    return frozenset(("idea", r["pair"], r["id"]) for r in rows)


def _cells(rows: list[dict[str, Any]]) -> dict[str, Group]:
    return {
        "raised": _group(rows),
        **{s: _group(r for r in rows if r["status"] == s) for s in (AWAITING, *OUTCOMES)},
    }


def withhold(
    d: Disclosure, figures: Iterable[Group], lines: Iterable[tuple[Group, list[Group]]]
) -> dict[Group, Group]:
    """Which of ``figures`` to withhold, each with the small group publishing it would
    reveal. ``lines`` are sums (a total and the parts adding up to it). Withheld: a small
    group; a group whose difference with a published one it contains, or is contained
    in, is small; in a line with a published total, a part left alone as the one withheld
    or whose withheld parts add up to a small group (the smallest published part goes
    with it); in a line with a withheld total, a part, so that the total stays unknown."""
    groups = set(figures)
    lines = [(t, [p for p in parts if p]) for t, parts in lines]
    because = {g: g for g in groups if d.small(g)}
    changed = True
    while changed:
        changed = False
        shown = [g for g in groups if g not in because]
        for a in shown:
            for b in shown:
                if a < b and d.small(b - a) and a not in because:
                    because[a] = b - a
                    changed = True
        for total, parts in lines:
            hidden = [p for p in parts if p in because]
            rest: Group = frozenset().union(*hidden)
            open_ = sorted((p for p in parts if p not in because), key=len)
            if total not in because:
                risky = d.small(rest) or (len(hidden) == 1 and hidden[0] != total)
                if hidden and risky:
                    reason = rest if d.small(rest) else because[hidden[0]]
                    target = open_[0] if open_ else total
                    because[target] = reason
                    changed = True
            elif not hidden and open_ and total != open_[0]:
                because[open_[0]] = because[total]
                changed = True
    return because


def _rows_by(rows: list[dict[str, Any]], key: str, values: Iterable[str]) -> dict[str, Any]:
    return {v: _cells([r for r in rows if r[key] == v]) for v in values}


def ideas_programme(rows: list[dict[str, Any]], d: Disclosure) -> dict[str, Any]:
    """The programme report's idea tables: counts by theme and by direction (rows) and
    outcome (columns), and the total row, each cell a count or its marker."""
    by_theme = _rows_by(rows, "theme", IDEA_THEMES)
    by_direction = _rows_by(rows, "direction", FROM.values())
    total = _cells(rows)
    figures = [g for table in (by_theme, by_direction) for r in table.values() for g in r.values()]
    figures += total.values()
    lines = [
        (total[c], [r[c] for r in table.values()])
        for table in (by_theme, by_direction)
        for c in COLUMNS
    ]
    lines += [
        (r["raised"], [r[c] for c in COLUMNS[1:]])
        for t in (by_theme, by_direction)
        for r in t.values()
    ]
    lines.append((total["raised"], [total[c] for c in COLUMNS[1:]]))
    because = withhold(d, figures, lines)

    def count(group: Group) -> int | str:
        return d.count(group, reveals=[because[group]] if group in because else [])

    def table(name: str, cells: Mapping[str, Mapping[str, Group]]) -> list[dict[str, Any]]:
        return [
            {name: label, **{c: count(row[c]) for c in COLUMNS}} for label, row in cells.items()
        ]

    return {
        "ideas_total": {c: count(total[c]) for c in COLUMNS},
        "ideas_by_theme": table("theme", by_theme),
        "ideas_by_direction": table("direction", by_direction),
    }


# Follow-up -----------------------------------------------------------------------------
def followup_id(program: Program) -> str | None:
    """The follow-up module's id in ``program.yml`` (``followup:``), if it has one."""
    followup = getattr(program, "followup", None)
    return getattr(followup, "id", None) if followup is not None else None


def read_followups(
    ws: Workspace, cohort: Cohort, program: Program
) -> tuple[dict[str, CheckIn], list[TandemError]]:
    """The check-ins of the follow-up folder (none before it is collected)."""
    module_id = followup_id(program)
    if module_id is None:
        return {}, []
    return read_checkins(ws, cohort, module_id)


def followup_programme(
    cohort: Cohort, checkins: Mapping[str, CheckIn], d: Disclosure
) -> list[dict[str, Any]]:
    """Per direction: the learners' mean ``still_use`` and the leads' mean
    ``partner_uses`` (1-5), each with the people who answered it."""
    answers = {p: c.followup for p, c in checkins.items() if c.followup is not None}
    rows = []
    for direction, learned, taught in FOLLOWUP_DIRECTIONS:
        row: dict[str, Any] = {"direction": direction}
        for field, role in (("still_use", learned), ("partner_uses", taught)):
            members = [dict(_roles(p))[role] for p in cohort.pairs]
            d.total(frozenset(("followup", m, field) for m in members))
            given = [
                (m, float(value))
                for m in members
                if m in answers and (value := getattr(answers[m], field)) is not None
            ]
            row[f"{field}_people"] = d.count(frozenset(("followup", m, field) for m, _ in given))
            row[field] = d.mean(given, 2)
        rows.append(row)
    return rows


def followup_pair(checkins: Mapping[str, CheckIn], members: Iterable[str]) -> list[dict[str, Any]]:
    """A pair's own follow-up answers, for their page (shared data: partner + facilitator)."""
    rows = []
    for member in members:
        checkin = checkins.get(member)
        if checkin is not None and checkin.followup is not None:
            rows.append({"participant": member, **checkin.followup.model_dump()})
    return rows


def ideas_file(ws: Workspace) -> Path:
    return ws.root / IDEAS_FILE


def person_behaviour(ws: Workspace, participant: str) -> dict[str, Any]:
    """One person's ideas (each with its outcome) and follow-up answers, for their own
    ``tandem privacy export``."""
    cohort = ws.load()
    program = ws.program(cohort)
    modules = [m.id for s in program.sessions if s.id in cohort.released for m in s.modules]
    records = read_idea_records(ws)
    ideas = []
    for module_id in modules:
        checkin = read_checkins(ws, cohort, module_id)[0].get(participant)
        for idea in checkin.ideas if checkin else []:
            record = records.get(idea.id, {})
            ideas.append(
                {
                    **idea.model_dump(),
                    "module": module_id,
                    "status": record.get("status", AWAITING),
                    "note": record.get("note", ""),
                }
            )
    own = read_followups(ws, cohort, program)[0].get(participant)
    followup = own.followup.model_dump() if own and own.followup else None
    return {"ideas": ideas, "followup": followup}
