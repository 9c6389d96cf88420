"""Batch runs of notebooks with papermill: a list of jobs, a manifest, no job stops another.

Each job runs its notebook in a fresh kernel, on an executor (:mod:`tandem.executors`)
that runs jobs in parallel. The run's manifest (JSON) records every job's status,
duration and error as it finishes, so a run that is interrupted and started again
only does the missing jobs (``force`` redoes them all).
"""

from __future__ import annotations

import json
import keyword
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from tandem.errors import BatchError, TandemError
from tandem.executors import Executor, make_executor
from tandem.fsutil import atomic_write_json, atomic_write_text
from tandem.jobs import QUIET_KERNEL, Outcome, Work, run_work
from tandem.progress import progress_bar

__all__ = ["QUIET_KERNEL", "Job", "JobRecord", "RunOptions", "execute_job", "run_jobs"]

JobStatus = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class Job:
    """Execute ``notebook`` with ``parameters``, write ``output`` (and ``html`` if set).

    ``inputs`` are the files the notebook reads, by the relative name it uses; they
    travel with the job, which runs in a scratch directory holding them and the
    notebook, so a worker on another machine needs nothing else.
    """

    id: str
    notebook: Path
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    html: Path | None = None
    title: str = ""
    inputs: dict[str, Path] = field(default_factory=dict)

    def work(self, options: RunOptions) -> Work:
        return Work(
            id=self.id,
            kind="papermill",
            notebook=self.notebook.read_text(encoding="utf-8"),
            name=self.notebook.name,
            parameters=dict(self.parameters),
            files={name: path.read_bytes() for name, path in self.inputs.items()},
            html_title=(self.title or self.id) if self.html is not None else None,
            kernels=options.kernels,
            cell_timeout=options.cell_timeout,
            notebook_timeout=options.notebook_timeout,
        )


@dataclass(frozen=True)
class RunOptions:
    """Where and how a batch runs: executor, workers, kernels and timeouts."""

    executor: str = "local"
    workers: int | None = None
    kernels: str = "fork"
    scheduler: str | None = None
    cell_timeout: int | None = 600
    notebook_timeout: float | None = 1800.0
    progress: bool | None = None  # None: a progress bar when stderr is a terminal


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    seconds: float = 0.0
    error: str | None = None
    output: str | None = None
    kernel_seconds: float = 0.0
    note: str | None = None


def folder_inputs(folder: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, Path]:
    """Every file under ``folder`` by its relative name (a lesson's ``data/``, say)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in exclude and ".ipynb_checkpoints" not in path.parts:
            found[rel] = path
    return found


def check_parameters(parameters: dict[str, Any], *, job: str = "") -> None:
    """Parameter names must be identifiers and values plain JSON (no NaN, no objects)."""
    for name, value in parameters.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            raise TandemError(
                f"parameter name {name!r} is not a Python identifier", where=job or None
            )
        _check_json_value(value, f"{job}: parameter {name!r}" if job else f"parameter {name!r}")


def _check_json_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TandemError(f"{where}: {value} is not a plain JSON number")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json_value(item, where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TandemError(f"{where}: object keys must be strings")
            _check_json_value(item, where)
        return
    raise TandemError(f"{where}: {type(value).__name__} is not a plain JSON value")


def execute_job(job: Job, options: RunOptions | None = None) -> JobRecord:
    """Run one job here, in this process (with a fresh kernel), and write its outputs."""
    outcome = run_work(job.work(options or RunOptions()))
    return _save(job, outcome)


def run_jobs(
    jobs: Sequence[Job],
    manifest: Path,
    *,
    force: bool = False,
    options: RunOptions | None = None,
    executor: Executor | None = None,
) -> list[JobRecord]:
    """Run every job on an executor, record each in ``manifest`` as it finishes.

    Jobs already done (in the manifest, outputs present) are skipped unless ``force``.
    One failure never stops the rest. Records come back in the jobs' order.
    """
    options = options or RunOptions()
    for job in jobs:
        check_parameters(job.parameters, job=job.id)
    ids = [job.id for job in jobs]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise TandemError(f"two jobs have the id {duplicate!r}")
    previous = _previous_records(manifest)
    records: dict[str, JobRecord] = {}
    pending = []
    for job in jobs:
        before = previous.get(job.id)
        if not force and before is not None and before.status == "done" and _outputs_exist(job):
            records[job.id] = JobRecord(job.id, "skipped", 0.0, None, str(job.output))
        else:
            pending.append(job)
    if pending:
        by_id = {job.id: job for job in pending}
        own = executor is None
        if executor is None:
            executor = make_executor(
                options.executor,
                workers=options.workers,
                kernels=options.kernels,
                scheduler=options.scheduler,
            )
        try:
            with progress_bar(len(pending), "notebooks", options.progress) as advance:
                for outcome in executor.run([job.work(options) for job in pending]):
                    records[outcome.id] = _save(by_id[outcome.id], outcome)
                    _write_manifest(manifest, records, previous)
                    advance(outcome.ok)
        finally:
            if own:
                executor.close()
    ordered = {job.id: records[job.id] for job in jobs}
    _write_manifest(manifest, ordered, previous)
    return list(ordered.values())


def _outputs_exist(job: Job) -> bool:
    return job.output.exists() and (job.html is None or job.html.exists())


def _save(job: Job, outcome: Outcome) -> JobRecord:
    """Write what a job produced (atomically) and make its record."""
    if outcome.notebook is not None:
        atomic_write_text(job.output, outcome.notebook)
    if job.html is not None and outcome.html is not None:
        atomic_write_text(job.html, outcome.html)
    return JobRecord(
        job.id,
        "done" if outcome.ok else "failed",
        outcome.seconds,
        outcome.error,
        str(job.output),
        outcome.kernel_seconds,
        outcome.retried,
    )


def raise_for_failures(records: Sequence[JobRecord]) -> None:
    failed = [r for r in records if r.status == "failed"]
    if failed:
        details = "; ".join(f"{r.id}: {r.error}" for r in failed)
        raise BatchError(f"{len(failed)} of {len(records)} jobs failed: {details}")


def _previous_records(manifest: Path) -> dict[str, JobRecord]:
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return {r["id"]: JobRecord(**r) for r in data.get("jobs", [])}
    except (ValueError, TypeError, KeyError):
        return {}


def _write_manifest(
    manifest: Path, records: dict[str, JobRecord], previous: dict[str, JobRecord]
) -> None:
    merged = dict(previous)
    for record in records.values():
        merged[record.id] = previous[record.id] if record.status == "skipped" else record
    atomic_write_json(
        manifest,
        {
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "jobs": [asdict(r) for r in merged.values()],
        },
    )
