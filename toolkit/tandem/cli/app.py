"""The `tandem` command: parses arguments, calls one library function, prints the result.

Exit codes: 0 success; 1 a problem Tandem reports (a bad file, a failed job); 2 bad
command-line usage; 130 interrupted.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tandem import __version__
from tandem.cli.batch import batch, grade, report
from tandem.cli.followup import followup_command
from tandem.cli.grades import grades_app
from tandem.cli.hub import hub_app
from tandem.cli.ideas import ideas_app
from tandem.cli.options import (
    Curriculum,
    SessionId,
    Track,
    WorkspaceDir,
    console,
    err,
)
from tandem.cli.people import cohort_app, match_command, privacy_app
from tandem.engine import lazyimport  # noqa: F401 - defers jsonschema's slow import
from tandem.errors import TandemError

if TYPE_CHECKING:
    pass

app = typer.Typer(
    name="tandem",
    no_args_is_help=True,
    add_completion=False,
    help="Run two-way mentoring programmes in Jupyter: a curriculum as code, nbgrader "
    "checkpoints and papermill cohort reports.",
)
app.add_typer(cohort_app, name="cohort")
app.add_typer(privacy_app, name="privacy")
app.add_typer(grades_app, name="grades")
app.add_typer(ideas_app, name="ideas")
app.add_typer(hub_app, name="hub")
submissions_app = typer.Typer(
    no_args_is_help=True,
    help="Submissions under an id that is not in the cohort (e.g. a login name): give "
    "them to their participant, or discard them.",
)
app.add_typer(submissions_app, name="submissions")
StrayId = Annotated[
    str, typer.Argument(metavar="FROM", help="The id the submission arrived under, e.g. root.")
]
ModuleOpt = Annotated[
    str | None, typer.Option("--module", help="Only this module. Default: every module.")
]


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
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Also refuse checkpoints that break the authoring rules (every objective "
            "tested by a tagged item, answers without code, stretch items without points).",
        ),
    ] = False,
) -> None:
    """Check the manifest and every lesson and exercise notebook it names."""
    from tandem.curriculum.checkpoint_rules import checkpoint_problems
    from tandem.curriculum.manifest import validate_program
    from tandem.errors import ValidationFailed

    program = validate_program(manifest)
    advice = [p for m in program.modules for p in checkpoint_problems(program, m)]
    if advice and strict:
        raise ValidationFailed(advice)
    for problem in advice:
        console.print(f"advice: {problem}", markup=False, highlight=False)
    followup = program.followup
    console.print(
        f"OK: {len(program.sessions)} sessions, {len(program.modules)} modules, "
        f"{len(program.competencies)} competencies"
        + (f", follow-up {followup.id} after {followup.after_days} days" if followup else "")
        + f" ({program.manifest})"
        + (f"; {len(advice)} checkpoint advice (see docs/authoring-modules.md)" if advice else "")
    )


app.command("match")(match_command)


@app.command()
def release(directory: WorkspaceDir, session: SessionId) -> None:
    """Release a session's two modules (checkpoint, lesson notebook, context file)."""
    from tandem.cohort.exchange import due_text
    from tandem.cohort.release import release_session, republish_note, session_due

    again = republish_note(directory, session)
    for folder in release_session(directory, session):
        console.print(f"Released {folder.name} -> {folder}", markup=False, highlight=False)
    if again:
        console.print(again, markup=False, highlight=False)
    due = session_due(directory, session)
    console.print(
        f"Due {due_text(due)} (end of the day, UTC)"
        if due
        else "No due date: cohort.yml has no schedule.start (see the README's schedule)",
        highlight=False,
    )


@app.command()
def collect(
    directory: WorkspaceDir,
    session: Annotated[
        str | None,
        typer.Argument(
            help="A session id, or the follow-up's. Default: every released session (and "
            "the follow-up, once released)."
        ),
    ] = None,
) -> None:
    """Collect submissions from the exchange: what arrived, what is late, what is missing.

    Strips saved widget state from every submitted notebook and checks the check-ins.
    """
    from tandem.cohort.exchange import sessions_to_collect

    refused = [_collect_one(directory, s) for s in sessions_to_collect(directory, session)]
    if any(refused):
        raise typer.Exit(1)  # everything else was collected; what was refused is listed


def _collect_one(directory: Path, session: str) -> bool:
    """Collect one session and print what happened; whether a submission was refused."""
    from tandem.cohort.exchange import collect_session, due_text

    report = collect_session(directory, session)
    for module, arrived in report.arrived.items():
        missing, later = report.missing[module], report.not_yet_due[module]
        console.print(
            f"{module} (due {due_text(report.due[module])}): {len(arrived)} submitted"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; not yet due: {', '.join(later)}" if later else ""),
            highlight=False,
        )
    for module, late in report.late.items():
        if late:
            console.print(f"{module}: late: {', '.join(late)}")
    if report.scrubbed:
        console.print(f"Removed saved widget state from {len(report.scrubbed)} notebooks.")
    for problem in report.refused:
        err.print(f"refused: {problem}", markup=False, highlight=False)
    for problem in report.invalid:
        err.print(f"invalid notebook (will be quarantined when graded): {problem}", markup=False)
    for problem in report.checkin_problems:
        err.print(f"check-in skipped: {problem}", markup=False)
    for stray in report.strays:
        err.print(stray.message(directory), markup=False, highlight=False)
    return bool(report.refused)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab(ctx: typer.Context, directory: WorkspaceDir) -> None:
    """Open the cohort in JupyterLab, with nbgrader's formgrader for its course.

    nbgrader takes the course and its nbgrader_config.json from the server's working
    directory, so JupyterLab is started inside the workspace. Extra options go to
    `jupyter lab`.
    """
    import os

    from tandem.cohort.workspace import Workspace

    ws = Workspace(directory)
    ws.load()  # a clear error if this is not a cohort
    os.chdir(ws.root)
    os.execvp(sys.executable, [sys.executable, "-m", "jupyterlab", *ctx.args])


@app.command()
def status(
    directory: WorkspaceDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="One row per pair and module with every detail, however wide."),
    ] = False,
) -> None:
    """Where every pair stands on every released module, and what needs you now.

    One row per pair, a mark per module, laid out for the terminal's width ($COLUMNS).
    """
    import json

    from tandem.cli.statusview import compact_lines, notes_lines, terminal_width, wide_table
    from tandem.reports.status import cohort_status

    result = cohort_status(directory)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    width = terminal_width()
    if wide:
        from rich.console import Console

        unbounded = Console(width=100_000, markup=False, highlight=False)  # never cuts
        unbounded.print(wide_table(result), crop=False)
        lines = notes_lines(result, directory, 100_000)
    else:
        lines = compact_lines(result, directory, width) + notes_lines(result, directory, width)
    for line in lines:
        console.print(line, markup=False, highlight=False)


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
    from tandem.grading.feedback import release_feedback

    result = release_feedback(directory, session, force=force)
    for module, learner in result.released:
        console.print(f"released feedback: {learner} on {module}")
    for module, learner in result.not_graded:
        console.print(f"not graded yet: {learner} on {module}")
    for note in result.notes:
        console.print(note, markup=False, highlight=False)


@submissions_app.command("reassign")
def reassign_command(
    directory: WorkspaceDir,
    stray: StrayId,
    participant: Annotated[
        str, typer.Argument(metavar="TO", help="The participant whose submission it is.")
    ],
    module: ModuleOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace TO's own submission of a module if they have one."),
    ] = False,
) -> None:
    """Give the submissions that arrived under FROM to the participant TO."""
    from tandem.cohort.strays import reassign

    for moved in reassign(directory, stray, participant, module=module, force=force):
        console.print(
            f"{moved}: the submission from {stray!r} is now {participant}'s",
            markup=False,
            highlight=False,
        )
    console.print("Grade it with 'tandem grade'.", highlight=False)


@submissions_app.command("discard")
def discard_command(directory: WorkspaceDir, stray: StrayId, module: ModuleOpt = None) -> None:
    """Remove the submissions that arrived under FROM (collected and in the exchange)."""
    from tandem.cohort.strays import discard

    for gone in discard(directory, stray, module=module):
        console.print(
            f"{gone}: discarded the submission from {stray!r}", markup=False, highlight=False
        )


app.command("followup")(followup_command)
app.command()(grade)
app.command()(report)
app.command()(batch)


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
    from tandem.curriculum.manifest import default_manifest
    from tandem.curriculum.scaffold import new_module

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
    from tandem.cohort.exchange import session_checkin_problems
    from tandem.cohort.workspace import Workspace
    from tandem.reports.export import export_cohort, grading_notes

    written = export_cohort(
        directory, out or directory / "exports", "csv" if fmt is ExportFormat.csv else "json"
    )
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False)
    for note in grading_notes(directory):
        err.print(note, markup=False)
    for session in Workspace(directory).load().released:
        for problem in session_checkin_problems(directory, session):
            err.print(f"check-in skipped: {problem}", markup=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning a TandemError into a message and an exit code.

    Usage errors, ``--help`` and Ctrl-C are handled by the command-line parser itself.
    """
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="tandem", standalone_mode=True)
    except TandemError as exc:
        err.print(f"tandem: error: {exc}", markup=False, highlight=False)
        _exit(exc.exit_code, whole_process=argv is None)
    except SystemExit as done:  # how the parser ends every command
        _exit(done.code, whole_process=argv is None)


def _exit(code: int | str | None, *, whole_process: bool) -> None:
    """End the process once the command is done, without tearing down every module one
    object at a time: that took ~0.4 s after a grading run (nbgrader, SQLAlchemy,
    nbconvert...), for nothing. Exit handlers still run (logging, multiprocessing's
    clean-up), and output is flushed; only the interpreter's final teardown is skipped.
    Only when ``main()`` is the whole process (the ``tandem`` command, ``python -m
    tandem.cli.app``): ``main(argv)`` called from Python (tests), or under a debugger, ends
    with an ordinary ``SystemExit``."""
    if not whole_process or sys.gettrace() is not None:
        sys.exit(code)
    import atexit
    import os

    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
