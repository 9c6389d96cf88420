"""Batch runs from your own script: ``tandem.batch.run_jobs`` and its companions.

A stable name for :mod:`tandem.engine.batch` (the README documents it)."""

from __future__ import annotations

from tandem.engine.batch import (
    QUIET_KERNEL,
    Job,
    JobRecord,
    RunOptions,
    execute_job,
    load_job_table,
    named_inputs,
    open_executor,
    run_jobs,
    table_jobs,
)

__all__ = [
    "QUIET_KERNEL",
    "Job",
    "JobRecord",
    "RunOptions",
    "execute_job",
    "load_job_table",
    "named_inputs",
    "open_executor",
    "run_jobs",
    "table_jobs",
]
