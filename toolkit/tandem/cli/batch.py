"""The commands that run batch work: ``grade``, ``report`` and ``batch``.

Each parses its options into :class:`tandem.engine.batch.RunOptions` (executor, workers,
kernels, timeouts) and calls one library function; a failed job makes the exit code 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tandem.cli.options import (
    CellTimeoutOpt,
    ExecutorName,
    ExecutorOpt,
    KernelMode,
    KernelsOpt,
    NotebookTimeoutOpt,
    SandboxMode,
    SandboxOpt,
    SchedulerOpt,
    WorkersOpt,
    WorkspaceDir,
    console,
    err,
    run_options,
)
from tandem.errors import TandemError, UsageError

if TYPE_CHECKING:
    from tandem.engine.batch import RunOptions
    from tandem.engine.executors import Executor
    from tandem.engine.jobs import WorkKind


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
    cell_timeout: CellTimeoutOpt = None,
    notebook_timeout: NotebookTimeoutOpt = None,
    sandbox: SandboxOpt = SandboxMode.auto,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Regrade every submission of the session, not only those new or changed "
            "since their last autograde. Grades given by hand to unchanged ones stand.",
        ),
    ] = False,
) -> None:
    """Autograde submissions in parallel, each in a fresh kernel, with nbgrader's own steps.

    Either a cohort's session (DIRECTORY SESSION: the learners' checkpoints new or changed
    since their last autograde) or any nbgrader course (--course-dir PATH --assignment NAME).
    """
    from tandem.engine.sandbox import describe, resolve

    options = run_options(
        executor, scheduler, workers, kernels, cell_timeout, notebook_timeout, sandbox
    )
    err.print(describe(resolve(options.sandbox, options.kernels)), markup=False)
    if course_dir is not None:
        if directory is not None or session is not None:
            raise UsageError("give either DIRECTORY SESSION or --course-dir, not both")
        if not assignment:
            raise UsageError("--course-dir needs --assignment NAME")
        with started(options, "autograde") as pool:
            _grade_course(course_dir, assignment, student or [], options, pool)
        return
    if directory is None or session is None:
        raise UsageError("give a cohort DIRECTORY and SESSION, or --course-dir and --assignment")
    from tandem.grading.checkpoints import grade_session

    with started(options, "autograde") as pool:
        results = grade_session(directory, session, options, executor=pool, force=force)
    table = Table("module", "learner", "pair", "status", "autograded", "written answer")
    for r in results:
        auto = f"{r.score.auto_score:g}/{r.score.auto_max:g}" if r.score else "-"
        manual = (
            "pending" if r.score and r.score.manual_pending else "-" if not r.score else "graded"
        )
        shown = "graded (unchanged)" if r.unchanged else r.status
        table.add_row(r.module, r.participant, r.pair, shown, auto, manual)
    console.print(table)
    _regrade_notes(directory, session, sum(r.unchanged for r in results))
    from tandem.cohort.exchange import session_checkin_problems

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


def _regrade_notes(directory: Path, session: str, unchanged: int) -> None:
    """What grading again left as it was, and what the facilitator must decide."""
    from tandem.cohort.workspace import Workspace
    from tandem.grading.checkpoints import changed_after_grading

    if unchanged:
        what = "submission" if unchanged == 1 else "submissions"
        err.print(
            f"{unchanged} {what} unchanged since autograded: kept as graded (--force regrades)",
            markup=False,
        )
    ws = Workspace(directory)
    cohort = ws.load()
    modules = list(ws.program(cohort).session(session).modules)
    for module, learner in changed_after_grading(ws, cohort, modules):
        err.print(
            f"changed after grading: {learner} on {module}: graded by hand before it changed; "
            "confirm or change the grade by hand in formgrader",
            markup=False,
        )


@contextmanager
def started(options: RunOptions, kind: WorkKind) -> Iterator[Executor]:
    """The run's executor for ``kind`` of work, its workers starting at once: their
    imports and kernel templates load while this process loads nbgrader and prepares
    the jobs."""
    from tandem.engine.batch import open_executor

    executor = open_executor(options, kinds=(kind,))
    try:
        executor.start()
        yield executor
    finally:
        executor.close()


def _grade_course(
    course_dir: Path,
    assignment: str,
    students: list[str],
    options: RunOptions,
    executor: Executor,
) -> None:
    from tandem.grading.autograde import course_api, grade, submissions
    from tandem.grading.checkpoints import quiet_nbgrader

    api = course_api(course_dir)
    names = students or submissions(api, assignment)
    if not names:
        raise TandemError(f"no submissions of {assignment!r} under {course_dir}/submitted")
    with quiet_nbgrader():
        results = grade(api, [(assignment, s) for s in names], options=options, executor=executor)
    table = Table("student", "status", "score", "reason")
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.score is not None and r.max_score else "-"
        table.add_row(r.student, r.status, score, r.reason or "")
    console.print(table)
    for r in results:
        if r.note:
            err.print(f"note: {r.student}: {r.note}", markup=False)
    bad = [r for r in results if r.status != "graded"]
    for r in bad:
        err.print(f"{r.status}: {r.student}: {r.reason}", markup=False)
    if bad:
        raise TandemError(f"{len(bad)} of {len(results)} submissions were not graded")


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
    from tandem.reports.build import build_reports

    options = run_options(executor, scheduler, workers, kernels, cell_timeout, notebook_timeout)
    with started(options, "papermill") as pool:
        result = build_reports(directory, options=options, executor=pool)
    for record in result.failed:
        err.print(f"failed: {record.id}: {record.error}", markup=False)
    console.print(f"Reports: {result.index}")
    if result.failed:
        raise TandemError(f"{len(result.failed)} of {len(result.records)} reports failed")


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
    from tandem.engine.batch import load_job_table, named_inputs, run_jobs, table_jobs

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
