"""Report data, with the privacy rules in code: what each report may show.

* Pair data (for the pair and their facilitator) names the pair's own members: their
  checkpoint scores, self-ratings, the feedback each lead received and the reflections
  either partner chose to share. Private reflections are never read.
* Programme data (for the programme lead) holds aggregates only, no names or ids; any
  figure over fewer people than the cohort's ``min_group_size`` is suppressed.
* The check-in list (for the facilitator) names the pairs that need a conversation,
  each with its reasons.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timezone
from typing import Any

from tandem.cohort.workspace import Cohort, Workspace, due_date
from tandem.curriculum.manifest import Module, Program
from tandem.grading.checkpoints import read_score
from tandem.notebook.checkin import CheckIn
from tandem.people.roster import Pair

DIRECTION = {"tech": "seniors learning tech", "management": "juniors learning management"}
LOW_FEEDBACK = 2  # a teaching score at or below this asks for a conversation
CONFIDENT_CHANGE = 1.0  # a mean self-rating rise this large counts as growing confidence
WEAK_EVIDENCE = 60.0  # a mean checkpoint score below this (%) is weak evidence
STRONG_EVIDENCE = 80.0


def released_modules(program: Program, cohort: Cohort) -> list[Module]:
    return [m for s in program.sessions if s.id in cohort.released for m in s.modules]


def checkpoint_status(
    ws: Workspace, cohort: Cohort, module: Module, learner: str
) -> dict[str, Any]:
    score = read_score(ws, cohort, module.id, learner)
    if score is not None:
        return {
            "status": "graded",
            "auto_score": score.auto_score,
            "auto_max": score.auto_max,
            "auto_percent": round(score.auto_percent, 1),
            "manual_score": score.manual_score,
            "manual_max": score.manual_max,
            "manual_pending": score.manual_pending,
            "late": score.late,
            "penalty": score.penalty,
        }
    submitted = ws.submission_dir(learner, module.id).is_dir()
    return {
        "status": "submitted" if submitted else "missing",
        "auto_score": None,
        "auto_max": None,
        "auto_percent": None,
        "manual_score": None,
        "manual_max": None,
        "manual_pending": False,
        "late": False,
        "penalty": 0.0,
    }


def checkin_data(checkins: dict[str, CheckIn], pair: Pair, module: Module) -> dict[str, Any]:
    """What the pair shared about one module: the learner's self-ratings, the feedback the
    lead received, and reflections either partner chose to share (never private ones)."""
    learner = checkins.get(pair.member(module.learner))
    ratings = learner.self_assessment if learner else {}
    feedback = learner.feedback.model_dump() if learner and learner.feedback else None
    shared = [
        {"author": member, "prompt": prompt, "text": text}
        for member in pair.members
        if member in checkins
        for prompt, text in checkins[member].shared_reflections.items()
    ]
    return {
        "self_assessment": {m: ratings.get(m, {}) for m in ("before", "after")},
        "feedback_to_lead": feedback,
        "shared_reflections": shared,
    }


def pair_data(
    ws: Workspace, cohort: Cohort, modules: list[Module], checkins: dict[str, dict[str, CheckIn]]
) -> list[dict[str, Any]]:
    """Per-pair report data; names the pair's own members only."""
    pairs = []
    for pair in cohort.pairs:
        members = {}
        for role in ("junior", "senior"):
            person = cohort.participant(pair.member(role))
            members[role] = {"id": person.id, "name": person.name, "department": person.department}
        checkpoints = []
        for module in modules:
            learner = pair.member(module.learner)
            checkpoints.append(
                {
                    "module": module.id,
                    "title": module.title,
                    "track": module.track,
                    "learner_role": module.learner,
                    "learner": learner,
                    **checkpoint_status(ws, cohort, module, learner),
                    **checkin_data(checkins.get(module.id, {}), pair, module),
                }
            )
        pairs.append({"id": pair.id, **members, "checkpoints": checkpoints})
    return pairs


def suppress(values: list[float], min_group_size: int) -> dict[str, Any]:
    """Aggregate ``values``, or suppress them when the group is too small to be anonymous."""
    if len(values) < min_group_size:
        return {"n": len(values), "suppressed": True, "mean_percent": None, "median_percent": None}
    return {
        "n": len(values),
        "suppressed": False,
        "mean_percent": round(statistics.fmean(values), 1),
        "median_percent": round(statistics.median(values), 1),
    }


def _mean_or_suppressed(values: list[float], min_group_size: int) -> float | None:
    return round(statistics.fmean(values), 2) if len(values) >= min_group_size else None


def growth_data(
    program: Program, modules: list[Module], pairs: list[dict[str, Any]], min_group_size: int
) -> list[dict[str, Any]]:
    """Before/after self-ratings per competency and direction, over learners who gave both."""
    rows = []
    for module in modules:
        results = [c for p in pairs for c in p["checkpoints"] if c["module"] == module.id]
        for competency in module.competencies:
            both = [
                (
                    c["self_assessment"]["before"][competency],
                    c["self_assessment"]["after"][competency],
                )
                for c in results
                if competency in c["self_assessment"]["before"]
                and competency in c["self_assessment"]["after"]
            ]
            before = _mean_or_suppressed([b for b, _ in both], min_group_size)
            after = _mean_or_suppressed([a for _, a in both], min_group_size)
            rows.append(
                {
                    "competency": competency,
                    "title": program.competency(competency).title,
                    "module": module.id,
                    "direction": DIRECTION[module.track],
                    "n": len(both),
                    "suppressed": len(both) < min_group_size,
                    "before": before,
                    "after": after,
                    "change": None if before is None or after is None else round(after - before, 2),
                }
            )
    return rows


def teaching_data(
    modules: list[Module], pairs: list[dict[str, Any]], min_group_size: int
) -> list[dict[str, Any]]:
    """How learners rated their leads' teaching, per direction (juniors teach tech)."""
    rows = []
    for track, teacher in (
        ("tech", "juniors teaching seniors"),
        ("management", "seniors teaching juniors"),
    ):
        rated = [
            c
            for p in pairs
            for c in p["checkpoints"]
            if c["track"] == track and c["feedback_to_lead"]
        ]
        # Suppression counts people, not ratings: three learners rating six modules each
        # are still three people.
        people = len({c["learner"] for c in rated})
        hidden = people < min_group_size
        row: dict[str, Any] = {
            "direction": teacher,
            "n": len(rated),
            "people": people,
            "suppressed": hidden,
        }
        for aspect in ("clarity", "relevance", "pace"):
            scores = [
                c["feedback_to_lead"][aspect]
                for c in rated
                if c["feedback_to_lead"].get(aspect) is not None
            ]
            row[aspect] = None if hidden else _mean_or_suppressed(scores, min_group_size)
        rows.append(row)
    return rows


def programme_data(
    cohort: Cohort,
    program: Program,
    modules: list[Module],
    pairs: list[dict[str, Any]],
    pairs_needing_checkin: int = 0,
) -> dict[str, Any]:
    """Aggregates only: no names, no ids; small groups suppressed."""
    growth = growth_data(program, modules, pairs, cohort.min_group_size)
    mastery = competency_mastery(program, modules, pairs, cohort.min_group_size)
    rows = []
    for module in modules:
        results = [c for p in pairs for c in p["checkpoints"] if c["module"] == module.id]
        graded = [c["auto_percent"] for c in results if c["status"] == "graded"]
        rows.append(
            {
                "module": module.id,
                "title": module.title,
                "track": module.track,
                "direction": DIRECTION[module.track],
                "expected": len(results),
                "submitted": sum(c["status"] != "missing" for c in results),
                "manual_pending": sum(bool(c["manual_pending"]) for c in results),
                **suppress(graded, cohort.min_group_size),
            }
        )
    return {
        "cohort": cohort.name,
        "pairs": len(cohort.pairs),
        "participants": len(cohort.participants),
        "min_group_size": cohort.min_group_size,
        "sessions_released": cohort.released,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "modules": rows,
        "growth": growth,
        "teaching": teaching_data(modules, pairs, cohort.min_group_size),
        "completion": completion_data(program, cohort, pairs),
        "mastery": mastery,
        "confidence": confidence_data(growth, mastery),
        "pairs_needing_checkin": pairs_needing_checkin,
    }


def session_of(program: Program) -> dict[str, str]:
    return {m.id: s.id for s in program.sessions for m in s.modules}


def completion_data(
    program: Program, cohort: Cohort, pairs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per released session: how many pairs' learners submitted both checkpoints."""
    sessions = session_of(program)
    rows = []
    for session in program.sessions:
        if session.id not in cohort.released:
            continue
        complete = sum(
            all(
                c["status"] != "missing"
                for c in p["checkpoints"]
                if sessions[c["module"]] == session.id
            )
            for p in pairs
        )
        shown = len(pairs) >= cohort.min_group_size
        rows.append(
            {
                "session": session.id,
                "title": session.title,
                "pairs": len(pairs),
                "suppressed": not shown,
                "complete": complete if shown else None,
                "percent": round(100 * complete / len(pairs), 1) if shown and pairs else None,
            }
        )
    return rows


def competency_mastery(
    program: Program, modules: list[Module], pairs: list[dict[str, Any]], min_group_size: int
) -> list[dict[str, Any]]:
    """Checkpoint scores per competency (a module's score counts for each of its
    competencies), by direction."""
    rows = []
    for module in modules:
        scores = [
            c["auto_percent"]
            for p in pairs
            for c in p["checkpoints"]
            if c["module"] == module.id and c["status"] == "graded"
        ]
        for competency in module.competencies:
            rows.append(
                {
                    "competency": competency,
                    "title": program.competency(competency).title,
                    "direction": DIRECTION[module.track],
                    **suppress(scores, min_group_size),
                }
            )
    return rows


def confidence_data(
    growth: list[dict[str, Any]], mastery: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Where self-ratings and checkpoint evidence disagree, per competency."""
    by_competency = {m["competency"]: m for m in mastery}
    rows = []
    for g in growth:
        m = by_competency.get(g["competency"])
        if m is None or g["change"] is None or m["mean_percent"] is None:
            continue
        if g["change"] >= CONFIDENT_CHANGE and m["mean_percent"] < WEAK_EVIDENCE:
            finding = "confidence rose, but checkpoint results are weak"
        elif g["change"] <= 0 and m["mean_percent"] >= STRONG_EVIDENCE:
            finding = "checkpoint results are strong, but confidence did not rise"
        else:
            finding = "self-ratings and results agree"
        rows.append(
            {
                "competency": g["competency"],
                "title": g["title"],
                "direction": g["direction"],
                "change": g["change"],
                "mean_percent": m["mean_percent"],
                "finding": finding,
            }
        )
    return rows


def checkin_list(
    ws: Workspace,
    cohort: Cohort,
    program: Program,
    pairs: list[dict[str, Any]],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Pairs that need a check-in, each with its reasons: work missing after its due
    date, low feedback for a lead, self-ratings that fell."""
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    sessions = session_of(program)
    names = {p.id: p.name for p in cohort.participants}
    out = []
    for pair in pairs:
        reasons = []
        for c in pair["checkpoints"]:
            due = due_date(ws, cohort, c["module"])
            if c["status"] == "missing" and due is not None and due < now:
                reasons.append(
                    f"{sessions[c['module']]}: {names[c['learner']]} has not "
                    f"submitted {c['title']} (due {due:%d %b %Y})"
                )
            feedback = c["feedback_to_lead"] or {}
            low = [
                f"{aspect} {feedback[aspect]}"
                for aspect in ("clarity", "relevance", "pace")
                if feedback.get(aspect) is not None and feedback[aspect] <= LOW_FEEDBACK
            ]
            if low:
                reasons.append(f"low feedback for the lead of {c['title']}: {', '.join(low)}")
            before, after = c["self_assessment"]["before"], c["self_assessment"]["after"]
            fell = [
                f"{k} {before[k]}->{after[k]}"
                for k in sorted(after)
                if k in before and after[k] < before[k]
            ]
            if fell:
                reasons.append(
                    f"{names[c['learner']]}'s self-ratings fell on {c['title']}: {', '.join(fell)}"
                )
        if reasons:
            out.append(
                {
                    "pair": pair["id"],
                    "junior": pair["junior"]["name"],
                    "senior": pair["senior"]["name"],
                    "reasons": reasons,
                }
            )
    return out
