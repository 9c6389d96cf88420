"""Two-way outcome data for the reports, with the privacy rules in code.

The figures are defined once, in :mod:`tandem.reports.outcomes`; this module reads what
they need from a cohort and decides who may see what:

* **Pair data** (the pair page, read by the pair and their facilitator): per module, the
  lead's ratings of the learner beside the learner's own, once the lead has given the
  end-of-module rating (before that the page says it is to come); growth both ways and
  agreement; whether the lead gave the learner feedback, with its text only when the lead
  offered it to the facilitator *and* the learner consented; the pair's reciprocity with
  each direction's three parts. Nothing of the safety pulse.
* **Pulses** are read here and reduced at once to each person's safety score, which
  never leaves this process: the check-in list gets a flag with its kind, per pair and
  session (never which partner, never an answer or a score), and the programme report
  the mean score by role, suppressed.
* **Programme data** (aggregates only): growth two ways per competency and direction and
  the agreement of the two ratings; the distribution of reciprocity across pairs in bands;
  the mean safety score by role. Every figure goes through the same
  :class:`~tandem.reports.suppression.Disclosure` as the rest of the programme report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Module, Program
from tandem.errors import TandemError
from tandem.notebook.checkin import CheckIn
from tandem.notebook.pulse import PULSE_FILE, read_pulse
from tandem.reports.outcomes import Gain, agreement, growth, pulse_flags, reciprocity, safety_score
from tandem.reports.suppression import Disclosure, Group

DIRECTIONS = {"tech": "seniors learning tech", "management": "juniors learning management"}
#: Reciprocity bands of the programme report: (label, lowest, highest); the last includes 1.
BANDS = (
    ("0 to 0.25", 0.0, 0.25),
    ("0.25 to 0.5", 0.25, 0.5),
    ("0.5 to 0.75", 0.5, 0.75),
    ("0.75 to 1", 0.75, 1.0),
)
NOT_KNOWN = "not known yet"
PARTNER_RULE = (
    "The lead's ratings of the learner appear once the lead has given the end-of-module rating."
)
MOMENTS = ("before", "after")
FEEDBACK_TEXT = ("situation", "behaviour", "impact", "try_next")


# Pair data -----------------------------------------------------------------------------
def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return fmean(known) if known else None


def module_outcomes(learner: CheckIn | None, lead: CheckIn | None) -> dict[str, Any]:
    """What the pair page shows of one module's two-way outcomes (see the module docstring)."""
    own = learner.self_assessment if learner else {}
    rated = lead.partner_rating if lead else {}
    shown = bool(rated.get("after"))
    partner = {m: dict(rated.get(m, {})) if shown else {} for m in MOMENTS}
    feedback = lead.lead_feedback if lead else None
    given = feedback is not None and feedback.given
    shared = (
        feedback is not None
        and given
        and feedback.share_with_facilitator
        and learner is not None
        and learner.feedback_consent
    )
    return {
        "partner_rating": partner,
        "partner_rating_pending": bool(rated) and not shown,
        "self_growth": growth(own.get("before", {}), own.get("after", {})),
        "partner_growth": growth(partner["before"], partner["after"]),
        "agreement": agreement(own.get("after", {}), partner["after"]),
        "lead_feedback": {
            "given": given,
            "shared": shared,
            "text": {k: getattr(feedback, k) for k in FEEDBACK_TEXT}
            if shared and feedback is not None
            else None,
        },
    }


def direction_gains(checkpoints: list[dict[str, Any]]) -> dict[str, Gain]:
    """Each direction's gain for one pair: the mean self growth and partner growth over
    the direction's modules, and its mean checkpoint mastery (autograded %)."""
    gains = {}
    for track, direction in DIRECTIONS.items():
        rows = [c for c in checkpoints if c["track"] == track]
        gains[direction] = Gain(
            self_growth=_mean(c.get("self_growth") for c in rows),
            partner_growth=_mean(c.get("partner_growth") for c in rows),
            mastery=_mean(c.get("auto_percent") for c in rows if c.get("status") == "graded"),
        )
    return gains


def reciprocity_data(checkpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """A pair's reciprocity with each direction's three parts (0-1, None without data)."""
    gains = direction_gains(checkpoints)
    return {
        "value": reciprocity(list(gains.values())),
        "directions": [
            {"direction": direction, "gain": gain.value, "parts": gain.parts}
            for direction, gain in gains.items()
        ],
    }


def add_pair_outcomes(
    cohort: Cohort, pairs: list[dict[str, Any]], checkins: dict[str, dict[str, CheckIn]]
) -> None:
    """Add the two-way outcomes to :func:`tandem.reports.data.pair_data`'s pairs, in place."""
    by_id = {p.id: p for p in cohort.pairs}
    for pair in pairs:
        members = by_id[pair["id"]]
        for checkpoint in pair["checkpoints"]:
            found = checkins.get(checkpoint["module"], {})
            learner = checkpoint["learner"]
            lead = members.senior if learner == members.junior else members.junior
            checkpoint.update(module_outcomes(found.get(learner), found.get(lead)))
        pair["reciprocity"] = reciprocity_data(pair["checkpoints"])


# Pulses --------------------------------------------------------------------------------
@dataclass
class SafetyScores:
    """Each person's safety score per session (complete pulses only). Held in memory
    only: never written to a report, its data or an export."""

    by_session: dict[str, dict[str, float]] = field(default_factory=dict)
    problems: list[TandemError] = field(default_factory=list)

    def person_means(self) -> dict[str, float]:
        people: dict[str, list[float]] = {}
        for scores in self.by_session.values():
            for person, score in scores.items():
                people.setdefault(person, []).append(score)
        return {person: fmean(scores) for person, scores in people.items()}


def read_safety(ws: Workspace, cohort: Cohort, program: Program) -> SafetyScores:
    """The safety scores of the current pairs' members, from the pulses in the management
    module of each released session; a bad pulse file is skipped and named (its message
    names the file and field, never an answer)."""
    out = SafetyScores()
    members = [m for p in cohort.pairs for m in p.members]
    for session in program.sessions:
        if session.id not in cohort.released:
            continue
        [management] = [m for m in session.modules if m.track == "management"]
        scores = out.by_session.setdefault(session.id, {})
        for person in members:
            path = ws.submission_dir(person, management.id) / PULSE_FILE
            if not path.is_file():
                continue
            try:
                pulse = read_pulse(path, participant=person)
                if pulse.session != session.id:
                    raise TandemError(f"pulse file is not for session {session.id}", path=path)
            except TandemError as exc:
                out.problems.append(exc)
                continue
            score = safety_score(pulse.answers)
            if score is not None:
                scores[person] = score
    return out


def pulse_reasons(cohort: Cohort, safety: SafetyScores) -> dict[str, list[str]]:
    """Per pair, its pulse flags as check-in reasons: the session and the kind of flag."""
    reasons: dict[str, list[str]] = {}
    for session, scores in safety.by_session.items():
        for pair in cohort.pairs:
            for flag in pulse_flags(scores.get(pair.junior), scores.get(pair.senior)):
                reasons.setdefault(pair.id, []).append(f"{session}: safety pulse: {flag}")
    return reasons


def add_pulse_flags(
    cohort: Cohort, needed: list[dict[str, Any]], reasons: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The check-in list with each pair's pulse flags added (a pair flagged only by its
    pulse joins the list), in the cohort's pair order."""
    names = {p.id: p.name for p in cohort.participants}
    by_pair = {c["pair"]: c for c in needed}
    out = []
    for pair in cohort.pairs:
        entry = by_pair.get(pair.id)
        flags = reasons.get(pair.id, [])
        if entry is None and flags:
            entry = {
                "pair": pair.id,
                "junior": names[pair.junior],
                "senior": names[pair.senior],
                "reasons": [],
            }
        if entry is not None:
            out.append({**entry, "reasons": [*entry["reasons"], *flags]})
    return out


# Programme data ------------------------------------------------------------------------
def _checkpoints(rows: Iterable[dict[str, Any]]) -> Group:
    return frozenset(("checkpoint", c["learner"], c["module"]) for c in rows)


def _ratings(c: dict[str, Any], field_name: str, moment: str) -> dict[str, int]:
    ratings: dict[str, int] = (c.get(field_name) or {}).get(moment, {})
    return ratings


def two_way_growth(
    program: Program, modules: list[Module], pairs: list[dict[str, Any]], d: Disclosure
) -> list[dict[str, Any]]:
    """Per competency and direction: self growth, partner growth (each over the learners
    rated both times) and agreement at the end (the share of learners whose two ratings
    are within a point), each with the number of learners it rests on."""
    rows = []
    for module in modules:
        results = [c for p in pairs for c in p["checkpoints"] if c["module"] == module.id]
        d.total(_checkpoints(results))
        for competency in module.competencies:
            row: dict[str, Any] = {
                "competency": competency,
                "title": program.competency(competency).title,
                "module": module.id,
                "direction": DIRECTIONS[module.track],
            }
            for who, field_name in (("self", "self_assessment"), ("partner", "partner_rating")):
                both = [
                    c
                    for c in results
                    if competency in _ratings(c, field_name, "before")
                    and competency in _ratings(c, field_name, "after")
                ]
                row[f"{who}_n"] = d.count(_checkpoints(both))
                row[f"{who}_change"] = d.mean(
                    [
                        (
                            c["learner"],
                            _ratings(c, field_name, "after")[competency]
                            - _ratings(c, field_name, "before")[competency],
                        )
                        for c in both
                    ],
                    2,
                )
            ends = [
                (c, _ratings(c, "self_assessment", "after"), _ratings(c, "partner_rating", "after"))
                for c in results
            ]
            rated = [
                (c, s[competency], p[competency])
                for c, s, p in ends
                if competency in s and competency in p
            ]
            row["agreement_n"] = d.count(_checkpoints(c for c, _, _ in rated))
            row["agreement"] = d.mean(
                [(c["learner"], float(abs(s - p) <= 1)) for c, s, p in rated], 2
            )
            rows.append(row)
    return rows


def _band(value: float) -> str:
    for label, low, high in BANDS:
        if low <= value < high or (high == 1.0 and value == 1.0):
            return label
    return BANDS[-1][0]


def reciprocity_bands(pairs: list[dict[str, Any]], d: Disclosure) -> list[dict[str, Any]]:
    """How many pairs' reciprocity falls in each band (and how many have none yet). The
    bands add up to the pairs, a published total: when what is withheld would add up to a
    small group, the smallest published band is withheld too, until it does not."""
    groups: dict[str, set[tuple[str, ...]]] = {label: set() for label, _, _ in BANDS}
    groups[NOT_KNOWN] = set()
    for i, pair in enumerate(pairs):
        value = (pair.get("reciprocity") or {}).get("value")
        groups[NOT_KNOWN if value is None else _band(value)].add(
            ("pair", str(pair.get("id", f"#{i}")))
        )
    frozen = {label: frozenset(g) for label, g in groups.items()}
    d.total(frozenset().union(*frozen.values()))
    withheld = {label for label, g in frozen.items() if d.small(g)}
    because: dict[str, Group] = {}  # a band withheld so that the rest is not a small group
    while True:
        rest: Group = frozenset().union(*(frozen[label] for label in withheld))
        published = [label for label in frozen if label not in withheld and frozen[label]]
        if not d.small(rest) or not published:
            break
        smallest = min(published, key=lambda label: len(frozen[label]))
        withheld.add(smallest)
        because[smallest] = rest
    return [
        {
            "band": label,
            "pairs": d.count(group, reveals=[because[label]] if label in because else []),
        }
        for label, group in frozen.items()
    ]


def safety_by_role(cohort: Cohort, safety: SafetyScores, d: Disclosure) -> list[dict[str, Any]]:
    """The mean safety score (1-5) by role, over each person's mean across sessions."""
    means = safety.person_means()
    rows = []
    for role in ("junior", "senior"):
        members = [p.member(role) for p in cohort.pairs]
        d.total(frozenset(("pulse", m) for m in members))
        answered = [m for m in members if m in means]
        rows.append(
            {
                "role": role,
                "people": d.count(frozenset(("pulse", m) for m in answered)),
                "mean": d.mean([(m, means[m]) for m in answered], 2),
            }
        )
    return rows


def programme_outcomes(
    cohort: Cohort,
    program: Program,
    modules: list[Module],
    pairs: list[dict[str, Any]],
    safety: SafetyScores,
    d: Disclosure,
) -> dict[str, Any]:
    """The programme report's two-way figures (aggregates only, no names or ids)."""
    return {
        "two_way_growth": two_way_growth(program, modules, pairs, d),
        "reciprocity_bands": reciprocity_bands(pairs, d),
        "safety_by_role": safety_by_role(cohort, safety, d),
    }
