"""Batch runs of notebooks with papermill: a list of jobs, a manifest, no job stops another.

Each job runs its notebook in a fresh kernel. The run's manifest (JSON under the
workspace's ``runs/``) records every job's status, duration and error; a rerun skips
jobs already done unless forced.
"""

from __future__ import annotations

import json
import keyword
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from tandem.errors import BatchError, TandemError
from tandem.fsutil import atomic_write_json, atomic_write_text

JobStatus = Literal["done", "failed", "skipped"]
#: Kernel arguments that keep ipykernel's start-up warnings off the user's terminal.
QUIET_KERNEL = ("--IPKernelApp.log_level=ERROR",)


@dataclass(frozen=True)
class Job:
    """Execute ``notebook`` with ``parameters``, write ``output`` (and ``html`` if set)."""

    id: str
    notebook: Path
    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    html: Path | None = None
    title: str = ""


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    seconds: float = 0.0
    error: str | None = None
    output: str | None = None


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


def execute_job(job: Job) -> None:
    """Run one job with papermill in a fresh kernel; export HTML if asked."""
    import papermill

    job.output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(job.notebook),
        str(job.output),
        parameters=job.parameters,
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        cwd=str(job.notebook.parent),
        shutdown_kernel="immediate",
        extra_arguments=list(QUIET_KERNEL),
    )
    if job.html is not None:
        from tandem.htmlpage import notebook_to_page

        atomic_write_text(job.html, notebook_to_page(job.output, title=job.title or job.id))


def run_jobs(
    jobs: Sequence[Job],
    manifest: Path,
    *,
    force: bool = False,
    runner: Callable[[Job], None] = execute_job,
) -> list[JobRecord]:
    """Run every job, record each in ``manifest``; never let one failure stop the rest."""
    for job in jobs:
        check_parameters(job.parameters, job=job.id)
    previous = _previous_records(manifest)
    records: list[JobRecord] = []
    for job in jobs:
        before = previous.get(job.id)
        if (
            not force
            and before is not None
            and before.status == "done"
            and job.output.exists()
            and (job.html is None or job.html.exists())
        ):
            records.append(JobRecord(job.id, "skipped", 0.0, None, str(job.output)))
            continue
        started = time.perf_counter()
        try:
            runner(job)
        except Exception as exc:  # any failure of one job is recorded, not raised
            records.append(
                JobRecord(
                    job.id, "failed", time.perf_counter() - started, _describe(exc), str(job.output)
                )
            )
        else:
            records.append(
                JobRecord(job.id, "done", time.perf_counter() - started, None, str(job.output))
            )
        _write_manifest(manifest, records, previous)
    return records


def raise_for_failures(records: Sequence[JobRecord]) -> None:
    failed = [r for r in records if r.status == "failed"]
    if failed:
        details = "; ".join(f"{r.id}: {r.error}" for r in failed)
        raise BatchError(f"{len(failed)} of {len(records)} jobs failed: {details}")


def _describe(exc: Exception) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill's PapermillExecutionError
        return f"cell {getattr(exc, 'exec_count', '?')}: {ename}: {getattr(exc, 'evalue', '')}"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _previous_records(manifest: Path) -> dict[str, JobRecord]:
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return {r["id"]: JobRecord(**r) for r in data.get("jobs", [])}
    except (ValueError, TypeError, KeyError):
        return {}


def _write_manifest(
    manifest: Path, records: list[JobRecord], previous: dict[str, JobRecord]
) -> None:
    merged = dict(previous)
    for record in records:
        merged[record.id] = previous[record.id] if record.status == "skipped" else record
    atomic_write_json(
        manifest,
        {
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "jobs": [asdict(r) for r in merged.values()],
        },
    )
