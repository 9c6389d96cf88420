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
from rich.table import Table

from tandem import __version__
from tandem.cli_options import (
    CellTimeoutOpt,
    Curriculum,
    ExecutorName,
    ExecutorOpt,
    KernelMode,
    KernelsOpt,
    NotebookTimeoutOpt,
    SchedulerOpt,
    SessionId,
    Track,
    WorkersOpt,
    WorkspaceDir,
    console,
    err,
    run_options,
)
from tandem.cli_people import cohort_app, match_command, privacy_app
from tandem.errors import TandemError, UsageError

if TYPE_CHECKING:
    from tandem.batch import RunOptions

app = typer.Typer(
    name="tandem",
    no_args_is_help=True,
    add_completion=False,
    help="Run two-way mentoring programmes in Jupyter: a curriculum as code, nbgrader "
    "checkpoints and papermill cohort reports.",
)
app.add_typer(cohort_app, name="cohort")
app.add_typer(privacy_app, name="privacy")


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


app.command("match")(match_command)


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
def grade(
    directory: Annotated[
        Path | None, typer.Argument(help="The cohort workspace folder.", show_default=False)
    ] = None,
    session: Annotated[
        str | None,
        typer.Argument(help="A session id from program.yml, e.g. session-01.", show_default=False),
    ] = None,
    course_dir: Annotated[
        Path | None,
        typer.Option(
            "--course-dir", help="Grade any nbgrader course directory instead of a cohort."
        ),
    ] = None,
    assignment: Annotated[
        str | None, typer.Option("--assignment", help="With --course-dir: the assignment.")
    ] = None,
    student: Annotated[
        list[str] | None,
        typer.Option("--student", help="With --course-dir: only these students (repeatable)."),
    ] = None,
    executor: ExecutorOpt = ExecutorName.local,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    kernels: KernelsOpt = KernelMode.fork,
    notebook_timeout: NotebookTimeoutOpt = None,
) -> None:
    """Autograde submissions in parallel, each in a fresh kernel, with nbgrader's own steps.

    Either a cohort's session (DIRECTORY SESSION: the learners' checkpoints) or any
    nbgrader course (--course-dir PATH --assignment NAME).
    """
    options = run_options(executor, scheduler, workers, kernels, None, notebook_timeout)
    if course_dir is not None:
        if directory is not None or session is not None:
            raise UsageError("give either DIRECTORY SESSION or --course-dir, not both")
        if not assignment:
            raise UsageError("--course-dir needs --assignment NAME")
        _grade_course(course_dir, assignment, student or [], options)
        return
    if directory is None or session is None:
        raise UsageError("give a cohort DIRECTORY and SESSION, or --course-dir and --assignment")
    from tandem.grading import grade_session

    results = grade_session(directory, session, options)
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
    for r in results:
        if r.note:
            err.print(f"note: {r.participant} on {r.module}: {r.note}", markup=False)
    bad = [r for r in results if r.status in ("failed", "quarantined")]
    for r in bad:
        err.print(f"{r.status}: {r.participant} on {r.module}: {r.error}", markup=False)
    if bad:
        raise TandemError(f"{len(bad)} of {len(results)} submissions could not be graded")


def _grade_course(
    course_dir: Path, assignment: str, students: list[str], options: RunOptions
) -> None:
    from tandem.autograde import course_api, grade, submissions
    from tandem.grading import quiet_nbgrader

    api = course_api(course_dir)
    names = students or submissions(api, assignment)
    if not names:
        raise TandemError(f"no submissions of {assignment!r} under {course_dir}/submitted")
    with quiet_nbgrader():
        results = grade(api, [(assignment, s) for s in names], options=options)
    table = Table("student", "status", "score", "reason")
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.score is not None and r.max_score else "-"
        table.add_row(r.student, r.status, score, r.reason or "")
    console.print(table)
    for r in results:
        if r.note:
            err.print(f"note: {r.student}: {r.note}", markup=False)
    bad = [r for r in results if r.status != "graded"]
    if bad:
        raise TandemError(f"{len(bad)} of {len(results)} submissions were not graded")


@app.command()
def report(
    directory: WorkspaceDir,
    executor: ExecutorOpt = ExecutorName.local,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    kernels: KernelsOpt = KernelMode.fork,
    cell_timeout: CellTimeoutOpt = None,
    notebook_timeout: NotebookTimeoutOpt = None,
) -> None:
    """Build the programme report and the facilitator's site; print reports/index.html."""
    from tandem.report import build_reports

    options = run_options(executor, scheduler, workers, kernels, cell_timeout, notebook_timeout)
    result = build_reports(directory, options=options)
    for record in result.failed:
        err.print(f"failed: {record.id}: {record.error}", markup=False)
    console.print(f"Reports: {result.index}")
    if result.failed:
        raise TandemError(f"{len(result.failed)} of {len(result.records)} reports failed")


@app.command()
def batch(
    notebook: Annotated[Path, typer.Argument(help="The parameterised notebook to run.")],
    jobs: Annotated[
        Path,
        typer.Option(
            "--jobs",
            help="CSV (a column per parameter) or YAML (a list of mappings): one job per row.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the executed notebooks.")],
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="Parameter naming each job's output. Default: id."),
    ] = None,
    inputs: Annotated[
        list[Path] | None,
        typer.Option(
            "--input", help="A file or folder every job needs beside the notebook (repeatable)."
        ),
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write an HTML page per job.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Redo jobs already done.")] = False,
    executor: ExecutorOpt = ExecutorName.local,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    kernels: KernelsOpt = KernelMode.fork,
    cell_timeout: CellTimeoutOpt = None,
    notebook_timeout: NotebookTimeoutOpt = None,
) -> None:
    """Run NOTEBOOK once per row of a jobs file, in parallel, each in a fresh kernel.

    Outputs OUT/<id>.ipynb and OUT/manifest.json; a rerun does only what is not done.
    """
    from tandem.batch import load_job_table, named_inputs, run_jobs, table_jobs

    options = run_options(executor, scheduler, workers, kernels, cell_timeout, notebook_timeout)
    table = table_jobs(
        notebook,
        load_job_table(jobs),
        out,
        id_column=id_column,
        html=html,
        inputs=named_inputs(inputs or []),
    )
    records = run_jobs(table, out / "manifest.json", force=force, options=options)
    done = sum(r.status == "done" for r in records)
    skipped = sum(r.status == "skipped" for r in records)
    failed = [r for r in records if r.status == "failed"]
    for r in records:
        if r.note:
            err.print(f"note: {r.id}: {r.note}", markup=False)
    for r in failed:
        err.print(f"failed: {r.id}: {r.error}", markup=False)
    console.print(
        f"{done} done, {skipped} already done, {len(failed)} failed: {out / 'manifest.json'}",
        markup=False,
        highlight=False,
    )
    if failed:
        raise TandemError(f"{len(failed)} of {len(records)} jobs failed")


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


if __name__ == "__main__":
    main()
