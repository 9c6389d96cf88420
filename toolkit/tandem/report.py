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
from tandem.cohort import Cohort, Workspace
from tandem.curriculum import Module, Program
from tandem.fsutil import atomic_write_json, atomic_write_text
from tandem.grading import read_score
from tandem.htmlpage import link_list, page

DIRECTION = {"tech": "seniors learning tech", "management": "juniors learning management"}


@dataclass(frozen=True)
class ReportResult:
    index: Path
    records: list[JobRecord]

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
    }


def pair_data(ws: Workspace, cohort: Cohort, modules: list[Module]) -> list[dict[str, Any]]:
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


def programme_data(
    cohort: Cohort, modules: list[Module], pairs: list[dict[str, Any]]
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
    }


def build_report_data(ws: Workspace) -> tuple[Path, Path, Cohort]:
    cohort = ws.load()
    program = ws.program(cohort)
    modules = released_modules(program, cohort)
    pairs = pair_data(ws, cohort, modules)
    data = ws.folder("reports") / "data"
    pairs_file, programme_file = data / "pairs.json", data / "programme.json"
    atomic_write_json(
        pairs_file,
        {
            "cohort": cohort.name,
            "pairs": pairs,
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )
    atomic_write_json(programme_file, programme_data(cohort, modules, pairs))
    return pairs_file, programme_file, cohort


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


def write_index(ws: Workspace, cohort: Cohort, records: list[JobRecord]) -> Path:
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
    index = ws.folder("reports") / "index.html"
    atomic_write_text(
        index, page(f"{cohort.name}: reports", "\n".join(body), footer="Data: reports/data/.")
    )
    return index


def build_reports(root: Path | str, *, force: bool = True) -> ReportResult:
    """Build every report of a cohort: one per pair, one for the cohort, and the index."""
    ws = Workspace(root)
    pairs_file, programme_file, cohort = build_report_data(ws)
    jobs = report_jobs(ws, cohort, pairs_file, programme_file)
    records = run_jobs(jobs, ws.folder("runs") / "report.json", force=force)
    return ReportResult(write_index(ws, cohort, records), records)
