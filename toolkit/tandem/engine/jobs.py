"""What a worker does with one job: everything it needs travels with the job.

A :class:`Work` carries the notebook's text, its parameters and the small input files
it reads; the worker runs it in a temporary directory in a fresh kernel and returns an
:class:`Outcome` with the executed notebook's text (and HTML if asked). Workers never
touch the workspace, course directory or gradebook, so they can run on other machines
(Dask); the client writes every result.

Two kinds of work: ``papermill`` (a parameterised notebook) and ``autograde`` (the
execution steps of nbgrader's own autograde pipeline, on a notebook nbgrader's
sanitising steps have prepared; see :mod:`tandem.grading.autograde`).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from tandem.engine import (
    kernelcap,
    lazyimport,  # noqa: F401 - a worker's papermill import, ~2 s sooner
    sandbox,
)

WorkKind = Literal["papermill", "autograde"]
#: Kernel arguments that keep ipykernel's start-up warnings off the user's terminal.
QUIET_KERNEL = ("--IPKernelApp.log_level=ERROR",)
#: The kernel drops what a cell writes to a stream beyond this many times the client's limit.
KERNEL_CAP_FACTOR = 2


@dataclass(frozen=True)
class Work:
    id: str
    kind: WorkKind
    notebook: str  # the notebook's JSON text
    name: str = "notebook.ipynb"  # its file name in the job's directory
    parameters: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content
    html_title: str | None = None
    kernels: str = "fork"
    cell_timeout: int | None = None
    notebook_timeout: float | None = None
    #: autograde only: nbgrader's configuration and the preprocessor classes to run.
    config: dict[str, Any] | None = None
    preprocessors: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    #: Output kept per stream per cell and per notebook (kernelclient.OutputLimiter).
    max_stream_bytes: int = 1_000_000
    max_output_bytes: int = 10_000_000

    def client_config(self) -> dict[str, dict[str, Any]]:
        """The kernel client's share of the configuration, its output limits, and the
        kernel's own cap on what a cell writes to a stream (:mod:`tandem.engine.kernelcap`):
        :data:`KERNEL_CAP_FACTOR` times the client's, so the client's cut and marker show.
        Autograde work also gives its kernel's sandbox level (:meth:`sandbox_level`)."""
        config: dict[str, dict[str, Any]] = {
            "ReadyKernelClient": {
                "max_stream_bytes": self.max_stream_bytes,
                "max_output_bytes": self.max_output_bytes,
            },
            kernelcap.SECTION: {kernelcap.TRAIT: KERNEL_CAP_FACTOR * self.max_stream_bytes},
        }
        if self.kind == "autograde":
            config[sandbox.SECTION] = {sandbox.TRAIT: self.sandbox_level()}
        return config

    def sandbox_level(self) -> str:
        """The sandbox level the grading process chose for this job's kernel. Autograde
        work without one fails: a missing level never means ``off``."""
        level = self.env.get(sandbox.SANDBOX_ENV)
        if level not in sandbox.LEVELS:
            raise ValueError(
                f"autograde work must name its sandbox level ({', '.join(sandbox.LEVELS)}), "
                f"not {level!r}"
            )
        return level


@dataclass
class Outcome:
    id: str
    ok: bool
    notebook: str | None = None
    html: str | None = None
    error: str | None = None
    seconds: float = 0.0
    kernel_seconds: float = 0.0
    retried: str | None = None  # why the job was run a second time, if it was


class NotebookTimeout(Exception):
    pass


def run_work(work: Work) -> Outcome:
    """Run one job; never raises: a failure comes back as ``Outcome(ok=False, error=...)``."""
    started = time.perf_counter()
    try:
        outcome = _run_with_retry(work)
    except Exception as exc:  # whatever happens to one job is reported, not raised
        outcome = Outcome(work.id, False, error=describe(exc))
    outcome.seconds = time.perf_counter() - started
    return outcome


def _run_with_retry(work: Work) -> Outcome:
    from nbclient.exceptions import DeadKernelError

    from tandem.engine import kernels

    # a pool's template stays ours
    kernels.use(work.kernels, shared=kernels._SHARED, token=kernels._SHARED_TOKEN)
    try:
        return _run_once(work)
    except (DeadKernelError, RuntimeError) as first:
        if not kernel_lost(first):
            raise
        retried = f"the kernel died ({describe(first)}); ran again in a new kernel"
    try:
        outcome = _run_once(work)
    except (DeadKernelError, RuntimeError) as second:
        if not kernel_lost(second):
            raise
        raise DeadKernelError(f"the kernel died twice: {describe(second)}") from second
    outcome.retried = retried
    return outcome


def kernel_lost(exc: BaseException) -> bool:
    """A kernel that died, or never answered at start-up (nbclient's RuntimeErrors)."""
    from nbclient.exceptions import DeadKernelError

    if isinstance(exc, DeadKernelError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "didn't respond" in text or "died before replying" in text
    )


def _run_once(work: Work) -> Outcome:
    from tandem.engine import kernels

    with tempfile.TemporaryDirectory(prefix="tandem-job-") as tmp:
        folder = Path(tmp)
        for rel, content in work.files.items():
            target = _inside(folder, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        timer = None
        expired = threading.Event()
        if work.notebook_timeout:

            def expire() -> None:
                expired.set()
                kernels.kill_live_kernels()

            timer = threading.Timer(work.notebook_timeout, expire)
            timer.daemon = True
            timer.start()
        try:
            if work.kind == "papermill":
                outcome = _papermill(work, folder)
            else:
                outcome = _autograde(work, folder)
        except Exception as exc:
            if expired.is_set():
                raise NotebookTimeout(
                    f"the notebook ran longer than {work.notebook_timeout:g} s and was stopped"
                ) from exc
            raise
        finally:
            if timer is not None:
                timer.cancel()
    return outcome


def _inside(folder: Path, rel: str) -> Path:
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
        raise ValueError(f"input file {rel!r} must be a relative path inside the job")
    return folder.joinpath(*parts)


def _papermill(work: Work, folder: Path) -> Outcome:
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    from tandem.engine import kernelclient

    source = _inside(folder, work.name)
    source.write_text(work.notebook, encoding="utf-8")
    output = folder / f".{source.stem}.executed.ipynb"
    error = None
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=work.parameters,
            kernel_name="python3",
            language="python",
            progress_bar=False,
            log_output=False,
            cwd=str(source.parent),
            execution_timeout=work.cell_timeout,
            shutdown_kernel="immediate",
            request_save_on_cell_execute=False,  # the result is written once, at the end
            extra_arguments=list(QUIET_KERNEL),
            kernel_manager_class=kernelclient.MANAGER,
            config=Config(work.client_config()),  # handed to the kernel manager and client
        )
    except PapermillExecutionError as exc:
        error = describe(exc, cell=_cell_number(work.notebook, exc))
    text = output.read_text(encoding="utf-8") if output.exists() else None
    return _finish(work, text, error)


def _autograde(work: Work, folder: Path) -> Outcome:
    import nbformat
    from nbconvert.exporters import NotebookExporter
    from traitlets.config import Config
    from traitlets.utils.importstring import import_item

    source = _inside(folder, work.name)
    config = Config(work.config or {})
    config.merge(Config(work.client_config()))
    exporter = NotebookExporter(config=config)
    for name in work.preprocessors:
        exporter.register_preprocessor(import_item(name))
    node = nbformat.reads(work.notebook, as_version=nbformat.NO_CONVERT)
    resources = {
        "metadata": {"path": str(source.parent), "name": source.stem},
        "unique_key": source.stem,
        "nbgrader": dict(work.parameters),
    }
    # the level goes to the kernel in its manager's configuration (client_config), never
    # through os.environ, which a worker's threads share
    env = {k: v for k, v in work.env.items() if k != sandbox.SANDBOX_ENV}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        text, _ = exporter.from_notebook_node(node, resources=resources)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return _finish(work, text, None)


def _finish(work: Work, text: str | None, error: str | None) -> Outcome:
    html = None
    kernel_seconds = 0.0
    if text is not None:
        kernel_seconds = kernel_time(text)
        if work.html_title is not None and error is None:
            from tandem.htmlpage import notebook_to_page

            html = notebook_to_page(text, title=work.html_title)
    return Outcome(work.id, error is None, text, html, error=error, kernel_seconds=kernel_seconds)


def kernel_time(text: str) -> float:
    """Seconds the kernel spent executing the notebook's cells (from nbclient's timings)."""
    import json

    total = 0.0
    for cell in json.loads(text).get("cells", []):
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            total += (_stamp(end) - _stamp(start)).total_seconds()
    return total


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def describe(exc: BaseException, *, cell: int | None = None) -> str:
    """One line naming what went wrong, for manifests and summaries; a failed cell by
    its number ``cell`` in the notebook as written (else its execution count)."""
    ename = getattr(exc, "ename", None)
    if ename:  # papermill's PapermillExecutionError
        number = cell if cell is not None else getattr(exc, "exec_count", "?")
        return f"cell {number}: {ename}: {getattr(exc, 'evalue', '')}"
    lines = [line for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _cell_number(notebook: str, exc: Any) -> int | None:
    """The failed cell's place in the notebook as its author wrote it, counting every
    cell from 1: papermill's index counts the parameters cell it injected, and the
    execution count skips markdown cells."""
    import json

    index = getattr(exc, "cell_index", None)
    if not isinstance(index, int):
        return None
    try:
        cells = json.loads(notebook).get("cells", [])
    except ValueError:
        return None

    def source(cell: Any) -> str:
        text = cell.get("source", "")
        return "".join(text) if isinstance(text, list) else str(text)

    for mine in (index, index - 1):  # the injected cell, if any, came before the failure
        if 0 <= mine < len(cells) and source(cells[mine]) == getattr(exc, "source", None):
            return mine + 1
    return None
