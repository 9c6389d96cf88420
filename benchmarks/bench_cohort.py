"""The facilitator's daily commands at cohort scale: status, export and report data.

Run: ``.venv/bin/python benchmarks/bench_cohort.py [--quick | --sizes 100,300]``.

For each N: a cohort of N pairs on the shipped curriculum with all six sessions released
(nbgrader's generate and release, through ``tandem.cohort.release``), every learner's
checkpoint graded straight into the gradebook (rows as nbgrader's ``add_submission``
makes them, inserted in bulk, then scored: full, partial, blank and late in turn, some
written answers still to grade by hand) and both partners' check-ins written into
``submitted/`` by the project's own writer (``write_checkin``). Nothing is fetched,
submitted or autograded (the exchange's inbound folder holds an empty copy of each
submission, as collect leaves it): building 300 pairs takes a minute, not hours.

Each command is timed twice in the same run, on the same cohort:

- Tandem: the command as it is, reading the gradebook once (``tandem.grading.scores``);
- baseline: the same command with every score and due date read per checkpoint, as
  before (``read_score`` and ``due_date``: a gradebook opened and about a dozen SQL
  statements per checkpoint), by handing the command a book that reads on demand.

Both must give the same output (exit status 1 if not). Wall-clock times on a shared
machine are noisy: read the ratios. Tandem's runs are repeated ``--repeats`` times and
the median counts; the baseline runs once.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from repeats import median_of, shown

from tandem.cohort.exchange import write_checkin
from tandem.cohort.release import release_session, set_due_date
from tandem.cohort.workspace import Cohort, Workspace, due_date, init_cohort
from tandem.curriculum.manifest import load_program
from tandem.demo import demo_checkin, synthetic_roster
from tandem.grading.checkpoints import quiet_nbgrader, read_score
from tandem.grading.scores import Score
from tandem.reports import build, data, export, status

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "curriculum" / "program.yml"
DUE = datetime(2027, 1, 18, 23, 59, 59)
STATUS_TARGET, EXPORT_TARGET, REPORT_TARGET = 1.0, 2.0, 2.0  # seconds at the first N
TARGET_SPEEDUP = 20.0  # against the per-checkpoint path
FLAT_TOLERANCE = 1.2  # per-pair time at the largest N vs the smallest


# -- the cohort ----------------------------------------------------------------------------
def build_cohort(base: Path, pairs: int) -> Workspace:
    """N pairs, six sessions released, every checkpoint graded, every check-in written."""
    base.mkdir(parents=True)
    roster = base / "roster.csv"
    program = load_program(MANIFEST)
    roster.write_text(synthetic_roster(pairs, program.competencies), encoding="utf-8")
    init_cohort(base / "cohort", roster, curriculum=MANIFEST)
    ws = Workspace(base / "cohort")
    for session in program.sessions:
        release_session(ws.root, session.id)
    cohort = ws.load()
    with quiet_nbgrader():
        for index, session in enumerate(program.sessions):
            for module in session.modules:
                set_due_date(ws, cohort, module.id, DUE + timedelta(weeks=index))
        _grade_in_bulk(ws, cohort)
    return ws


def _grade_in_bulk(ws: Workspace, cohort: Cohort) -> None:
    """Every learner's submission of every module, with the rows nbgrader's
    ``Gradebook.add_submission`` creates (a submitted notebook per notebook, a grade per
    grade and task cell, a comment per solution and task cell), scored."""
    from nbgrader.api import Assignment, Comment, Grade, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import insert

    program = ws.program(cohort)
    rows: dict[Any, list[dict[str, Any]]] = {
        SubmittedAssignment: [],
        SubmittedNotebook: [],
        Grade: [],
        Comment: [],
    }
    with ws.gradebook(cohort) as gradebook:
        for number, module in enumerate(m for s in program.sessions for m in s.modules):
            assignment = gradebook.db.query(Assignment).filter_by(name=module.id).one()
            for index, (pair, learner) in enumerate(cohort.learners(module)):
                turn = (index + number) % 4  # full, partial, blank, late
                stamp = assignment.duedate + timedelta(hours=1 if turn == 3 else -2)
                submission = {"id": _id(), "assignment_id": assignment.id}
                rows[SubmittedAssignment].append(
                    {**submission, "student_id": learner, "timestamp": stamp}
                )
                for notebook in assignment.notebooks:
                    nb = {"id": _id(), "assignment_id": submission["id"]}
                    rows[SubmittedNotebook].append({**nb, "notebook_id": notebook.id})
                    for cell in [*notebook.grade_cells, *notebook.task_cells]:
                        rows[Grade].append(_grade(nb["id"], cell, turn, index))
                    for cell in [*notebook.solution_cells, *notebook.task_cells]:
                        rows[Comment].append(
                            {"id": _id(), "notebook_id": nb["id"], "cell_id": cell.id}
                        )
                _checkins(ws, cohort, module, pair.members, index, stamp)
        for model, values in rows.items():
            if values:
                gradebook.db.execute(insert(model), values)
        gradebook.db.commit()


def _id() -> str:
    return uuid.uuid4().hex


def _grade(notebook_id: str, cell: Any, turn: int, index: int) -> dict[str, Any]:
    row = {"id": _id(), "notebook_id": notebook_id, "cell_id": cell.id}
    if cell.cell_type == "code":
        share = {0: 1.0, 1: 0.5, 2: 0.0, 3: 1.0}[turn]
        return {**row, "auto_score": cell.max_score * share, "needs_manual_grade": False}
    if index % 5 == 0:  # a written answer still to grade by hand
        return {**row, "needs_manual_grade": True}
    return {**row, "manual_score": cell.max_score * (index % 3) / 2, "needs_manual_grade": False}


def _checkins(
    ws: Workspace, cohort: Cohort, module: Any, members: Sequence[str], seed: int, stamp: datetime
) -> None:
    inbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "inbound"
    for member in members:
        # collect leaves the exchange's copy in inbound/: status looks there too
        (inbound / f"{member}+{module.id}+{stamp} UTC").mkdir(parents=True, exist_ok=True)
        folder = ws.submission_dir(member, module.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "timestamp.txt").write_text(f"{stamp} UTC", encoding="utf-8")
        write_checkin(folder, demo_checkin(cohort, module, member, seed))


# -- the baseline: every score and due date read per checkpoint ----------------------------
class PerCheckpoint:
    """A book that reads on demand, as the commands did before: ``read_score`` per
    checkpoint and ``due_date`` per row."""

    with_cells = False  # status's changed-after-grading check reads its own, as before

    def __init__(self, ws: Workspace, cohort: Cohort) -> None:
        self.ws, self.cohort = ws, cohort

    def score(self, module_id: str, participant_id: str) -> Score | None:
        return read_score(self.ws, self.cohort, module_id, participant_id)

    def due_date(self, module_id: str) -> datetime | None:
        return due_date(self.ws, self.cohort, module_id)

    def get(self, module_id: str) -> datetime | None:  # as the dict of due dates
        return self.due_date(module_id)


#: Where the commands read the gradebook once (the names they import).
READERS = ((status, "read_book"), (export, "read_book"), (data, "read_book"), (data, "due_dates"))


@contextmanager
def per_checkpoint() -> Iterator[None]:
    """The commands, with their one reading of the gradebook replaced by reads per row."""

    def book(ws: Workspace, cohort: Cohort, *_: Any, **__: Any) -> PerCheckpoint:
        return PerCheckpoint(ws, cohort)

    saved = [getattr(module, name) for module, name in READERS]
    for module, name in READERS:
        setattr(module, name, book)
    try:
        yield
    finally:
        for (module, name), reader in zip(READERS, saved, strict=True):
            setattr(module, name, reader)


# -- the commands --------------------------------------------------------------------------
def run_status(ws: Workspace) -> Any:
    return status.cohort_status(ws.root).as_json()["rows"]


def run_export(ws: Workspace) -> Any:
    out = ws.root.parent / "export"
    return [p.read_text(encoding="utf-8") for p in export.export_cohort(ws.root, out, "csv")]


def run_report_data(ws: Workspace) -> Any:
    result = build.build_report_data(ws)
    pairs = json.loads(result.sites.pairs_file.read_text("utf-8"))
    programme = json.loads(result.sites.programme_file.read_text("utf-8"))
    for table in (pairs, programme):
        table.pop("generated_at", None)
    return pairs, programme


COMMANDS: dict[str, tuple[Callable[[Workspace], Any], float]] = {
    "status": (run_status, STATUS_TARGET),
    "export": (run_export, EXPORT_TARGET),
    "report data": (run_report_data, REPORT_TARGET),
}


@dataclass
class Timing:
    command: str
    pairs: int
    tandem: float
    baseline: float
    runs: list[float] = field(default_factory=list)
    same: bool = True

    @property
    def ratio(self) -> float:
        return self.baseline / self.tandem

    def per_pair(self, seconds: float) -> float:
        return seconds / self.pairs


def timed(run: Callable[[Workspace], Any], ws: Workspace) -> tuple[float, Any]:
    gc.collect()  # no run pays for the garbage of the one before
    started = time.perf_counter()
    result = run(ws)
    return time.perf_counter() - started, result


def measure(name: str, ws: Workspace, pairs: int, repeats: int) -> Timing:
    run, _ = COMMANDS[name]
    timed(run, ws)  # warm-up: imports, file cache
    runs = [timed(run, ws) for _ in range(repeats)]
    seconds, result = median_of(runs, lambda r: r[0])
    with per_checkpoint():
        baseline, expected = timed(run, ws)
    return Timing(name, pairs, seconds, baseline, [s for s, _ in runs], result == expected)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (10,30) to develop")
    parser.add_argument("--sizes", default="100,300", help="comma-separated pairs (100,300)")
    parser.add_argument("--repeats", type=int, default=5, help="Tandem runs per measure")
    args = parser.parse_args(argv)
    sizes = [10, 30] if args.quick else [int(s) for s in args.sizes.split(",")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    print("=" * 78)
    print("Tandem benchmark: status, export and report data at cohort scale")
    print("=" * 78)
    print(
        f"machine   {platform.node()}: {cores} usable cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(f"cohorts   {', '.join(map(str, sizes))} pairs x 6 sessions (12 checkpoints a pair)")
    print(f"tandem    the gradebook read once per command; median of {args.repeats} runs")
    print("baseline  read_score + due_date per checkpoint (the path before); one run")
    print()
    started = time.perf_counter()
    results: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="tandem-bench-cohort-") as tmp:
        for pairs in sizes:
            built = time.perf_counter()
            ws = build_cohort(Path(tmp) / f"n{pairs}", pairs)
            took = time.perf_counter() - built
            print(f"-- {pairs} pairs ({12 * pairs} checkpoints; built in {took:.0f} s)")
            for name in COMMANDS:
                t = measure(name, ws, pairs, args.repeats)
                results.append(t)
                print(
                    f"  {name:<12} tandem {t.tandem:6.2f} s   baseline {t.baseline:7.2f} s   "
                    f"ratio {t.ratio:6.1f}x   per pair {1000 * t.per_pair(t.tandem):5.2f} ms "
                    f"(baseline {1000 * t.per_pair(t.baseline):6.1f} ms)   same output "
                    f"{'yes' if t.same else 'NO'}" + shown(t.runs)
                )
            print()
    print("targets:")
    ok = True
    for name, (_, limit) in COMMANDS.items():
        rows = [t for t in results if t.command == name]
        first, last = rows[0], rows[-1]
        growth = last.per_pair(last.tandem) / first.per_pair(first.tandem)
        print(
            f"  {name:<12} <= {limit:g} s at {first.pairs} pairs [{first.tandem:.2f} s] "
            f"{verdict(first.tandem <= limit)}; >= {TARGET_SPEEDUP:g}x the per-checkpoint path "
            f"[{', '.join(f'{t.ratio:.0f}x at {t.pairs}' for t in rows)}] "
            f"{verdict(min(t.ratio for t in rows) >= TARGET_SPEEDUP)}; per pair flat "
            f"{first.pairs}->{last.pairs} [{growth:.2f}x] {verdict(growth <= FLAT_TOLERANCE)}"
        )
        ok = ok and all(t.same for t in rows)
    print(f"same output as the per-checkpoint path: {'yes' if ok else 'NO'}")
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
