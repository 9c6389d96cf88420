"""Parallel autograding on nbgrader's own machinery, for any nbgrader course directory.

``nbgrader autograde`` runs, per submission, two passes of preprocessors: a *sanitise*
pass (clear outputs, restore locked and hidden test cells from the gradebook, check
metadata) and an *autograde* pass (``Execute`` in a kernel, limit outputs, then save the
grades and late penalties to the gradebook). Tandem runs exactly those preprocessors,
split in three phases so that only the kernel work is parallel:

1. here, one submission after another: nbgrader's ``init_destination`` and
   ``init_assignment`` (student, submission and timestamp rows; files copied from the
   source) and the sanitise pass;
2. on the executor, in parallel, each in a fresh kernel: the leading autograde
   preprocessors that need no gradebook (``Execute``, ``IgnorePattern``,
   ``ClearMetadataPreprocessor``, ``LimitOutput``); the job carries the sanitised
   notebook and its folder's files and returns the executed notebook;
3. here again, as results arrive: the rest (``SaveAutoGrades``, ``AssignLatePenalties``,
   ``CheckCellMetadata``) and the autograded notebook written to disk.

So the gradebook has one writer (this process) and SQLite never locks; workers need
neither the course directory nor the database. Before phase 1 every submitted notebook
is checked with ``nbformat.validate``: one that is not JSON or not valid nbformat is
refused with the reason (file, line or field), and the rest are graded.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tandem.engine import sandbox
from tandem.engine.batch import RunOptions, open_executor
from tandem.engine.executors import Executor
from tandem.engine.jobs import QUIET_KERNEL, Outcome, Work, describe
from tandem.engine.progress import progress_bar
from tandem.errors import GradingError, NotebookError
from tandem.grading.speedups import check_metadata_schema_once, share_gradebook_engines
from tandem.grading.unfinished import mark_failed, mark_finished, mark_started

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

GradeStatus = Literal["graded", "failed", "invalid", "missing"]
#: Autograde preprocessors that touch no gradebook and no course file: they may run anywhere.
REMOTE_SAFE = {
    "nbgrader.preprocessors.execute.Execute",
    "nbgrader.preprocessors.ignorepattern.IgnorePattern",
    "nbconvert.preprocessors.clearmetadata.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.limitoutput.LimitOutput",
}


@dataclass
class GradeOutcome:
    """One student's submission of one assignment, as Tandem graded it."""

    assignment: str
    student: str
    status: GradeStatus
    reason: str | None = None  # why it is not graded (or what happened on the way)
    note: str | None = None  # e.g. "the kernel died ...; ran again in a new kernel"
    seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    notebooks: list[str] = field(default_factory=list)


def dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def split_preprocessors(classes: Sequence[type]) -> tuple[list[type], list[type]]:
    """(remote, local): the leading gradebook-free run including Execute, and the rest."""
    remote: list[type] = []
    for cls in classes:
        if dotted(cls) not in REMOTE_SAFE:
            break
        remote.append(cls)
    if not any(dotted(cls).endswith(".Execute") for cls in remote):
        raise GradingError(
            "Autograde.autograde_preprocessors must start with nbgrader's Execute "
            "(and other gradebook-free steps) for Tandem to run it in parallel"
        )
    return remote, list(classes[len(remote) :])


def check_notebook(path: Path) -> str | None:
    """Why ``path`` cannot be graded (not JSON, not valid nbformat), or None if it can."""
    import nbformat

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        return f"{path.name}: not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return f"{path.name}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return f"{path.name}: not a notebook (no 'nbformat' field)"
    try:
        node = nbformat.from_dict(raw)
        nbformat.validate(node)
    except nbformat.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        return f"{path.name}: not valid nbformat at {where}: {exc.message}"
    except Exception as exc:
        return f"{path.name}: not valid nbformat: {describe(exc)}"
    return None


@contextmanager
def _in_directory(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _plain(value: Any) -> Any:
    """A traitlets Config as plain, picklable dicts (classes by their dotted names)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, type):
        return dotted(value)
    return value


class _Student:
    """nbgrader's Autograde converter for one student's submission, run in phases."""

    def __init__(self, api: NbGraderAPI, assignment: str, student: str) -> None:
        from nbgrader.converters import Autograde
        from nbgrader.utils import temp_attrs

        self.assignment, self.student = assignment, student
        self.started = time.perf_counter()
        with temp_attrs(api.coursedir, assignment_id=assignment, student_id=student):
            app = Autograde(coursedir=api.coursedir, parent=api)
        app.force = True
        self.app = app
        self.coursedir = api.coursedir
        where = (api.coursedir.autograded_directory, student, assignment)
        self.dest = Path(api.coursedir.format_path(*where))  # the autograded folder
        self.pending: dict[str, Path] = {}  # notebook name -> sanitised path
        self.failures: list[str] = []
        self.notes: list[str] = []

    @contextmanager
    def scope(self) -> Iterator[Any]:
        from nbgrader.utils import temp_attrs

        with (
            temp_attrs(self.coursedir, assignment_id=self.assignment, student_id=self.student),
            _in_directory(Path(self.coursedir.root)),
        ):
            yield self.app

    def prepare(self) -> list[Path]:
        """Phase 1: nbgrader's set-up and sanitise pass; returns the sanitised notebooks."""
        from nbconvert.writers.files import FilesWriter
        from nbgrader.converters.base import BaseConverter

        mark_started(self.dest)  # before nbgrader writes this submission's gradebook rows
        with self.scope() as app:
            app.init_notebooks()
            app.writer = FilesWriter(parent=app, config=app.config)
            app.exporter = app.exporter_class(parent=app, config=app.config)
            (folder,) = app.assignments
            app.notebooks = sorted(app.assignments[folder])
            app.init_destination(self.assignment, self.student)
            app.run_pre_convert_hook()
            app.init_assignment(self.assignment, self.student)
            sanitised = []
            for notebook in app.notebooks:
                app._sanitizing = True
                app._init_preprocessors()
                BaseConverter.convert_single_notebook(app, notebook)
                path = Path(app.writer.build_directory) / Path(notebook).name
                self.pending[path.stem] = path
                sanitised.append(path)
            return sanitised

    def finish(self, path: Path, executed: str, local: list[type]) -> None:
        """Phase 3: the gradebook steps on the executed notebook, then write it."""
        import nbformat

        with self.scope() as app:
            app._sanitizing = False
            app.exporter._preprocessors = []
            for pp in local:
                app.exporter.register_preprocessor(pp)
            resources = app.init_single_notebook_resources(str(path))
            resources.setdefault("metadata", {})["path"] = str(path.parent)
            node = nbformat.reads(executed, as_version=nbformat.NO_CONVERT)
            output, resources = app.exporter.from_notebook_node(node, resources=resources)
            app.write_single_notebook(output, resources)

    def complete(self) -> None:
        with self.scope() as app:
            app.set_permissions(self.assignment, self.student)
            app.run_post_convert_hook()
        mark_finished(self.dest)  # nbgrader saved the scores: the grade is final

    def discard(self, reason: str) -> None:
        """What nbgrader does with a failed submission: remove its autograded folder."""
        with self.scope() as app:
            dest = Path(app._format_dest(self.assignment, self.student))
        if dest.exists():
            shutil.rmtree(dest)
        mark_failed(self.dest, reason)


def _work(
    student: _Student,
    path: Path,
    remote: list[type],
    config: dict[str, Any],
    options: RunOptions,
    level: str,
) -> Work:
    files = {
        f.relative_to(path.parent).as_posix(): f.read_bytes()
        for f in sorted(path.parent.rglob("*"))
        if f.is_file() and f != path
    }
    return Work(
        id=f"{student.assignment}/{student.student}/{path.stem}",
        kind="autograde",
        notebook=path.read_text(encoding="utf-8"),
        name=path.name,
        parameters={
            "student": student.student,
            "assignment": student.assignment,
            "notebook": path.stem,
        },
        files=files,
        kernels=options.kernels,
        cell_timeout=None,  # nbgrader's Execute.timeout applies, as in nbgrader
        notebook_timeout=options.notebook_timeout,
        max_stream_bytes=options.max_stream_bytes,
        max_output_bytes=options.max_notebook_output_bytes,
        config=config,
        preprocessors=tuple(dotted(cls) for cls in remote),
        env={"NBGRADER_EXECUTION": "autograde", sandbox.SANDBOX_ENV: level},
    )


def submissions(api: NbGraderAPI, assignment: str) -> list[str]:
    """Students with a submitted folder for ``assignment``."""
    root = Path(api.coursedir.format_path(api.coursedir.submitted_directory, ".", "."))
    return sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir())


def grade(
    api: NbGraderAPI,
    work: Sequence[tuple[str, str]],
    *,
    options: RunOptions | None = None,
    executor: Executor | None = None,
) -> list[GradeOutcome]:
    """Autograde each (assignment, student) submission; results in the same order.

    Missing and invalid submissions are reported, not graded; a submission whose kernel
    dies is run once more in a new kernel; nothing one submission does stops the rest.
    """
    from nbgrader.converters import Autograde

    from tandem.engine import kernelclient

    check_metadata_schema_once()
    share_gradebook_engines()

    options = options or RunOptions()
    level = sandbox.resolve(options.sandbox, options.kernels)
    remote, local = split_preprocessors(
        Autograde(coursedir=api.coursedir, parent=api).autograde_preprocessors
    )
    config = _plain(api.config)
    execute = config.setdefault("Execute", {})
    if options.cell_timeout is not None:  # --cell-timeout overrides the course's setting
        execute["timeout"] = options.cell_timeout
    # After the last cell the kernel has nothing left to say: stop it at once (papermill's
    # "immediate"), not nbclient's polite shutdown, which costs ~0.5 s per submission.
    execute.setdefault("shutdown_kernel", "immediate")
    # A client that is ready when the kernel is (no 0.2 s IOPub flush per submission).
    execute.setdefault("kernel_manager_class", kernelclient.MANAGER)
    if "extra_arguments" not in execute and "extra_arguments" not in config.get(
        "ExecutePreprocessor", {}
    ):
        execute["extra_arguments"] = list(QUIET_KERNEL)  # no start-up warnings per kernel
    results: dict[tuple[str, str], GradeOutcome] = {}
    students: dict[tuple[str, str], _Student] = {}

    def prepared() -> Iterator[Work]:
        """Phase 1, lazily: the executor asks for the next job when a worker is free, so
        kernels start while later submissions are still being prepared."""
        for assignment, student_id in work:
            key = (assignment, student_id)
            folder = Path(
                api.coursedir.format_path(api.coursedir.submitted_directory, student_id, assignment)
            )
            if not folder.is_dir():
                results[key] = GradeOutcome(assignment, student_id, "missing", "nothing submitted")
                continue
            problems = [p for p in map(check_notebook, sorted(folder.glob("*.ipynb"))) if p]
            if problems:
                results[key] = GradeOutcome(assignment, student_id, "invalid", "; ".join(problems))
                continue
            student = _Student(api, assignment, student_id)
            try:
                sanitised = student.prepare()
            except Exception as exc:  # nbgrader refused it, as `nbgrader autograde` would
                student.discard(describe(exc))
                results[key] = GradeOutcome(assignment, student_id, "failed", describe(exc))
                continue
            students[key] = student
            for path in sanitised:
                yield _work(student, path, remote, config, options, level)

    jobs = prepared()
    first = next(jobs, None)
    if first is not None:
        own = executor is None
        if executor is None:
            executor = open_executor(options, kinds=("autograde",))
        try:
            with progress_bar(len(work), "submissions", options.progress) as advance:
                for outcome in executor.run(itertools.chain([first], jobs)):
                    if _receive(outcome, students, results, local):
                        advance(results[_key(outcome)].status == "graded")
        finally:
            if own:
                executor.close()
    _read_scores(api, results)
    return [results[key] for key in work]


def _key(outcome: Outcome) -> tuple[str, str]:
    assignment, student_id, _ = outcome.id.split("/", 2)
    return assignment, student_id


def _receive(
    outcome: Outcome,
    students: dict[tuple[str, str], _Student],
    results: dict[tuple[str, str], GradeOutcome],
    local: list[type],
) -> bool:
    """Phase 3 for one executed notebook; True once the student's submission is done."""
    assignment, student_id, notebook = outcome.id.split("/", 2)
    key = (assignment, student_id)
    student = students[key]
    path = student.pending.pop(notebook)
    if outcome.retried:
        student.notes.append(f"{notebook}: {outcome.retried}")
    if outcome.ok and outcome.notebook is not None:
        try:
            student.finish(path, outcome.notebook, local)
        except Exception as exc:
            student.failures.append(f"{notebook}: {describe(exc)}")
    else:
        student.failures.append(f"{notebook}: {outcome.error}")
    if student.pending:
        return False
    seconds = time.perf_counter() - student.started
    note = "; ".join(student.notes) or None
    if student.failures:
        student.discard("; ".join(student.failures))
        results[key] = GradeOutcome(
            assignment, student_id, "failed", "; ".join(student.failures), note, seconds
        )
    else:
        student.complete()
        results[key] = GradeOutcome(assignment, student_id, "graded", None, note, seconds)
    return True


def _read_scores(api: NbGraderAPI, results: dict[tuple[str, str], GradeOutcome]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    graded = [r for r in results.values() if r.status == "graded"]
    if not graded:
        return
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for result in graded:
            try:
                submission = gb.find_submission(result.assignment, result.student)
            except MissingEntry:
                continue
            result.score = float(submission.score)
            result.max_score = float(submission.max_score)
            result.notebooks = [nb.name for nb in submission.notebooks]


def course_api(course_dir: Path | str) -> NbGraderAPI:
    """nbgrader's API on any course directory, configured from its nbgrader_config.py/.json."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    root = Path(course_dir).resolve()
    if not root.is_dir():
        raise NotebookError(f"no such course directory: {root}", path=root)
    config = Config()
    for loader in (JSONFileConfigLoader, PyFileConfigLoader):
        name = "nbgrader_config.json" if loader is JSONFileConfigLoader else "nbgrader_config.py"
        if (root / name).is_file():
            config.merge(loader(name, path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    config.NbGraderAPI.log_level = 40
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def results_table(results: Sequence[GradeOutcome]) -> list[dict[str, Any]]:
    return [
        {
            "assignment": r.assignment,
            "student": r.student,
            "status": r.status,
            "score": r.score,
            "max_score": r.max_score,
            "reason": r.reason,
            "note": r.note,
            "seconds": round(r.seconds, 2),
        }
        for r in results
    ]
