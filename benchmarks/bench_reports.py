"""Pair reports: Tandem's batch engine against the papermill loops users would write.

Run: ``.venv/bin/python benchmarks/bench_reports.py [--quick | --sizes 20,200]``.

N pair-report notebooks (the real template, ``tandem/templates/pair_report.ipynb``), each
executed with its pair's parameters and exported to an offline HTML page, three ways:

1. Tandem: ``run_jobs`` on the local executor (two workers per core), fork-started kernels,
   HTML export on (in the workers), measured twice: with a new pool per run, start-up
   included (fork server, kernel template and workers: what a ``tandem report`` command
   pays), and on a pool that is already running (what a script or notebook that keeps
   its executor pays, and the like-for-like comparison with the loop below, which runs
   in a process that has done its imports);
2. a ``papermill`` CLI loop: one ``papermill`` process per notebook, then the same HTML
   export (``tandem.htmlpage.notebook_to_page``) in this process;
3. a sequential ``papermill.execute_notebook`` loop in this process, same HTML export.

The pairs' data is a real ``pairs.json`` from a small synthetic demo cohort (built once,
in a subprocess), its pairs cloned under new ids up to N. Above ``--sample`` notebooks
the two slow baselines run on a random sample of the same jobs (fixed seed) and are
compared per job. Tandem's peak memory is the sum of the RSS of this process and all its
descendants (pool workers, kernel templates, kernels), sampled every 100 ms.

Wall-clock times on a shared machine are noisy: read the ratios. Runs of a few seconds
are the most exposed to a passing burst of load, so up to ``--repeat-below`` notebooks
Tandem's runs and the ``execute_notebook`` loop are repeated ``--repeats`` times and the
median run counts (all are printed). The papermill CLI loop runs once.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from repeats import median_of, shown

from tandem.engine.batch import Job, JobRecord, RunOptions, open_executor, run_jobs
from tandem.engine.executors import Executor, default_workers
from tandem.engine.jobs import QUIET_KERNEL, kernel_time
from tandem.reports.build import template

BIN = Path(sys.executable).parent
TEMPLATE = template("pair_report.ipynb")
DATA_NAME = "pairs.json"
SEED = 20270301
TARGET_SPEEDUP = 6.0  # Tandem against the sequential execute_notebook loop
FLAT_TOLERANCE = 1.2  # per-job time and peak memory at the largest N vs the smallest
DEMO_SCRIPT = """
import sys
from tandem.demo import run_demo
result = run_demo(sys.argv[1], pairs=3, sessions=2)
sys.exit(1 if result.reports.failed else 0)
"""


@dataclass
class TandemRun:
    pool: str  # "new pool" or "running pool"
    size: int
    wall: float
    records: list[JobRecord]
    peak_rss: int
    peak_processes: int
    walls: list[float] = field(default_factory=list)  # every repeat's wall, in order

    @property
    def per_job(self) -> float:
        return self.wall / self.size

    @property
    def kernel_sum(self) -> float:
        return sum(r.kernel_seconds for r in self.records)


@dataclass
class BaselineRun:
    name: str
    size: int  # jobs in the batch
    seconds: list[float] = field(default_factory=list)  # one per sampled job
    kernel: list[float] = field(default_factory=list)  # in-kernel seconds per sampled job
    totals: list[float] = field(default_factory=list)  # every repeat's total, in order

    @property
    def per_job(self) -> float:
        return statistics.fmean(self.seconds)


class PeakMemory:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total, count = 0, 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                    count += 1
                except psutil.Error:  # it ended between the listing and the reading
                    pass
            self.peak = max(self.peak, total)
            self.processes = max(self.processes, count)
            if self._stop.wait(self.interval):
                return


# -- data --------------------------------------------------------------------------------
def demo_pairs(base: Path) -> dict[str, Any]:
    """The facilitator data (pairs.json) of a 3-pair, 2-session demo cohort."""
    out = base / "demo"
    subprocess.run(
        [sys.executable, "-c", DEMO_SCRIPT, str(out)], check=True, capture_output=True, text=True
    )
    data: dict[str, Any] = json.loads(
        (out / "cohort" / "reports" / "facilitator" / "data" / DATA_NAME).read_text("utf-8")
    )
    return data


def cloned(data: dict[str, Any], size: int) -> dict[str, Any]:
    """``data`` with ``size`` pairs: the demo's pairs cloned in turn under new ids."""
    pairs = []
    for index in range(size):
        pair = copy.deepcopy(data["pairs"][index % len(data["pairs"])])
        pair["id"] = f"pair-{index + 1:03d}"
        pairs.append(pair)
    return {**data, "pairs": pairs}


@dataclass(frozen=True)
class Batch:
    size: int
    folder: Path  # holds the data file; every notebook runs here
    pair_ids: list[str]

    def data_file(self, pair_id: str) -> Path:
        """As ``tandem report`` does, each pair's notebook reads only that pair's data."""
        return self.folder / "pairs" / f"{pair_id}.json"

    def parameters(self, pair_id: str) -> dict[str, str]:
        return {"data_path": f"pairs/{pair_id}.json", "pair_id": pair_id}

    def title(self, pair_id: str) -> str:
        return f"Benchmark cohort: {pair_id}"

    def out(self, tool: str) -> Path:
        folder = self.folder / tool
        folder.mkdir(exist_ok=True)
        return folder


def make_batch(base: Path, data: dict[str, Any], size: int) -> Batch:
    folder = base / f"n{size}"
    folder.mkdir()
    pairs = cloned(data, size)
    (folder / "pairs").mkdir()
    for pair in pairs["pairs"]:
        own = {**pairs, "pairs": [pair]}
        (folder / "pairs" / f"{pair['id']}.json").write_text(json.dumps(own), encoding="utf-8")
    return Batch(size, folder, [p["id"] for p in pairs["pairs"]])


# -- the three ways ----------------------------------------------------------------------
def run_tandem(
    batch: Batch, ids: Sequence[str] | None = None, executor: Executor | None = None
) -> TandemRun:
    """One Tandem run of the batch: on ``executor`` if given, else on a pool of its own."""
    out = batch.out("tandem")
    jobs = [
        Job(
            id=pair_id,
            notebook=TEMPLATE,
            output=out / f"{pair_id}.ipynb",
            html=out / f"{pair_id}.html",
            parameters={"data_path": "pair.json", "pair_id": pair_id},
            inputs={"pair.json": batch.data_file(pair_id)},
            title=batch.title(pair_id),
        )
        for pair_id in (ids if ids is not None else batch.pair_ids)
    ]
    options = RunOptions(executor="local", kernels="fork", progress=False)
    if executor is None:
        stop_fork_server()
    with PeakMemory() as memory:
        started = time.perf_counter()
        records = run_jobs(
            jobs, out / "manifest.json", force=True, options=options, executor=executor
        )
        wall = time.perf_counter() - started
    failed = [r for r in records if r.status != "done"]
    if failed:
        raise SystemExit(f"Tandem: {len(failed)} report(s) failed, e.g. {failed[0].error}")
    pool = "new pool" if executor is None else "running pool"
    return TandemRun(pool, len(jobs), wall, records, memory.peak, memory.processes)


def stop_fork_server() -> None:
    """End this process's multiprocessing fork server, so that the next pool starts its
    own, as the pool of a `tandem report` command does (one is kept for the process)."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)  # private: used by CPython's tests
    if stop is None:
        raise SystemExit("this Python's multiprocessing cannot stop its fork server")
    stop()


def export_html(batch: Batch, notebook: Path, pair_id: str) -> None:
    from tandem.htmlpage import notebook_to_page

    page = notebook_to_page(notebook, title=batch.title(pair_id))
    notebook.with_suffix(".html").write_text(page, encoding="utf-8")


def cli_env() -> dict[str, str]:
    """This environment without Tandem's kernel provisioner choice: plain Jupyter."""
    return {k: v for k, v in os.environ.items() if k != "JUPYTER_DEFAULT_PROVISIONER_NAME"}


def papermill_cli(batch: Batch, pair_id: str) -> Path:
    output = batch.out("papermill-cli") / f"{pair_id}.ipynb"
    command = [str(BIN / "papermill"), str(TEMPLATE), str(output), "--cwd", str(batch.folder)]
    for name, value in batch.parameters(pair_id).items():
        command += ["-r", name, value]
    command += ["--kernel", "python3", "--no-progress-bar", "--no-log-output"]
    subprocess.run(command, check=True, capture_output=True, env=cli_env())
    return output


def papermill_api(batch: Batch, pair_id: str) -> Path:
    import papermill

    output = batch.out("papermill-api") / f"{pair_id}.ipynb"
    papermill.execute_notebook(
        str(TEMPLATE),
        str(output),
        parameters=batch.parameters(pair_id),
        cwd=str(batch.folder),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        shutdown_kernel="immediate",  # as Tandem does: avoids an occasional shutdown stall
        extra_arguments=list(QUIET_KERNEL),
    )
    return output


def run_baseline(
    name: str, batch: Batch, ids: Sequence[str], execute: Callable[[Batch, str], Path]
) -> BaselineRun:
    run = BaselineRun(name, batch.size)
    for pair_id in ids:
        started = time.perf_counter()
        output = execute(batch, pair_id)
        export_html(batch, output, pair_id)
        run.seconds.append(time.perf_counter() - started)
        run.kernel.append(kernel_time(output.read_text(encoding="utf-8")))
    return run


def repeated_tandem(rounds: int, run: Callable[[], TandemRun]) -> TandemRun:
    runs = [run() for _ in range(rounds)]
    median = median_of(runs, lambda r: r.wall)
    median.walls = [r.wall for r in runs]
    return median


def repeated_baseline(rounds: int, run: Callable[[], BaselineRun]) -> BaselineRun:
    runs = [run() for _ in range(rounds)]
    median = median_of(runs, lambda r: sum(r.seconds))
    median.totals = [sum(r.seconds) for r in runs]
    return median


# -- output ------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def header(sizes: Sequence[int], sample: int, rounds: int, below: int) -> None:
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print("=" * 78)
    print("Tandem benchmark: pair reports (execute + HTML export)")
    print("=" * 78)
    print(
        f"machine   {platform.node()}: {cores} cores ({usable} usable), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(
        f"template  {TEMPLATE.name}; sizes {', '.join(map(str, sizes))}; baselines on all "
        f"jobs up to {sample}, else a random sample of {sample} (seed {SEED})"
    )
    print("tandem    run_jobs, local executor (two workers per core), fork kernels, HTML on;")
    print("          a new pool per run (fork server, template and workers started, as in")
    print("          a `tandem report` command),")
    print("          and one pool already running (as a script that keeps its executor)")
    print("baselines papermill CLI per notebook / papermill.execute_notebook loop in one")
    print("          process, cold kernels, HTML by notebook_to_page in this process")
    if rounds > 1:
        print(
            f"repeats   up to N={below}: {rounds} runs of Tandem (each pool) and of the "
            "execute_notebook loop; the median counts"
        )
    print()


def report_size(
    runs: Sequence[TandemRun], baselines: list[BaselineRun], cores: int, data_bytes: int
) -> None:
    print(
        f"-- N = {runs[0].size} notebooks (each job's input: its pair's data, "
        f"{data_bytes / 1000:,.1f} kB)"
    )
    for run in runs:
        seconds = [r.seconds for r in run.records]
        print(
            f"  tandem, {run.pool:<16} wall {run.wall:7.1f} s   per job {run.per_job:6.2f} s   "
            f"(each job {statistics.median(seconds):.2f} s median, {max(seconds):.2f} s max)"
            + shown(run.walls)
        )
    for base in baselines:
        ratios = ", ".join(f"{base.per_job / run.per_job:4.1f}x {run.pool}" for run in runs)
        print(
            f"  {base.name:<24} {len(base.seconds):4d} jobs {sum(base.seconds):6.1f} s   "
            f"per job {base.per_job:6.2f} s   ratio {ratios}   "
            f"(in-kernel {statistics.fmean(base.kernel):.2f} s/job)" + shown(base.totals)
        )
    for run in runs:
        kernel = run.kernel_sum
        print(
            f"  tandem in-kernel time    {run.pool}: sum {kernel:5.1f} s "
            f"({kernel / run.size:.2f} s/job); wall / sum = {run.wall / kernel:.2f}  (physical "
            f"floor on {cores} cores: {1 / cores:.2f}, i.e. wall >= {kernel / cores:.1f} s)"
        )
    for run in runs:
        print(
            f"  tandem peak memory       {run.pool}: {mib(run.peak_rss)} summed RSS over up "
            f"to {run.peak_processes} processes (pages shared after fork count once each)"
        )
    print()


def running_pool(batch: Batch) -> Executor:
    """A local pool, started and warmed with one job per worker (untimed)."""
    executor = open_executor(RunOptions(executor="local", kernels="fork", progress=False))
    executor.start()
    run_tandem(batch, batch.pair_ids[: default_workers()], executor=executor)
    return executor


def _pairs(
    results: list[tuple[list[TandemRun], BaselineRun]], pool: str
) -> list[tuple[TandemRun, BaselineRun]]:
    """(Tandem run on ``pool``, execute_notebook loop) for each N."""
    return [(run, loop) for runs, loop in results for run in runs if run.pool == pool]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (6,12) to develop")
    parser.add_argument("--sizes", default="20,200", help="comma-separated N (default 20,200)")
    parser.add_argument("--sample", type=int, default=40, help="baseline jobs at most per N")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measure at small N")
    parser.add_argument(
        "--repeat-below", type=int, default=40, help="repeat up to this N (default 40)"
    )
    args = parser.parse_args(argv)
    sizes = [6, 12] if args.quick else [int(s) for s in args.sizes.split(",")]
    sample = min(args.sample, 6) if args.quick else args.sample
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    header(sizes, sample, args.repeats, args.repeat_below)

    def rounds(batch: Batch) -> int:
        return args.repeats if batch.size <= args.repeat_below else 1

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-reports-") as tmp:
        base = Path(tmp)
        data = demo_pairs(base)
        print(
            f"data      pairs.json of a 3-pair, 2-session demo ({len(json.dumps(data)):,} "
            f"bytes), pairs cloned to N ({time.perf_counter() - started:.0f} s to build)"
        )
        batches = [make_batch(base, data, size) for size in sizes]
        run_tandem(batches[0], batches[0].pair_ids[:2])  # warm-up: file cache, bytecode
        print("warm-up   2 Tandem jobs, untimed")
        print()

        # First: memory from a lean parent. New pools, then one running pool for all N.
        fresh = [repeated_tandem(rounds(b), partial(run_tandem, b)) for b in batches]
        executor = running_pool(batches[0])
        print(f"running   one pool for every N, warmed with {default_workers()} jobs, untimed")
        print()
        try:
            running = [
                repeated_tandem(rounds(b), partial(run_tandem, b, executor=executor))
                for b in batches
            ]
        finally:
            executor.close()
        os.environ.pop("JUPYTER_DEFAULT_PROVISIONER_NAME", None)  # baselines: plain Jupyter
        import nbconvert  # noqa: F401 - the baselines' one-off imports stay out of the loops
        import papermill  # noqa: F401

        rng = random.Random(SEED)
        results = []
        for batch, *runs in zip(batches, fresh, running, strict=True):
            ids = batch.pair_ids
            if len(ids) > sample:
                ids = sorted(rng.sample(ids, sample))
            baselines = [
                run_baseline("papermill CLI loop", batch, ids, papermill_cli),
                repeated_baseline(
                    rounds(batch),
                    partial(run_baseline, "execute_notebook loop", batch, ids, papermill_api),
                ),
            ]
            report_size(runs, baselines, cores, batch.data_file(batch.pair_ids[0]).stat().st_size)
            results.append((runs, baselines[1]))

    verdicts = []
    for pool, runs in (("new pool", fresh), ("running pool", running)):
        first, last = runs[0], runs[-1]
        print(f"-- Tandem ({pool}) from N={first.size} to N={last.size}")
        print(
            f"  per job                  {first.per_job:.2f} s -> {last.per_job:.2f} s "
            f"({last.per_job / first.per_job:.2f}x)"
        )
        print(
            f"  peak memory              {mib(first.peak_rss)} -> {mib(last.peak_rss)} "
            f"({last.peak_rss / first.peak_rss:.2f}x)"
        )
        speedups = [(loop.per_job / run.per_job, run.size) for run, loop in _pairs(results, pool)]
        measured = ", ".join(f"{s:.1f}x at N={n}" for s, n in speedups)
        verdicts.append(
            f"{pool}: reports >= {TARGET_SPEEDUP:g}x faster than the execute_notebook loop "
            f"[{measured}] {verdict(min(s for s, _ in speedups) >= TARGET_SPEEDUP)}; per-job time "
            f"flat N={first.size}->{last.size} (<= {FLAT_TOLERANCE:g}x) "
            f"{verdict(last.per_job <= FLAT_TOLERANCE * first.per_job)}; peak memory flat "
            f"{verdict(last.peak_rss <= FLAT_TOLERANCE * first.peak_rss)}"
        )
    print()
    print("targets:")
    for line in verdicts:
        print(f"  {line}")
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
