"""Cohort reports: report data (with the privacy rules), papermill runs, the HTML index.

Two data files are written, and each report notebook reads only its own:

* ``reports/data/pairs.json`` – per pair, naming the pair's members; read by the pair
  reports (for the pair and their facilitator).
* ``reports/data/programme.json`` – aggregates only, no names or ids, with any group
  smaller than the cohort's ``min_group_size`` suppressed; read by the cohort report.
"""

from __future__ import annotations

import html
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from tandem.batch import Job, JobRecord, run_jobs
from tandem.checkin import CheckIn
from tandem.cohort import Cohort, Workspace
from tandem.curriculum import Module, Program
from tandem.errors import TandemError
from tandem.exchange import read_checkins
from tandem.fsutil import atomic_write_json, atomic_write_text
from tandem.grading import read_score
from tandem.htmlpage import link_list, page
from tandem.roster import Pair

DIRECTION = {"tech": "seniors learning tech", "management": "juniors learning management"}


@dataclass(frozen=True)
class ReportResult:
    index: Path
    records: list[JobRecord]
    checkin_problems: list[TandemError]

    @property
    def failed(self) -> list[JobRecord]:
        return [r for r in self.records if r.status == "failed"]


def template(name: str) -> Path:
    """Path of a report notebook template shipped in the package."""
    return Path(str(resources.files("tandem") / "templates" / name))


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
        given = [
            c["feedback_to_lead"]
            for p in pairs
            for c in p["checkpoints"]
            if c["track"] == track and c["feedback_to_lead"]
        ]
        row: dict[str, Any] = {
            "direction": teacher,
            "n": len(given),
            "suppressed": len(given) < min_group_size,
        }
        for aspect in ("clarity", "relevance", "pace"):
            scores = [f[aspect] for f in given if f.get(aspect) is not None]
            row[aspect] = _mean_or_suppressed(scores, min_group_size)
        rows.append(row)
    return rows


def programme_data(
    cohort: Cohort, program: Program, modules: list[Module], pairs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Aggregates only: no names, no ids; small groups suppressed."""
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
        "growth": growth_data(program, modules, pairs, cohort.min_group_size),
        "teaching": teaching_data(modules, pairs, cohort.min_group_size),
    }


@dataclass(frozen=True)
class ReportData:
    cohort: Cohort
    pairs_file: Path
    programme_file: Path
    checkin_problems: list[TandemError]


def build_report_data(ws: Workspace) -> ReportData:
    """Write the two data files the report notebooks read (see the module docstring)."""
    cohort = ws.load()
    program = ws.program(cohort)
    modules = released_modules(program, cohort)
    checkins: dict[str, dict[str, CheckIn]] = {}
    problems: list[TandemError] = []
    for module in modules:
        checkins[module.id], skipped = read_checkins(ws, cohort, module.id)
        problems += skipped
    pairs = pair_data(ws, cohort, modules, checkins)
    data = ws.folder("reports") / "data"
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atomic_write_json(
        data / "pairs.json", {"cohort": cohort.name, "pairs": pairs, "generated_at": generated}
    )
    atomic_write_json(data / "programme.json", programme_data(cohort, program, modules, pairs))
    return ReportData(cohort, data / "pairs.json", data / "programme.json", problems)


def report_jobs(ws: Workspace, cohort: Cohort, pairs_file: Path, programme_file: Path) -> list[Job]:
    out = ws.folder("reports")
    jobs = [
        Job(
            id="cohort",
            notebook=template("cohort_report.ipynb"),
            output=out / "notebooks" / "cohort.ipynb",
            html=out / "cohort.html",
            parameters={"data_path": str(programme_file)},
            title=f"{cohort.name}: programme report",
        )
    ]
    for pair in cohort.pairs:
        jobs.append(
            Job(
                id=pair.id,
                notebook=template("pair_report.ipynb"),
                output=out / "notebooks" / f"{pair.id}.ipynb",
                html=out / "pairs" / f"{pair.id}.html",
                parameters={"data_path": str(pairs_file), "pair_id": pair.id},
                title=f"{cohort.name}: {pair.id}",
            )
        )
    return jobs


def write_index(
    ws: Workspace, cohort: Cohort, records: list[JobRecord], checkin_problems: list[TandemError]
) -> Path:
    status = {r.id: r.status for r in records}
    failed = [r for r in records if r.status == "failed"]
    pairs = [
        (
            f"pairs/{p.id}.html",
            f"{p.id}: {cohort.participant(p.junior).name} & {cohort.participant(p.senior).name}",
        )
        for p in cohort.pairs
        if status.get(p.id) != "failed"
    ]
    body = [
        f"<h1>{html.escape(cohort.name)}: reports</h1>",
        f"<p>{len(cohort.pairs)} pairs, {len(cohort.participants)} participants; "
        f"sessions released: {html.escape(', '.join(cohort.released) or 'none')}.</p>",
        "<h2>Programme report</h2>",
    ]
    if status.get("cohort") == "failed":
        body.append('<p class="suppressed">The programme report failed to build.</p>')
    else:
        body.append(link_list([("cohort.html", "Checkpoint results across the cohort")]))
    body += ["<h2>Pair reports</h2>", link_list(pairs)]
    if failed:
        body.append(
            "<h2>Not built</h2>"
            + "<ul>"
            + "".join(f"<li>{html.escape(r.id)}: {html.escape(r.error or '')}</li>" for r in failed)
            + "</ul>"
        )
    if checkin_problems:
        body.append(
            "<h2>Check-ins skipped</h2><p>These check-in files could not be read; "
            "the rest of the data is used.</p><ul>"
            + "".join(f"<li>{html.escape(str(p))}</li>" for p in checkin_problems)
            + "</ul>"
        )
    index = ws.folder("reports") / "index.html"
    atomic_write_text(
        index, page(f"{cohort.name}: reports", "\n".join(body), footer="Data: reports/data/.")
    )
    return index


def build_reports(root: Path | str, *, force: bool = True) -> ReportResult:
    """Build every report of a cohort: one per pair, one for the cohort, and the index."""
    ws = Workspace(root)
    data = build_report_data(ws)
    jobs = report_jobs(ws, data.cohort, data.pairs_file, data.programme_file)
    records = run_jobs(jobs, ws.folder("runs") / "report.json", force=force)
    index = write_index(ws, data.cohort, records, data.checkin_problems)
    return ReportResult(index, records, data.checkin_problems)
