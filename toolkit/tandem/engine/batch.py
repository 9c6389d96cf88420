"""Batch runs of notebooks with papermill: a list of jobs, a manifest, no job stops another.

Each job runs its notebook in a fresh kernel, on an executor (:mod:`tandem.engine.executors`)
that runs jobs in parallel. The run's manifest (JSON) records every job's status,
duration and error as it finishes, so a run that is interrupted and started again
only does the missing jobs (``force`` redoes them all).
"""

from __future__ import annotations

import json
import keyword
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from tandem.engine.executors import ALL_KINDS, Executor, make_executor
from tandem.engine.jobs import QUIET_KERNEL, Outcome, Work, WorkKind, run_work
from tandem.engine.progress import progress_bar
from tandem.errors import BatchError, TandemError
from tandem.fsutil import atomic_write_json, atomic_write_text

__all__ = ["QUIET_KERNEL", "Job", "JobRecord", "RunOptions", "execute_job", "run_jobs"]

JobStatus = Literal["done", "failed", "skipped"]
DEFAULT_CELL_TIMEOUT = 600


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
            cell_timeout=options.cell_timeout or DEFAULT_CELL_TIMEOUT,
            notebook_timeout=options.notebook_timeout,
            max_stream_bytes=options.max_stream_bytes,
            max_output_bytes=options.max_notebook_output_bytes,
        )


@dataclass(frozen=True)
class RunOptions:
    """Where and how a batch runs: executor, workers, kernels and timeouts."""

    executor: str = "local"
    workers: int | None = None
    kernels: str = "fork"
    scheduler: str | None = None
    #: Seconds one cell may run. None: 600 for notebooks; for grading, nbgrader's own
    #: ``Execute.timeout`` (a number given here overrides it).
    cell_timeout: int | None = None
    notebook_timeout: float | None = 1800.0
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    #: grading kernels' sandbox: auto (strongest level here), strict (refuse below
    #: landlock) or off; see :mod:`tandem.engine.sandbox`.
    sandbox: str = "auto"
    #: Output kept per output stream per cell, and per notebook (bytes; see kernelclient).
    max_stream_bytes: int = 1_000_000
    max_notebook_output_bytes: int = 10_000_000


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    seconds: float = 0.0
    error: str | None = None
    output: str | None = None
    kernel_seconds: float = 0.0
    note: str | None = None


def named_inputs(paths: Sequence[Path]) -> dict[str, Path]:
    """Files (or every file under folders) to ship with each job, by their relative name."""
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            found.update({f"{path.name}/{rel}": p for rel, p in folder_inputs(path).items()})
        elif path.is_file():
            found[path.name] = path
        else:
            raise BatchError(f"no file or folder at {path}", path=path)
    return found


def open_executor(options: RunOptions, kinds: Sequence[WorkKind] = ALL_KINDS) -> Executor:
    """The executor ``options`` name, with their workers, kernels and scheduler, ready
    for ``kinds`` of work (``papermill`` notebooks, nbgrader's ``autograde``)."""
    return make_executor(
        options.executor,
        workers=options.workers,
        kernels=options.kernels,
        scheduler=options.scheduler,
        kinds=kinds,
    )


def folder_inputs(folder: Path, *, exclude: tuple[str, ...] = ()) -> dict[str, Path]:
    """Every file under ``folder`` by its relative name (a lesson's ``data/``, say)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in exclude and ".ipynb_checkpoints" not in path.parts:
            found[rel] = path
    return found


def check_parameters(parameters: dict[str, Any], *, job: str = "") -> None:
    """Parameter names must be ASCII identifiers and values plain JSON (no NaN, no objects).

    Python reads identifiers NFKC-normalised, so a look-alike name (a fullwidth ``ｖalue``)
    would silently set ``value``: such a name is refused, naming the one it would override.
    """
    plain = {unicodedata.normalize("NFKC", name): name for name in parameters if name.isascii()}
    for name, value in parameters.items():
        if not name.isascii():
            same = plain.get(unicodedata.normalize("NFKC", name))
            reason = f"reads as {same!r} in Python and would override it" if same else ""
            raise TandemError(
                f"parameter name {name!r} {reason or 'is not ASCII'}: "
                "names must be ASCII identifiers (letters, digits, '_')",
                where=job or None,
            )
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
            executor = open_executor(options, kinds=("papermill",))
        try:
            with progress_bar(len(pending), "notebooks", options.progress) as advance:
                for outcome in executor.run(job.work(options) for job in pending):
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


def load_job_table(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Rows of a CSV or YAML jobs file as (where, parameters); ``where`` names file and line.

    CSV: one row per job, a column per parameter; a cell that reads as a number is a
    number, ``true``/``false`` are booleans, anything else is text. YAML: a list of
    mappings (or ``{jobs: [...]}``), for lists and nested values.
    """
    if not path.is_file():
        raise BatchError(f"no jobs file at {path}", path=path)
    if path.suffix.lower() in (".yml", ".yaml"):
        rows = _yaml_rows(path)
    elif path.suffix.lower() == ".csv":
        rows = _csv_rows(path)
    else:
        raise BatchError("the jobs file must be .csv, .yml or .yaml", path=path)
    if not rows:
        raise BatchError("the jobs file has no rows", path=path)
    for where, parameters in rows:
        check_parameters(parameters, job=where)
    return rows


def _csv_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The rows of a CSV file. A quoted cell may span lines and keeps its line breaks
    exactly (as written: ``\\n`` or ``\\r\\n``); ``where`` names the line its row starts on."""
    import csv
    import io

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BatchError(f"not UTF-8 text (byte {exc.start})", path=path) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        _ = reader.fieldnames  # reads the header: line_num then counts the rows' lines
    except csv.Error as exc:
        raise BatchError(f"{path.name}:1: not valid CSV: {exc}", path=path) from None
    rows = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise BatchError(f"{path.name}:{start}: not valid CSV: {exc}", path=path) from None
        where = f"{path.name}:{start}"
        if None in row or any(value is None for value in row.values()):
            raise BatchError(f"{where}: the row's cells do not match the header", path=path)
        rows.append((where, {k.strip(): _cell(v) for k, v in row.items()}))
    return rows


_JSON_NUMBER = re.compile(
    r"-?(?:0|[1-9][0-9]*)(?P<fraction>\.[0-9]+)?(?P<exponent>[eE][+-]?[0-9]+)?"
)


def _cell(text: str) -> Any:
    """A CSV cell's value: ``true``/``false``, a number written as JSON writes one
    (``7``, ``-0.5``, ``1e3``), else the text itself: ``007``, ``1_000``, ``+5`` or
    ``.5`` stay text, as they would in a JSON parameters file."""
    value = text.strip()
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    match = _JSON_NUMBER.fullmatch(value)
    if match is None:
        return text
    if match["fraction"] is None and match["exponent"] is None:
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else text


def _yaml_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BatchError(f"not valid YAML: {exc}".splitlines()[0], path=path) from exc
    if isinstance(data, dict) and "jobs" in data:
        data = data["jobs"]
    if not isinstance(data, list):
        raise BatchError("expected a list of jobs (mappings of parameters)", path=path)
    rows = []
    for n, item in enumerate(data):
        if not isinstance(item, dict):
            raise BatchError(f"jobs[{n}] is not a mapping of parameters", path=path)
        rows.append((f"{path.name} (jobs[{n}])", item))
    return rows


def declared_parameters(notebook: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters`` (papermill's convention)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError) as exc:
        raise BatchError(f"not a readable notebook: {exc}", path=notebook) from exc
    names: set[str] = set()
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", [])
            names.update(_assigned_names("".join(source) if isinstance(source, list) else source))
    return names


def _assigned_names(source: str) -> set[str]:
    """Names a parameters cell assigns at top level (``a = 1``, ``b: int = 2``,
    ``c, d = 3, 4``); a cell Python cannot parse (a ``%magic``) is read line by line."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=", source, re.M))
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _check_known(
    notebook: Path, declared: set[str], rows: list[tuple[str, dict[str, Any]]]
) -> None:
    """Refuse a parameter the notebook does not declare: papermill would only warn ("Passed
    unknown parameter") and the job would run with the default, marked done."""
    import difflib

    for where, parameters in rows:
        for name in parameters:
            if name in declared:
                continue
            close = difflib.get_close_matches(name, sorted(declared), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            has = (
                f"its parameters: {', '.join(sorted(declared))}"
                if declared
                else "it has no cell tagged 'parameters'"
            )
            raise BatchError(
                f"{where}: column {name!r} is not a parameter of {notebook.name} ({hint}{has})"
            )


def table_jobs(
    notebook: Path,
    rows: list[tuple[str, dict[str, Any]]],
    out: Path,
    *,
    id_column: str | None = None,
    html: bool = False,
    inputs: dict[str, Path] | None = None,
) -> list[Job]:
    """One job per row: outputs ``out/<id>.ipynb`` (and ``.html``), ids unique.

    Ids come from the ``id_column`` under the one id policy (:mod:`tandem.ids`): two rows
    whose values give the same id (``Amara``, ``amara``) are refused, naming both.
    """
    from tandem.fsutil import under
    from tandem.ids import IdClaims

    if not notebook.is_file():
        raise BatchError(f"no notebook at {notebook}", path=notebook)
    column = id_column or ("id" if all("id" in p for _, p in rows) else None)
    declared = declared_parameters(notebook)
    jobs: list[Job] = []
    claims = IdClaims("job id")
    for n, (where, parameters) in enumerate(rows, start=1):
        if column is None:
            job_id = f"job-{n:03d}"
        elif column not in parameters:
            raise BatchError(f"{where}: no {column!r} value for the job's id")
        else:
            if not str(parameters[column]).strip():
                raise BatchError(f"{where}: the {column!r} value for the job's id is empty")
            job_id = claims.claim(str(parameters[column]), where)
            if column not in declared:  # only names the job: not the notebook's business
                parameters = {k: v for k, v in parameters.items() if k != column}
        jobs.append(
            Job(
                id=job_id,
                notebook=notebook,
                output=under(out, f"{job_id}.ipynb"),
                parameters=parameters,
                html=under(out, f"{job_id}.html") if html else None,
                title=f"{notebook.stem}: {job_id}",
                inputs=dict(inputs or {}),
            )
        )
    named = [(where, job.parameters) for (where, _), job in zip(rows, jobs, strict=True)]
    _check_known(notebook, declared, named)
    return jobs
