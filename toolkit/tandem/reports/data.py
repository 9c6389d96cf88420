"""Report data, with the privacy rules in code: what each report may show.

* Pair data (for the pair and their facilitator) names the pair's own members: their
  checkpoint scores, self-ratings, the feedback each lead received and the reflections
  either partner chose to share. Private reflections are never read.
* Programme data (for the programme lead) holds aggregates only, no names or ids; any
  figure over fewer people than the cohort's ``min_group_size`` is shown as "fewer than
  N", and any count from which such a group could be worked out (by subtraction from a
  total or from another table) as "not shown" (:mod:`tandem.reports.suppression`).
* The check-in list (for the facilitator) names the pairs that need a conversation,
  each with its reasons.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timezone
from typing import Any

from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Module, Program
from tandem.grading.checkpoints import read_score
from tandem.grading.scores import ScoreBook, due_dates, read_book
from tandem.notebook.checkin import CheckIn
from tandem.people.roster import Pair
from tandem.reports.suppression import Disclosure, Group, as_disclosure

DIRECTION = {"tech": "seniors learning tech", "management": "juniors learning management"}
# Who needs a check-in: what a facilitator would act on, not every 2 out of 5 (a demo of
# three pairs had every pair listed). A teaching score is low at LOW_FEEDBACK or below; the
# lead needs a conversation when one score is VERY_LOW_FEEDBACK, or the module's scores
# average LOW_FEEDBACK_MEAN or less. Self-ratings that fell ask for one when one fell by
# RATINGS_FELL_BY points or more, or several fell: one point down on one competency is as
# often a learner seeing the subject more clearly.
LOW_FEEDBACK = 2
VERY_LOW_FEEDBACK = 1
LOW_FEEDBACK_MEAN = 2.5
RATINGS_FELL_BY = 2
CONFIDENT_CHANGE = 1.0  # a mean self-rating rise this large counts as growing confidence
WEAK_EVIDENCE = 60.0  # a mean checkpoint score below this (%) is weak evidence
STRONG_EVIDENCE = 80.0


def released_modules(program: Program, cohort: Cohort) -> list[Module]:
    return [m for s in program.sessions if s.id in cohort.released for m in s.modules]


def checkpoint_status(
    ws: Workspace, cohort: Cohort, module: Module, learner: str, book: ScoreBook | None = None
) -> dict[str, Any]:
    """A learner's checkpoint as the reports show it; from ``book`` (the gradebook read once
    for the whole command, :func:`tandem.grading.scores.read_book`) when given."""
    if book is not None:
        score = book.score(module.id, learner)
    else:
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
            # autograded + written = total; no total while a written answer awaits grading
            "total_score": None
            if score.manual_pending
            else score.auto_score + (score.manual_score or 0.0),
            "total_max": score.auto_max + score.manual_max,
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
        "total_score": None,
        "total_max": None,
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
    book = read_book(ws, cohort, [m.id for m in modules])
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
                    **checkpoint_status(ws, cohort, module, learner, book),
                    **checkin_data(checkins.get(module.id, {}), pair, module),
                }
            )
        pairs.append({"id": pair.id, **members, "checkpoints": checkpoints})
    return pairs


# Programme data. Every figure comes from a group of items, each naming the person it is
# about (see tandem.reports.suppression): a learner's checkpoint, a learner, or a pair.
def _results(pairs: list[dict[str, Any]], module_id: str) -> list[dict[str, Any]]:
    return [c for p in pairs for c in p["checkpoints"] if c["module"] == module_id]


def _checkpoints(results: Iterable[dict[str, Any]]) -> Group:
    return frozenset(("checkpoint", c["learner"], c["module"]) for c in results)


def _learners(results: Iterable[dict[str, Any]]) -> Group:
    return frozenset(("learner", c["learner"]) for c in results)


def _pair_id(pair: dict[str, Any], index: int) -> str:
    return str(pair.get("id", f"#{index}"))


def _pairs(pairs: list[dict[str, Any]], handed_in: Collection[str] | None = None) -> Group:
    """All pairs, or those whose learners submitted every module in ``handed_in``."""
    return frozenset(
        ("pair", _pair_id(p, i))
        for i, p in enumerate(pairs)
        if handed_in is None
        or all(c["status"] != "missing" for c in p["checkpoints"] if c["module"] in handed_in)
    )


def _scores(d: Disclosure, graded: list[dict[str, Any]]) -> dict[str, Any]:
    values = [(c["learner"], c["auto_percent"]) for c in graded]
    return {
        "suppressed": not d.enough(_checkpoints(graded)),
        "mean_percent": d.mean(values, 1),
        "median_percent": d.median(values, 1),
    }


def module_data(
    modules: list[Module], pairs: list[dict[str, Any]], limits: Disclosure | int
) -> list[dict[str, Any]]:
    """Per module: learners expected, submitted, graded, written answers to grade (a chain
    of groups, each inside the one before) and the autograded score."""
    d = as_disclosure(limits)
    rows = []
    for module in modules:
        results = _results(pairs, module.id)
        graded = [c for c in results if c["status"] == "graded"]
        expected = d.total(_checkpoints(results))
        submitted = d.count(_checkpoints(c for c in results if c["status"] != "missing"))
        n = d.count(_checkpoints(graded))
        pending = d.count(_checkpoints(c for c in graded if c["manual_pending"]))
        rows.append(
            {
                "module": module.id,
                "title": module.title,
                "track": module.track,
                "direction": DIRECTION[module.track],
                "expected": expected,
                "submitted": submitted,
                "manual_pending": pending,
                "n": n,
                **_scores(d, graded),
            }
        )
    return rows


def growth_data(
    program: Program, modules: list[Module], pairs: list[dict[str, Any]], limits: Disclosure | int
) -> list[dict[str, Any]]:
    """Before/after self-ratings per competency and direction, over learners who gave both."""
    d = as_disclosure(limits)
    rows = []
    for module in modules:
        results = _results(pairs, module.id)
        d.total(_checkpoints(results))
        for competency in module.competencies:
            both = [
                c
                for c in results
                if competency in c["self_assessment"]["before"]
                and competency in c["self_assessment"]["after"]
            ]
            before = d.mean(
                [(c["learner"], c["self_assessment"]["before"][competency]) for c in both], 2
            )
            after = d.mean(
                [(c["learner"], c["self_assessment"]["after"][competency]) for c in both], 2
            )
            rows.append(
                {
                    "competency": competency,
                    "title": program.competency(competency).title,
                    "module": module.id,
                    "direction": DIRECTION[module.track],
                    "n": d.count(_checkpoints(both)),
                    "suppressed": not d.enough(_checkpoints(both)),
                    "before": before,
                    "after": after,
                    "change": None if before is None or after is None else round(after - before, 2),
                }
            )
    return rows


def teaching_data(
    modules: list[Module], pairs: list[dict[str, Any]], limits: Disclosure | int
) -> list[dict[str, Any]]:
    """How learners rated their leads' teaching, per direction (juniors teach tech).
    Each figure counts people, not ratings: three learners rating six modules each are
    three people; an aspect's mean rests on the people who rated that aspect."""
    d = as_disclosure(limits)
    rows = []
    for track, teacher in (
        ("tech", "juniors teaching seniors"),
        ("management", "seniors teaching juniors"),
    ):
        everyone = [c for p in pairs for c in p["checkpoints"] if c["track"] == track]
        rated = [c for c in everyone if c["feedback_to_lead"]]
        d.total(_checkpoints(everyone))
        d.total(_learners(everyone))
        submitted = [
            _checkpoints(c for c in _results(pairs, m.id) if c["status"] != "missing")
            for m in modules
            if m.track == track
        ]
        if all(d.published(s) for s in submitted):  # their sum is known: check ratings against it
            d.know(frozenset().union(*submitted))
        row: dict[str, Any] = {
            "direction": teacher,
            "n": d.count(_checkpoints(rated), marker=f"{d.fewer} people"),
            "people": d.count(_learners(rated)),
            "suppressed": not d.enough(_learners(rated)),
        }
        for aspect in ("clarity", "relevance", "pace"):
            row[aspect] = d.mean(
                [
                    (c["learner"], c["feedback_to_lead"][aspect])
                    for c in rated
                    if c["feedback_to_lead"].get(aspect) is not None
                ],
                2,
            )
        rows.append(row)
    return rows


def programme_data(
    cohort: Cohort,
    program: Program,
    modules: list[Module],
    pairs: list[dict[str, Any]],
    needing_checkin: Collection[str] = (),
    disclosure: Disclosure | None = None,
) -> dict[str, Any]:
    """Aggregates only: no names, no ids; small groups suppressed, primary and secondary
    (see :mod:`tandem.reports.suppression`), the same in every table. ``needing_checkin``
    holds the ids of the pairs that need a check-in; ``disclosure``, when given, decides
    (and then knows) every figure, for tables added after these."""
    d = disclosure or Disclosure(cohort.min_group_size)
    rows = module_data(modules, pairs, d)
    growth = growth_data(program, modules, pairs, d)
    mastery = competency_mastery(program, modules, pairs, d)
    teaching = teaching_data(modules, pairs, d)
    completion = completion_data(program, cohort, pairs, d)
    d.total(_pairs(pairs))
    needing = set(needing_checkin)
    return {
        "cohort": cohort.name,
        "pairs": len(cohort.pairs),
        "participants": len(cohort.participants),
        "min_group_size": cohort.min_group_size,
        "sessions_released": cohort.released,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "modules": rows,
        "growth": growth,
        "teaching": teaching,
        "completion": completion,
        "mastery": mastery,
        "confidence": confidence_data(growth, mastery),
        "pairs_needing_checkin": d.count(
            frozenset(
                ("pair", _pair_id(p, i)) for i, p in enumerate(pairs) if p.get("id") in needing
            )
        ),
    }


def session_of(program: Program) -> dict[str, str]:
    return {m.id: s.id for s in program.sessions for m in s.modules}


def completion_data(
    program: Program,
    cohort: Cohort,
    pairs: list[dict[str, Any]],
    limits: Disclosure | int | None = None,
) -> list[dict[str, Any]]:
    """Per released session: how many pairs' learners submitted both checkpoints. With
    each module's submitted count published, the count of complete pairs would also tell
    the pairs where neither learner submitted: that group is checked too."""
    d = as_disclosure(cohort.min_group_size if limits is None else limits)
    sessions = session_of(program)
    everyone = d.total(_pairs(pairs))
    rows = []
    for session in program.sessions:
        if session.id not in cohort.released:
            continue
        ids = {
            c["module"]
            for p in pairs
            for c in p["checkpoints"]
            if sessions[c["module"]] == session.id
        }
        reveals = []
        handed_in = []
        for module_id in sorted(ids):
            results = _results(pairs, module_id)
            if d.published(_checkpoints(c for c in results if c["status"] != "missing")):
                by_pair = _pairs(pairs, {module_id})
                d.know(by_pair)  # the module's count, read as a count of pairs
                handed_in.append(by_pair)
        if ids and len(handed_in) == len(ids):
            reveals.append(_pairs(pairs) - frozenset().union(*handed_in))
        complete = d.count(_pairs(pairs, ids), reveals=reveals)
        percent = None
        if isinstance(complete, int) and everyone:
            percent = round(100 * complete / everyone, 1)
        rows.append(
            {
                "session": session.id,
                "title": session.title,
                "pairs": everyone,
                "suppressed": not isinstance(complete, int),
                "complete": complete,
                "percent": percent,
            }
        )
    return rows


def competency_mastery(
    program: Program, modules: list[Module], pairs: list[dict[str, Any]], limits: Disclosure | int
) -> list[dict[str, Any]]:
    """Checkpoint scores per competency (a module's score counts for each of its
    competencies), by direction."""
    d = as_disclosure(limits)
    rows = []
    for module in modules:
        results = _results(pairs, module.id)
        d.total(_checkpoints(results))
        graded = [c for c in results if c["status"] == "graded"]
        for competency in module.competencies:
            rows.append(
                {
                    "competency": competency,
                    "title": program.competency(competency).title,
                    "direction": DIRECTION[module.track],
                    "n": d.count(_checkpoints(graded)),
                    **_scores(d, graded),
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
    date, low feedback for a lead, self-ratings that fell (the thresholds above)."""
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    sessions = session_of(program)
    names = {p.id: p.name for p in cohort.participants}
    dues = due_dates(ws, cohort)
    out = []
    for pair in pairs:
        reasons = []
        for c in pair["checkpoints"]:
            due = dues.get(c["module"])
            if c["status"] == "missing" and due is not None and due < now:
                reasons.append(
                    f"{sessions[c['module']]}: {names[c['learner']]} has not "
                    f"submitted {c['title']} (due {due:%d %b %Y})"
                )
            feedback = c["feedback_to_lead"] or {}
            scores = {
                aspect: feedback[aspect]
                for aspect in ("clarity", "relevance", "pace")
                if feedback.get(aspect) is not None
            }
            low = [f"{aspect} {score}" for aspect, score in scores.items() if score <= LOW_FEEDBACK]
            if scores and (
                min(scores.values()) <= VERY_LOW_FEEDBACK
                or sum(scores.values()) / len(scores) <= LOW_FEEDBACK_MEAN
            ):
                reasons.append(f"low feedback for the lead of {c['title']}: {', '.join(low)}")
            before, after = c["self_assessment"]["before"], c["self_assessment"]["after"]
            drops = {k: before[k] - after[k] for k in sorted(after) if k in before}
            fell = [f"{k} {before[k]}->{after[k]}" for k, drop in drops.items() if drop > 0]
            if len(fell) > 1 or any(drop >= RATINGS_FELL_BY for drop in drops.values()):
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
