"""The `tandem` command: parses arguments, calls one library function, prints the result.

Exit codes: 0 success; 1 a problem Tandem reports (a bad file, a failed job); 2 bad
command-line usage; 130 interrupted.
"""

from __future__ import annotations

import sys
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tandem import __version__
from tandem.errors import TandemError, UsageError

if TYPE_CHECKING:
    from tandem.matching import MatchResult, SameDepartment, Teaching
    from tandem.membership import RepairResult

app = typer.Typer(
    name="tandem",
    no_args_is_help=True,
    add_completion=False,
    help="Run two-way mentoring programmes in Jupyter: a curriculum as code, nbgrader "
    "checkpoints and papermill cohort reports.",
)
cohort_app = typer.Typer(no_args_is_help=True, help="Create and manage a cohort workspace.")
app.add_typer(cohort_app, name="cohort")
privacy_app = typer.Typer(
    no_args_is_help=True,
    help="A participant's data rights: export everything Tandem holds about them, or erase it.",
)
app.add_typer(privacy_app, name="privacy")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Track(str, Enum):
    tech = "tech"
    management = "management"


Curriculum = Annotated[
    Path | None,
    typer.Option(
        "--curriculum",
        help="The programme manifest (program.yml). Default: $TANDEM_CURRICULUM, "
        "else ./curriculum/program.yml.",
    ),
]
WorkspaceDir = Annotated[Path, typer.Argument(help="The cohort workspace folder.")]
SessionId = Annotated[str, typer.Argument(help="A session id from program.yml, e.g. session-01.")]


class DepartmentRule(str, Enum):
    allowed = "allowed"
    avoid = "avoid"
    forbid = "forbid"


SameDepartmentOption = Annotated[
    DepartmentRule,
    typer.Option(
        "--same-department",
        help="Pairs within one department: allowed; avoid (only when no other choice "
        "pairs as many people); forbid (never).",
    ),
]
Explain = Annotated[
    bool,
    typer.Option("--explain", help="Show each pair's score: what each partner teaches the other."),
]
ROSTER_HELP = (
    "Roster CSV: id, name, email, role[, department]; for matching also rate_<competency> "
    "(1-5), manager_id, avoid, capacity (see docs/matching.md)."
)


def _version(value: bool) -> None:
    if value:
        console.print(f"tandem {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Tandem: two-way mentoring programmes in Jupyter notebooks."""


@app.command()
def validate(
    manifest: Annotated[
        Path | None,
        typer.Argument(
            help="The manifest to check. Default: $TANDEM_CURRICULUM, else "
            "./curriculum/program.yml."
        ),
    ] = None,
) -> None:
    """Check the manifest and every lesson and exercise notebook it names."""
    from tandem.curriculum import validate_program

    program = validate_program(manifest)
    console.print(
        f"OK: {len(program.sessions)} sessions, {len(program.modules)} modules, "
        f"{len(program.competencies)} competencies ({program.manifest})"
    )


@cohort_app.command("init")
def cohort_init(
    directory: WorkspaceDir,
    roster: Annotated[Path, typer.Option(help=ROSTER_HELP)],
    pairs: Annotated[
        Path | None,
        typer.Option(
            help="Pairs CSV with columns junior, senior (e.g. from 'tandem match --out'). "
            "Default: pair in roster order."
        ),
    ] = None,
    match: Annotated[
        bool,
        typer.Option(
            "--match",
            help="Pair by two-way complementarity of the roster's ratings (as 'tandem match').",
        ),
    ] = False,
    same_department: SameDepartmentOption = DepartmentRule.allowed,
    explain: Explain = False,
    name: Annotated[
        str | None, typer.Option(help="Cohort name. Default: the folder's name.")
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Date of the first session (YYYY-MM-DD); "
            "later sessions follow every --cadence-days. Sets due dates.",
        ),
    ] = None,
    cadence_days: Annotated[int, typer.Option(min=1, max=365, help="Days between sessions.")] = 21,
    due_days: Annotated[
        int,
        typer.Option(
            min=0,
            max=365,
            help="Submissions are due this many days after "
            "their session, at the end of the day (UTC).",
        ),
    ] = 7,
    curriculum: Curriculum = None,
) -> None:
    """Create a cohort workspace: cohort.yml, an nbgrader course and its gradebook."""
    from tandem.cohort import Schedule, init_cohort

    if pairs is not None and match:
        raise UsageError("give either --pairs or --match, not both")
    if (explain or same_department != DepartmentRule.allowed) and not match:
        raise UsageError("--explain and --same-department need --match")
    rule: SameDepartment = same_department.value
    cohort = init_cohort(
        directory,
        roster,
        pairs=pairs,
        match=match,
        same_department=rule,
        name=name,
        curriculum=curriculum,
        schedule=Schedule(
            start=start.date() if start else None, cadence_days=cadence_days, due_days=due_days
        ),
    )
    console.print(
        f"Created cohort {cohort.name!r} in {directory}: "
        f"{len(cohort.participants)} participants, {len(cohort.pairs)} pairs."
    )
    if match:
        from tandem.matching import match_roster

        # The same roster and rules give the same pairs: this recomputes the explanation.
        result = match_roster(roster, cohort.curriculum, same_department=rule)
        _print_match(result, explain=explain, table=explain)
    elif cohort.unpaired:
        err.print(f"Unpaired (no partner of the other role): {', '.join(cohort.unpaired)}")


@app.command("match")
def match_command(
    roster: Annotated[Path, typer.Argument(help=ROSTER_HELP)],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the pairs to this CSV (id, junior, senior, score, ...), "
            "for 'tandem cohort init --pairs'."
        ),
    ] = None,
    explain: Explain = False,
    same_department: SameDepartmentOption = DepartmentRule.allowed,
    curriculum: Curriculum = None,
) -> None:
    """Pair juniors with seniors so that each can teach what the other needs.

    Maximises the number of pairs, then the total two-way score (see docs/matching.md).

    Never pairs anyone with their manager, a direct report or an id either of them avoids.

    Everyone left unmatched is listed with the reason.
    """
    from tandem.matching import match_roster, write_pairs

    rule: SameDepartment = same_department.value
    result = match_roster(roster, curriculum, same_department=rule)
    if out is not None:
        write_pairs(result, out)
        console.print(f"Wrote {len(result.pairs)} pairs to {out}")
    _print_match(result, explain=explain, table=explain or out is None)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _person(result: MatchResult, participant_id: str) -> str:
    return f"{escape(participant_id)}\n[dim]{escape(result.names[participant_id])}[/dim]"


def _pairs_table(result: MatchResult) -> Table:
    grid = Table("pair", "junior", "senior", "score")
    for score in result.scores:
        pair = score.pair
        row = [pair.id, _person(result, pair.junior), _person(result, pair.senior)]
        grid.add_row(*row, str(score.score))
    return grid


def _teaching_rows(teacher: str, learner: str, items: tuple[Teaching, ...]) -> list[list[str]]:
    useful = [t for t in items if t.points > 0]
    who = f"{escape(teacher)} -> {escape(learner)}"
    if not useful:
        return [[who, "[dim]nothing to teach[/dim]", "", "0"]]
    return [
        [
            who if i == 0 else "",
            t.competency,
            f"{t.teacher_rating} vs {t.learner_rating}",
            f"+{t.points}",
        ]
        for i, t in enumerate(useful)
    ]


def _explain_table(result: MatchResult) -> Table:
    """Per pair: what the junior teaches the senior (tech), and the senior the junior."""
    grid = Table(
        "pair",
        "teaches",
        "competency",
        "ratings",
        "points",
        caption="ratings: the teacher's self-rating vs the learner's; "
        "points: the difference, or 0 if the learner rates higher",
    )
    for score in result.scores:
        pair = score.pair
        rows = _teaching_rows(pair.junior, pair.senior, score.junior_teaches)
        rows += _teaching_rows(pair.senior, pair.junior, score.senior_teaches)
        same = " same department" if score.same_department else ""
        total = f"tech {score.tech_points} + management {score.management_points}{same}"
        rows.append(["", f"[bold]score[/bold] [dim]({total})[/dim]", "", f"[bold]{score.score}"])
        for i, row in enumerate(rows):
            grid.add_row(pair.id if i == 0 else "", *row)
        grid.add_section()
    return grid


def _print_match(result: MatchResult, *, explain: bool, table: bool) -> None:
    if table and result.scores:
        console.print(_explain_table(result) if explain else _pairs_table(result))
    count = len(result.pairs)
    mean = f", {result.total_score / count:.1f} per pair" if count else ""
    console.print(
        f"{_count(count, 'pair')} from {_count(result.juniors, 'junior')} and "
        f"{_count(result.seniors, 'senior')} ({_count(result.senior_places, 'senior place')}): "
        f"total score {result.total_score}{mean}",
        highlight=False,
    )
    if explain:
        console.print(
            f"Juniors teach {result.tech_total} points of tech; seniors teach "
            f"{result.management_total} points of management; "
            f"{result.same_department_pairs} pairs share a department "
            f"(--same-department {result.same_department}).",
            highlight=False,
        )
    for person in result.unmatched:
        err.print(f"Unmatched {person.role} {person.id}: {person.reason}", highlight=False)
    _print_missing(result)


def _print_missing(result: MatchResult) -> None:
    missing = result.missing_ratings
    if not missing:
        return
    if len(missing) == len(result.names) and all(
        len(gaps) == len(result.competencies) for gaps in missing.values()
    ):
        err.print("Note: the roster has no ratings (rate_<competency> columns): every score is 0")
        return
    people = sorted(missing)
    shown = ", ".join(f"{p} ({len(missing[p])})" for p in people[:5])
    more = f" and {len(people) - 5} more" if len(people) > 5 else ""
    err.print(
        f"Note: {len(people)} participants have blank or missing ratings, counted as 3 "
        f"(neutral): {shown}{more}",
        highlight=False,
    )


@app.command()
def release(directory: WorkspaceDir, session: SessionId) -> None:
    """Release a session's two modules (checkpoint, lesson notebook, context file)."""
    from tandem.cohort import release_session

    for folder in release_session(directory, session):
        console.print(f"Released {folder.name} -> {folder}")


@app.command()
def collect(
    directory: WorkspaceDir,
    session: Annotated[
        str | None, typer.Argument(help="A session id. Default: every released session.")
    ] = None,
) -> None:
    """Collect submissions from the exchange: what arrived, what is late, what is missing.

    Strips saved widget state from every submitted notebook and checks the check-ins.
    """
    from tandem.cohort import Workspace

    for session_id in [session] if session else Workspace(directory).load().released:
        _collect_one(directory, session_id)


def _collect_one(directory: Path, session: str) -> None:
    from tandem.exchange import collect_session

    report = collect_session(directory, session)
    for module, arrived in report.arrived.items():
        missing = report.missing[module]
        console.print(
            f"{module}: {len(arrived)} submitted"
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    for module, late in report.late.items():
        if late:
            console.print(f"{module}: late: {', '.join(late)}")
    if report.scrubbed:
        console.print(f"Removed saved widget state from {len(report.scrubbed)} notebooks.")
    for problem in report.invalid:
        err.print(f"invalid notebook (will be quarantined when graded): {problem}", markup=False)
    for problem in report.checkin_problems:
        err.print(f"check-in skipped: {problem}", markup=False)


@cohort_app.command("add")
def cohort_add(
    directory: WorkspaceDir,
    roster: Annotated[Path, typer.Option(help="Roster CSV of the newcomers (same columns).")],
) -> None:
    """Add newcomers to a cohort and pair them (by the matching rules) with the unpaired."""
    from tandem.membership import add_participants

    _print_repair(add_participants(directory, roster))


@cohort_app.command("withdraw")
def cohort_withdraw(
    directory: WorkspaceDir,
    participant: Annotated[str, typer.Argument(help="The participant's id.")],
) -> None:
    """Withdraw a participant: no further releases or report rows; their data is kept."""
    from tandem.membership import withdraw

    partner = withdraw(directory, participant)
    console.print(f"{participant} has withdrawn; their past data is kept until erased.")
    if partner:
        console.print(f"{partner} needs a new partner: 'tandem cohort repair {directory}'.")


@cohort_app.command("repair")
def cohort_repair(directory: WorkspaceDir) -> None:
    """Pair the unpaired juniors and seniors by the matching rules, explaining each pair."""
    from tandem.membership import repair

    _print_repair(repair(directory))


def _print_repair(result: RepairResult) -> None:
    for line in result.explanations:
        console.print(line)
    if not result.pairs:
        console.print("No new pairs.")
    if result.unpaired:
        console.print(f"Still unpaired: {', '.join(result.unpaired)}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab(ctx: typer.Context, directory: WorkspaceDir) -> None:
    """Open the cohort in JupyterLab, with nbgrader's formgrader for its course.

    nbgrader takes the course and its nbgrader_config.json from the server's working
    directory, so JupyterLab is started inside the workspace. Extra options go to
    `jupyter lab`.
    """
    import os

    from tandem.cohort import Workspace

    ws = Workspace(directory)
    ws.load()  # a clear error if this is not a cohort
    os.chdir(ws.root)
    os.execvp(sys.executable, [sys.executable, "-m", "jupyterlab", *ctx.args])


@app.command()
def status(
    directory: WorkspaceDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Where every pair stands on every released module, and what needs you now."""
    import json

    from tandem.status import cohort_status

    result = cohort_status(directory)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    table = Table(
        "pair",
        "module",
        "learner",
        "submitted",
        "lead",
        "submitted ",
        "grading",
        "auto",
        "feedback",
        "check-ins",
        title=f"{result.cohort}",
    )
    for r in result.rows:
        table.add_row(
            r.pair,
            r.module,
            r.learner,
            r.learner_submission,
            r.lead,
            r.lead_submission,
            r.grading,
            r.autograded,
            r.feedback,
            r.checkins,
        )
    console.print(table)
    if result.withdrawn:
        console.print(f"Withdrawn: {', '.join(result.withdrawn)}")
    console.print(result.summary())


@app.command()
def feedback(
    directory: WorkspaceDir,
    session: SessionId,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Release feedback even where a written answer is still ungraded."
        ),
    ] = False,
) -> None:
    """Generate and release nbgrader feedback to each learner whose checkpoint is graded."""
    from tandem.feedback import release_feedback

    result = release_feedback(directory, session, force=force)
    for module, learner in result.released:
        console.print(f"released feedback: {learner} on {module}")
    for module, learner in result.not_graded:
        console.print(f"not graded yet: {learner} on {module}")


@app.command()
def grade(directory: WorkspaceDir, session: SessionId) -> None:
    """Autograde the learners' checkpoints of a session with nbgrader."""
    from tandem.grading import grade_session

    results = grade_session(directory, session)
    table = Table("module", "learner", "pair", "status", "autograded", "written answer")
    for r in results:
        auto = f"{r.score.auto_score:g}/{r.score.auto_max:g}" if r.score else "-"
        manual = (
            "pending" if r.score and r.score.manual_pending else "-" if not r.score else "graded"
        )
        table.add_row(r.module, r.participant, r.pair, r.status, auto, manual)
    console.print(table)
    from tandem.exchange import session_checkin_problems

    for problem in session_checkin_problems(directory, session):
        err.print(f"check-in skipped: {problem}", markup=False)
    bad = [r for r in results if r.status in ("failed", "quarantined")]
    for r in bad:
        err.print(f"{r.status}: {r.participant} on {r.module}: {r.error}")
    if bad:
        raise TandemError(f"{len(bad)} of {len(results)} submissions could not be graded")


@app.command()
def report(directory: WorkspaceDir) -> None:
    """Build the pair reports, the cohort report and reports/index.html."""
    from tandem.report import build_reports

    result = build_reports(directory)
    for record in result.failed:
        err.print(f"failed: {record.id}: {record.error}")
    console.print(f"Reports: {result.index}")
    if result.failed:
        raise TandemError(f"{len(result.failed)} of {len(result.records)} reports failed")


@app.command()
def demo(
    pairs: Annotated[int, typer.Option(min=1, max=200, help="Number of pairs.")] = 6,
    out: Annotated[
        Path,
        typer.Option(help="Folder for the demo cohort (replaced if it holds an earlier demo)."),
    ] = Path("demo-cohort"),
    sessions: Annotated[
        int | None, typer.Option(min=1, help="Run only the first N sessions. Default: all.")
    ] = None,
    curriculum: Curriculum = None,
) -> None:
    """Build a synthetic cohort and run it end to end; print the path of its report.

    Matches the roster, then for each session: release, fetch, work (answers of varied
    quality, check-ins), submit, collect and autograde through nbgrader; then reports.
    """
    from tandem.demo import run_demo

    result = run_demo(
        out,
        pairs=pairs,
        sessions=sessions,
        curriculum=curriculum,
        progress=lambda msg: err.print(msg, style="dim", markup=False),
    )
    statuses: dict[str, int] = {}
    for r in result.grades:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    err.print("Checkpoints: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    for record in result.reports.failed:
        err.print(f"report failed: {record.id}: {record.error}")
    console.print(str(result.reports.index))
    if result.reports.failed:
        raise TandemError("some reports failed")


@app.command("new-module")
def new_module_command(
    module_id: Annotated[
        str, typer.Argument(metavar="ID", help="The new module's id, e.g. t7-spreadsheets.")
    ],
    track: Annotated[
        Track, typer.Option(help="tech (the junior leads) or management (the senior leads).")
    ],
    session: Annotated[
        str | None,
        typer.Option(
            help="Add to this session (it must lack a "
            "module of this track), or create it. "
            "Default: a new session."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="The module's title.")] = None,
    partner: Annotated[
        str | None,
        typer.Option(
            help="Id of the placeholder partner module a new session needs. Default: ID-partner."
        ),
    ] = None,
    curriculum: Curriculum = None,
) -> None:
    """Scaffold a module: lesson, checkpoint, data and manifest entry, ready to fill in."""
    from tandem.curriculum import default_manifest
    from tandem.scaffold import new_module

    written = new_module(
        curriculum or default_manifest(),
        module_id,
        track.value,
        session=session,
        title=title,
        partner=partner,
    )
    for path in written:
        console.print(f"wrote {path}")
    console.print("Now fill in the TODOs, then run 'tandem validate'.")


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


@app.command("export")
def export_command(
    directory: WorkspaceDir,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="csv (for spreadsheets: text that could run as a formula is prefixed "
            "with ') or json (values exactly as held).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the files. Default: DIR/exports/.")
    ] = None,
) -> None:
    """Export scores and check-ins for the facilitator: scores.<fmt> and checkins.<fmt>."""
    from tandem.cohort import Workspace
    from tandem.exchange import session_checkin_problems
    from tandem.export import export_cohort

    written = export_cohort(
        directory, out or directory / "exports", "csv" if fmt is ExportFormat.csv else "json"
    )
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False)
    for session in Workspace(directory).load().released:
        for problem in session_checkin_problems(directory, session):
            err.print(f"check-in skipped: {problem}", markup=False)


PrivacyWorkspace = Annotated[
    Path | None,
    typer.Option("--workspace", help="A cohort workspace (the facilitator's side) to include."),
]
PrivacyStore = Annotated[
    bool,
    typer.Option(
        "--store/--no-store",
        help="Include the private store at $TANDEM_HOME (the participant's side).",
    ),
]


@privacy_app.command("export")
def privacy_export(
    participant: Annotated[str, typer.Argument(help="The participant's id.")],
    workspace: PrivacyWorkspace = None,
    store: PrivacyStore = True,
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON here (default: standard output).")
    ] = None,
) -> None:
    """Export all of a participant's data as JSON: private answers, check-ins, scores."""
    import json

    from tandem.privacy import export_participant, write_export
    from tandem.store import Store

    data = export_participant(participant, workspace=workspace, store=Store() if store else None)
    if out is None:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        console.print(f"Exported {participant}'s data to {write_export(data, out)}")


@privacy_app.command("erase")
def privacy_erase(
    participant: Annotated[str, typer.Argument(help="The participant's id.")],
    workspace: PrivacyWorkspace = None,
    store: PrivacyStore = True,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a participant's data everywhere Tandem put it, and say what was removed."""
    from tandem.privacy import erase_participant
    from tandem.store import Store

    places = [
        p
        for p, given in (
            ("their private store", store),
            (f"cohort workspace {workspace}", workspace),
        )
        if given
    ]
    if not places:
        raise UsageError("nothing to erase: give --workspace and/or keep --store")
    if not yes:
        typer.confirm(
            f"Erase all of {participant}'s data from {' and '.join(places)}? "
            "This cannot be undone.",
            abort=True,
        )
    removed = erase_participant(participant, workspace=workspace, store=Store() if store else None)
    for line in removed or ["nothing: no data found"]:
        console.print(f"removed {line}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning a TandemError into a message and an exit code.

    Usage errors, ``--help`` and Ctrl-C are handled by the command-line parser itself.
    """
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="tandem", standalone_mode=True)
    except TandemError as exc:
        err.print(f"tandem: error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
