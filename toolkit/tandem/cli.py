"""The `tandem` command: parses arguments, calls one library function, prints the result.

Exit codes: 0 success; 1 a problem Tandem reports (a bad file, a failed job); 2 bad
command-line usage; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tandem import __version__
from tandem.errors import TandemError

app = typer.Typer(
    name="tandem",
    no_args_is_help=True,
    add_completion=False,
    help="Run two-way mentoring programmes in Jupyter: a curriculum as code, nbgrader "
    "checkpoints and papermill cohort reports.",
)
cohort_app = typer.Typer(no_args_is_help=True, help="Create and manage a cohort workspace.")
app.add_typer(cohort_app, name="cohort")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

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
    roster: Annotated[Path, typer.Option(help="Roster CSV: id, name, email, role, department.")],
    pairs: Annotated[
        Path | None,
        typer.Option(help="Pairs CSV with columns junior, senior. Default: pair in roster order."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Cohort name. Default: the folder's name.")
    ] = None,
    curriculum: Curriculum = None,
) -> None:
    """Create a cohort workspace: cohort.yml, an nbgrader course and its gradebook."""
    from tandem.cohort import init_cohort

    cohort = init_cohort(directory, roster, pairs=pairs, name=name, curriculum=curriculum)
    console.print(
        f"Created cohort {cohort.name!r} in {directory}: "
        f"{len(cohort.participants)} participants, {len(cohort.pairs)} pairs."
    )
    if cohort.unpaired:
        err.print(f"Unpaired (no partner of the other role): {', '.join(cohort.unpaired)}")


@app.command()
def release(directory: WorkspaceDir, session: SessionId) -> None:
    """Release a session's two modules (checkpoint, lesson notebook, context file)."""
    from tandem.cohort import release_session

    for folder in release_session(directory, session):
        console.print(f"Released {folder.name} -> {folder}")


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
    curriculum: Curriculum = None,
) -> None:
    """Build a synthetic cohort end to end and print the path of its report."""
    from tandem.demo import run_demo

    result = run_demo(
        out, pairs=pairs, curriculum=curriculum, progress=lambda msg: err.print(f"[dim]{msg}[/dim]")
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
