"""Tandem's autograding and report runs against the tools users would otherwise use.

Run: ``.venv/bin/python benchmarks/bench_grading.py [PAIRS]`` (default 6 pairs).

1. Autograding one module's learners: ``nbgrader autograde MODULE`` (the CLI, one process)
   against ``tandem.grading.grade_module`` on the same submissions, same course.
2. Pair reports: a loop of ``papermill`` CLI calls (one per pair) against
   ``tandem.batch.run_jobs`` on the same template and parameters.

Wall-clock times on a shared machine are noisy; read the ratios. Grades are compared
so the speed is not bought with different results.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tandem.batch import Job, run_jobs
from tandem.cohort import Workspace, init_cohort, release_session
from tandem.demo import submission, synthetic_roster
from tandem.grading import grade_module, read_score
from tandem.report import build_report_data, template

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "curriculum" / "program.yml"
BIN = Path(sys.executable).parent


def build(base: Path, pairs: int) -> Workspace:
    roster = base / "roster.csv"
    roster.write_text(synthetic_roster(pairs))
    init_cohort(base / "cohort", roster, curriculum=MANIFEST)
    ws = Workspace(base / "cohort")
    release_session(ws.root, "session-01")
    cohort = ws.load()
    module = ws.program(cohort).module("t1-social-media")
    for index, (_, learner) in enumerate(cohort.learners(module)):
        target = ws.submission_dir(learner, module.id)
        shutil.copytree(ws.folder("release") / module.id, target)
        source = nbformat.read(ws.folder("source") / module.id / "checkpoint.ipynb", 4)
        release = nbformat.read(target / "checkpoint.ipynb", 4)
        quality = ("full", "partial", "blank")[index % 3]
        nbformat.write(submission(source, release, quality), target / "checkpoint.ipynb")
    return ws


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    with tempfile.TemporaryDirectory() as tmp:
        ws = build(Path(tmp), pairs)
        cohort = ws.load()
        module = ws.program(cohort).module("t1-social-media")
        learners = [learner for _, learner in cohort.learners(module)]

        cli = timed(
            lambda: subprocess.run(
                [str(BIN / "nbgrader"), "autograde", module.id, "--force"],
                cwd=ws.root,
                check=True,
                capture_output=True,
                env={"PATH": f"{BIN}:/usr/bin:/bin"},
            )
        )
        cli_scores = [read_score(ws, cohort, module.id, p) for p in learners]
        ours = timed(lambda: grade_module(ws, cohort, module))
        our_scores = [read_score(ws, cohort, module.id, p) for p in learners]
        same = cli_scores == our_scores
        print(f"autograde {len(learners)} submissions of {module.id}:")
        print(f"  nbgrader autograde (CLI)  {cli:6.1f} s")
        print(
            f"  tandem grade_module       {ours:6.1f} s   ratio {ours / cli:.2f}x"
            f"   same grades: {same}"
        )

        data = build_report_data(ws)
        out = Path(tmp) / "out"
        out.mkdir()

        def papermill_loop() -> None:
            for pair in cohort.pairs:
                subprocess.run(
                    [
                        str(BIN / "papermill"),
                        str(template("pair_report.ipynb")),
                        str(out / f"cli-{pair.id}.ipynb"),
                        "-p",
                        "data_path",
                        str(data.sites.pairs_file),
                        "-p",
                        "pair_id",
                        pair.id,
                        "--no-progress-bar",
                    ],
                    check=True,
                    capture_output=True,
                )

        jobs = [
            Job(
                id=p.id,
                notebook=template("pair_report.ipynb"),
                output=out / f"tandem-{p.id}.ipynb",
                parameters={"data_path": str(data.sites.pairs_file), "pair_id": p.id},
            )
            for p in cohort.pairs
        ]
        loop = timed(papermill_loop)
        batch = timed(lambda: run_jobs(jobs, out / "manifest.json", force=True))
        print(f"pair reports for {len(cohort.pairs)} pairs:")
        print(f"  papermill CLI loop        {loop:6.1f} s")
        print(f"  tandem run_jobs           {batch:6.1f} s   ratio {batch / loop:.2f}x")
        if not same:
            sys.exit("grades differ")


if __name__ == "__main__":
    main()
