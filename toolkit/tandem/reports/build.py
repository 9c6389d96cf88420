"""Cohort reports: two static sites built with papermill, and the pages around them.

``reports/programme/`` is the **programme report** for the programme lead: aggregates
only, no names, small groups suppressed (see :mod:`tandem.reports.data`); the folder can be
shared on its own. ``reports/facilitator/`` is the **facilitator's site**: a page per pair,
the check-in list and the check-ins that could not be read. ``reports/index.html`` links
the two and names no one. Each site keeps the data it was built from beside it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tandem.cohort.exchange import read_checkins
from tandem.cohort.workspace import Cohort, Workspace
from tandem.engine.batch import Job, JobRecord, RunOptions, run_jobs
from tandem.engine.executors import Executor
from tandem.errors import TandemError
from tandem.fsutil import atomic_write_json, atomic_write_text
from tandem.htmlpage import escape, link, link_list, page
from tandem.notebook.checkin import CheckIn
from tandem.reports.behaviour_data import (
    followup_pair,
    followup_programme,
    idea_rows,
    ideas_programme,
    pair_ideas,
    read_followups,
    read_idea_records,
)
from tandem.reports.data import (
    checkin_list,
    pair_data,
    programme_data,
    released_modules,
    session_of,
)
from tandem.reports.director import direction_summary, director_body, director_data
from tandem.reports.outcomes_data import (
    add_pair_outcomes,
    add_pulse_flags,
    programme_outcomes,
    pulse_reasons,
    read_safety,
)
from tandem.reports.suppression import Disclosure


@dataclass(frozen=True)
class ReportResult:
    index: Path
    records: list[JobRecord]
    checkin_problems: list[TandemError]

    @property
    def failed(self) -> list[JobRecord]:
        return [r for r in self.records if r.status == "failed"]


@dataclass(frozen=True)
class Sites:
    root: Path

    @property
    def programme(self) -> Path:
        return self.root / "programme"

    @property
    def facilitator(self) -> Path:
        return self.root / "facilitator"

    @property
    def pairs_file(self) -> Path:
        return self.facilitator / "data" / "pairs.json"

    @property
    def programme_file(self) -> Path:
        return self.programme / "data.json"

    @property
    def director_file(self) -> Path:
        return self.programme / "director.json"


@dataclass(frozen=True)
class ReportData:
    cohort: Cohort
    sites: Sites
    checkins_needed: list[dict[str, Any]]
    checkin_problems: list[TandemError]
    ideas: list[dict[str, Any]] = field(default_factory=list)


def template(name: str) -> Path:
    """Path of a report notebook template shipped in the package."""
    return Path(str(resources.files("tandem.reports") / "templates" / name))


@dataclass
class Figures:
    """Everything the sites show, computed once (nothing written yet)."""

    cohort: Cohort
    pairs: list[dict[str, Any]]
    needed: list[dict[str, Any]]
    problems: list[TandemError]
    ideas: list[dict[str, Any]]
    programme: dict[str, Any]


def report_figures(ws: Workspace) -> Figures:
    """The pair data, the check-in list and the programme figures of the cohort at ``ws``
    (what :func:`build_report_data` writes and ``tandem export`` exports)."""
    cohort = ws.load()
    program = ws.program(cohort)
    modules = released_modules(program, cohort)
    checkins: dict[str, dict[str, CheckIn]] = {}
    problems: list[TandemError] = []
    for module in modules:
        checkins[module.id], skipped = read_checkins(ws, cohort, module.id)
        problems += skipped
    pairs = pair_data(ws, cohort, modules, checkins)
    add_pair_outcomes(cohort, pairs, checkins)
    ideas = idea_rows(cohort, checkins, read_idea_records(ws))
    followups, skipped = read_followups(ws, cohort, program)
    problems += skipped
    for pair in pairs:
        pair["ideas"] = pair_ideas(ideas, pair["id"])
        pair["followup"] = followup_pair(followups, (pair["junior"]["id"], pair["senior"]["id"]))
    sessions = session_of(program)
    for pair in pairs:
        for checkpoint in pair["checkpoints"]:
            checkpoint["session"] = sessions[checkpoint["module"]]
    # Safety scores stay in memory: only flags (check-in list) and suppressed means by role
    # (programme report) are written.
    safety = read_safety(ws, cohort, program)
    problems += safety.problems
    needed = add_pulse_flags(
        cohort, checkin_list(ws, cohort, program, pairs), pulse_reasons(cohort, safety)
    )
    d = Disclosure(cohort.min_group_size)
    programme = programme_data(
        cohort, program, modules, pairs, [c["pair"] for c in needed], disclosure=d
    )
    programme.update(programme_outcomes(cohort, program, modules, pairs, safety, d))
    # Behaviour and the director's summary: computed once here, shown on both pages.
    programme["summary"] = direction_summary(pairs, d)
    programme.update(ideas_programme(ideas, d))
    programme["followup"] = followup_programme(cohort, followups, d)
    return Figures(cohort, pairs, needed, problems, ideas, programme)


def build_report_data(ws: Workspace) -> ReportData:
    """Write the data each site is built from (see the module docstring)."""
    figures = report_figures(ws)
    cohort = figures.cohort
    sites = Sites(ws.folder("reports"))
    atomic_write_json(
        sites.pairs_file,
        {
            "cohort": cohort.name,
            "pairs": figures.pairs,
            "checkins_needed": figures.needed,
            "ideas": figures.ideas,
            "generated_at": figures.programme["generated_at"],
        },
    )
    atomic_write_json(sites.programme_file, figures.programme)
    write_director_page(sites, figures.programme)
    return ReportData(cohort, sites, figures.needed, figures.problems, figures.ideas)


def write_director_page(sites: Sites, programme: dict[str, Any]) -> Path:
    """``programme/director.html`` (and the data it shows, ``director.json``): the
    programme report's headline figures on one page."""
    data = director_data(programme)
    atomic_write_json(sites.director_file, data)
    path = sites.programme / "director.html"
    atomic_write_text(
        path,
        page(
            f"{programme['cohort']}: outcomes at a glance",
            director_body(data),
            footer="Built from director.json, the programme report's own figures.",
        ),
    )
    return path


def report_jobs(ws: Workspace, data: ReportData) -> list[Job]:
    """One papermill job for the programme report and one per pair. Executed notebooks
    (which hold the data's paths) are kept under ``runs/``, outside both sites."""
    executed = ws.folder("runs") / "notebooks"
    sites, cohort = data.sites, data.cohort
    jobs = [
        Job(
            id="programme",
            notebook=template("cohort_report.ipynb"),
            output=executed / "programme.ipynb",
            html=sites.programme / "index.html",
            parameters={"data_path": sites.programme_file.name},
            inputs={sites.programme_file.name: sites.programme_file},
            title=f"{cohort.name}: programme report",
        )
    ]
    inputs = ws.folder("runs") / "report-inputs"
    shutil.rmtree(inputs, ignore_errors=True)  # no stale copy of anyone's data stays
    everyone = json.loads(sites.pairs_file.read_text(encoding="utf-8"))
    for pair in cohort.pairs:
        # Each pair's job carries only that pair's data (to a worker that may be remote).
        own = inputs / f"{pair.id}.json"
        atomic_write_json(
            own,
            {
                "cohort": everyone["cohort"],
                "generated_at": everyone["generated_at"],
                "pairs": [p for p in everyone["pairs"] if p["id"] == pair.id],
            },
        )
        jobs.append(
            Job(
                id=pair.id,
                notebook=template("pair_report.ipynb"),
                output=executed / f"{pair.id}.ipynb",
                html=sites.facilitator / "pairs" / f"{pair.id}.html",
                parameters={"data_path": "pair.json", "pair_id": pair.id},
                inputs={"pair.json": own},
                title=f"{cohort.name}: {pair.id}",
            )
        )
    return jobs


def _in_workspace(problem: TandemError, root: Path) -> str:
    """A problem as the facilitator reads it on the site: its file named relative to the
    workspace (``submitted/j1/m1/checkin.json``), not by where the workspace lies on disk."""
    base = root.resolve()
    path = problem.path.resolve() if problem.path is not None else None
    if path is None or not path.is_relative_to(base):
        return str(problem)
    where = f" ({problem.where})" if problem.where else ""
    return f"{path.relative_to(base).as_posix()}{where}: {problem.message}"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def write_facilitator_site(data: ReportData, records: list[JobRecord]) -> Path:
    cohort, site = data.cohort, data.sites.facilitator
    status = {r.id: r.status for r in records}
    names = {p.id: p.name for p in cohort.participants}
    pairs = [
        (f"pairs/{p.id}.html", f"{p.id}: {names[p.junior]} & {names[p.senior]}")
        for p in cohort.pairs
        if status.get(p.id) != "failed"
    ]
    body = [
        f"<h1>{escape(cohort.name)}: facilitator's site</h1>",
        f"<p>{len(cohort.pairs)} pairs; sessions released: "
        f"{escape(', '.join(cohort.released) or 'none')}. These pages name people: "
        "keep them to the facilitators. The programme report, which names no one, is "
        '<a href="../programme/index.html">here</a>.</p>',
        f"<h2>Check-ins needed ({len(data.checkins_needed)})</h2>",
        link_list([("check-ins.html", "Pairs to talk to, and why")]),
        f"<h2>Ideas from fresh eyes ({len(data.ideas)})</h2>",
        link_list([("ideas.html", "Every idea with its pair and outcome")]),
        "<h2>Pair reports</h2>",
        link_list(pairs),
    ]
    if cohort.unpaired:
        body.append(
            "<h2>Waiting for a partner</h2>" + _list([f"{names[p]} ({p})" for p in cohort.unpaired])
        )
    failed = [r for r in records if r.status == "failed"]
    if failed:
        body.append("<h2>Not built</h2>" + _list([f"{r.id}: {r.error}" for r in failed]))
    if data.checkin_problems:
        body.append(
            "<h2>Check-ins skipped</h2><p>These check-in (or safety-pulse) files could not "
            "be read; the rest of the data is used.</p>"
            + _list([_in_workspace(p, data.sites.root.parent) for p in data.checkin_problems])
        )
    atomic_write_text(
        site / "index.html",
        page(
            f"{cohort.name}: facilitator's site",
            "\n".join(body),
            footer="Built from data/pairs.json.",
        ),
    )
    rows = "".join(
        f"<tr><td>{link('pairs/' + c['pair'] + '.html', c['pair'])}</td>"
        f"<td>{escape(c['junior'])} &amp; {escape(c['senior'])}</td>"
        f"<td>{_list(c['reasons'])}</td></tr>"
        for c in data.checkins_needed
    )
    table = (
        "<table><thead><tr><th>Pair</th><th>Who</th><th>Why</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else "<p>No pair needs a check-in.</p>"
    )
    atomic_write_text(
        site / "check-ins.html",
        page(
            f"{cohort.name}: check-ins needed",
            "<h1>Check-ins needed</h1><p>Work missing after its due date, low feedback for a "
            "lead (2 or less of 5), self-ratings that fell, or a safety-pulse flag: one "
            "partner reports low safety, or the two partners' views diverge (the answers "
            f"are never shown, nor which partner).</p>{table}",
            footer="Built from data/pairs.json.",
        ),
    )
    write_ideas_page(data)
    return site / "index.html"


def write_ideas_page(data: ReportData) -> Path:
    """``facilitator/ideas.html``: every idea with its pair, direction and outcome (the
    outcome is the facilitator's record, ``tandem ideas set``)."""
    names = {p.id: p.name for p in data.cohort.participants}
    rows = "".join(
        f"<tr><td>{link('pairs/' + i['pair'] + '.html', i['pair'])}</td>"
        f"<td>{escape(i['title'])}</td><td>{escape(i['theme'])}</td>"
        f"<td>{escape(i['direction'])} ({escape(names.get(i['recorder'], i['recorder']))})</td>"
        f"<td>{escape(i['module'])}</td><td>{escape(i['status'])}</td>"
        f"<td>{escape(i['note'] or '-')}</td><td><code>{escape(i['id'])}</code></td></tr>"
        for i in data.ideas
    )
    table = (
        "<table><thead><tr><th>Pair</th><th>Idea</th><th>Theme</th><th>From</th>"
        "<th>Module</th><th>Outcome</th><th>Note</th><th>Id</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else "<p>No idea recorded yet.</p>"
    )
    path = data.sites.facilitator / "ideas.html"
    atomic_write_text(
        path,
        page(
            f"{data.cohort.name}: ideas",
            "<h1>Ideas from fresh eyes</h1><p>Improvement ideas either partner recorded in a "
            "lesson; the outcome is yours to record: <code>tandem ideas set COHORT ID "
            "--status trialled|adopted|declined --note TEXT</code> (an idea without one is "
            f"awaiting an outcome).</p>{table}",
            footer="Built from data/pairs.json.",
        ),
    )
    return path


def write_index(data: ReportData, records: list[JobRecord]) -> Path:
    """The top page: links to both sites; names no one."""
    status = {r.id: r.status for r in records}
    body = [
        f"<h1>{escape(data.cohort.name)}: reports</h1>",
        "<h2>Programme report</h2><p>For the programme lead: aggregates only, no names. "
        "The <code>programme/</code> folder can be shared on its own.</p>",
        (
            '<p class="suppressed">The programme report failed to build.</p>'
            if status.get("programme") == "failed"
            else link_list([("programme/index.html", "Programme report")])
        ),
        "<h2>Facilitator's site</h2><p>Pair pages and the check-in list; names people.</p>",
        link_list([("facilitator/index.html", "Facilitator's site")]),
    ]
    index = data.sites.root / "index.html"
    atomic_write_text(index, page(f"{data.cohort.name}: reports", "\n".join(body)))
    return index


def build_reports(
    root: Path | str,
    *,
    force: bool = True,
    options: RunOptions | None = None,
    executor: Executor | None = None,
) -> ReportResult:
    """Build both sites of a cohort's reports and the index that links them."""
    ws = Workspace(root)
    data = build_report_data(ws)
    records = run_jobs(
        report_jobs(ws, data),
        ws.folder("runs") / "report.json",
        force=force,
        options=options,
        executor=executor,
    )
    write_facilitator_site(data, records)
    return ReportResult(write_index(data, records), records, data.checkin_problems)
