"""Autograding: ``tandem grade`` against ``nbgrader autograde`` on a real course directory.

Run: ``.venv/bin/python benchmarks/bench_grade.py [--quick | --sizes 20,200]``.

For each N: a cohort workspace (an nbgrader course directory) with N pairs, session-01
released through nbgrader's API, and N learners' submissions of the curriculum's
``t1-social-media`` checkpoint in ``submitted/<student>/<assignment>``, of mixed quality in
turn: the solutions (full), about half of them (partial), the released notebook untouched
(blank) and a plausible wrong answer (``tests/fixtures/wrong_answers/<module>.yml``).
The course is copied twice; each tool grades every submission in its own copy, from the
command line, in the course directory:

- ``nbgrader autograde <assignment>``;
- ``tandem grade --course-dir <course> --assignment <assignment>`` (when this version's
  CLI has it; else the same call of ``tandem.grading.autograde.grade`` from a small script).

Then both gradebooks are read with ``nbgrader.api.Gradebook``: every student's total and
every grade cell's auto score must be identical (exit status 1 if not).

Wall-clock times on a shared machine are noisy: read the ratios. Runs of a few seconds
are the most exposed to a passing burst of load, so up to ``--repeat-below`` submissions
each tool grades ``--repeats`` fresh copies, in turn, and the median run counts (all are
printed, and every run's scores are compared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml
from repeats import median_of, shown

from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.curriculum.checkpoint_rules import solution_answers
from tandem.curriculum.manifest import ANSWERS_FILE
from tandem.demo import submission, synthetic_roster

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "curriculum" / "program.yml"
WRONG_ANSWERS = ROOT / "tests" / "fixtures" / "wrong_answers"
BIN = Path(sys.executable).parent
SESSION, ASSIGNMENT = "session-01", "t1-social-media"
QUALITIES = ("full", "partial", "blank", "wrong")
TARGET_SPEEDUP = 4.0  # Tandem against nbgrader autograde
SANDBOX_COST = 1.10  # Tandem with its grading sandbox (auto) against --sandbox off
FLAT_TOLERANCE = 1.2  # Tandem's per-submission time at the largest N vs the smallest
GRADE_SCRIPT = """
import sys
from tandem.grading.autograde import course_api, grade, submissions
from tandem.engine.batch import RunOptions

api = course_api(sys.argv[1])
work = [(sys.argv[2], student) for student in submissions(api, sys.argv[2])]
results = grade(api, work, options=RunOptions(progress=False, sandbox=sys.argv[3]))
sys.exit(0 if all(r.status == "graded" for r in results) else 1)
"""

#: student -> (total score, max score, {notebook/grade cell: auto score})
Scores = dict[str, tuple[float, float, dict[str, float | None]]]


@dataclass(frozen=True)
class Course:
    root: Path
    course_id: str
    quality: dict[str, str]  # student -> quality of their submission


@dataclass(frozen=True)
class Graded:
    tool: str
    seconds: float
    returncode: int
    scores: Scores
    stderr: str


# -- the course --------------------------------------------------------------------------
def answered(source: Any, release: Any, quality: str) -> Any:
    """A learner's notebook of ``quality``, as tests/test_exercises.py writes them: "wrong"
    answers with the controls (the notebook as released, see :func:`answers_file`)."""
    return submission(source, release, "blank" if quality == "wrong" else quality)


def answers_file(source: Any, quality: str) -> dict[str, Any] | None:
    """What the question controls save for a "wrong" learner: every right answer but the
    module's hand-written wrong ones (``tests/fixtures/wrong_answers``); else no file."""
    if quality != "wrong":
        return None
    fixture = yaml.safe_load((WRONG_ANSWERS / f"{ASSIGNMENT}.yml").read_text("utf-8"))
    return {**solution_answers(source), **fixture["answers"]}


def build_course(base: Path, size: int) -> Course:
    """A cohort workspace with ``size`` pairs and one submission per learner of the module."""
    (base / "roster.csv").write_text(synthetic_roster(size), encoding="utf-8")
    cohort = init_cohort(base / "course", base / "roster.csv", curriculum=MANIFEST)
    ws = Workspace(base / "course")
    release_session(ws.root, SESSION)
    module = ws.program(cohort).module(ASSIGNMENT)
    release = ws.folder("release") / ASSIGNMENT
    notebooks = {
        path.name: (nbformat.read(path, as_version=4), nbformat.read(release / path.name, 4))
        for path in sorted((ws.folder("source") / ASSIGNMENT).glob("*.ipynb"))
    }
    quality = {}
    for index, (_, learner) in enumerate(cohort.learners(module)):
        quality[learner] = QUALITIES[index % len(QUALITIES)]
        target = ws.submission_dir(learner, ASSIGNMENT)
        shutil.copytree(release, target)
        for name, (source, released) in notebooks.items():
            nbformat.write(answered(source, released, quality[learner]), target / name)
            chosen = answers_file(source, quality[learner])
            if chosen is not None:
                record = {"schema_version": 1, "participant": learner, "answers": chosen}
                (target / ANSWERS_FILE).write_text(json.dumps(record), "utf-8")
    return Course(ws.root, cohort.course_id, quality)


def copy_course(course: Course, name: str) -> Course:
    root = course.root.parent / name
    shutil.copytree(course.root, root, symlinks=True)
    return Course(root, course.course_id, course.quality)


def read_scores(course: Course) -> Scores:
    from nbgrader.api import Gradebook, MissingEntry

    found: Scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", course.course_id) as gb:
            try:
                assignment = gb.find_assignment(ASSIGNMENT)
            except MissingEntry:
                return found
            for sub in assignment.submissions:
                cells = {
                    f"{nb.name}/{g.name}": g.auto_score for nb in sub.notebooks for g in nb.grades
                }
                found[sub.student.id] = (float(sub.score), float(sub.max_score), cells)
    return found


# -- the two tools -----------------------------------------------------------------------
def plain_env() -> dict[str, str]:
    """This environment without a Jupyter kernel provisioner choice: plain Jupyter."""
    return {k: v for k, v in os.environ.items() if k != "JUPYTER_DEFAULT_PROVISIONER_NAME"}


def tandem_has_grade_cli() -> bool:
    """Whether this version's ``tandem grade`` takes ``--course-dir``."""
    result = subprocess.run(
        [str(BIN / "tandem"), "grade", "--help"],
        capture_output=True,
        text=True,
        env={**plain_env(), "COLUMNS": "200"},
    )
    return result.returncode == 0 and "--course-dir" in result.stdout


def tandem_command(course: Course, cli: bool, sandbox: str = "auto") -> list[str]:
    if cli:
        return [
            str(BIN / "tandem"),
            "grade",
            "--course-dir",
            str(course.root),
            "--assignment",
            ASSIGNMENT,
            "--sandbox",
            sandbox,
        ]
    return [sys.executable, "-c", GRADE_SCRIPT, str(course.root), ASSIGNMENT, sandbox]


def nbgrader_command(course: Course) -> list[str]:
    return [str(BIN / "nbgrader"), "autograde", ASSIGNMENT]


def run_tool(tool: str, command: list[str], course: Course) -> Graded:
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=course.root, capture_output=True, text=True, env=plain_env()
    )
    seconds = time.perf_counter() - started
    return Graded(tool, seconds, result.returncode, read_scores(course), result.stderr)


def sandbox_level(run: Graded) -> str:
    """The level ``tandem grade`` printed at the start of the run (the CLI does)."""
    for line in run.stderr.splitlines():
        if line.startswith("sandbox: "):
            return line.split()[1]
    return "auto"


# -- output ------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def differences(a: Scores, b: Scores) -> list[str]:
    found = []
    for student in sorted(set(a) | set(b)):
        if student not in a or student not in b:
            found.append(f"{student}: graded by only one tool")
        elif a[student] != b[student]:
            cells = a[student][2], b[student][2]
            bad = sorted(
                k for k in set(cells[0]) | set(cells[1]) if cells[0].get(k) != cells[1].get(k)
            )
            found.append(
                f"{student}: total {a[student][0]:g} vs {b[student][0]:g}; cells {', '.join(bad)}"
            )
    return found


def score_summary(course: Course, scores: Scores) -> str:
    by_quality: dict[str, Counter[str]] = defaultdict(Counter)
    for student, (total, maximum, _) in scores.items():
        by_quality[course.quality[student]][f"{total:g}/{maximum:g}"] += 1
    return "; ".join(
        f"{q} " + ", ".join(f"{n}x {s}" for s, n in sorted(by_quality[q].items()))
        for q in QUALITIES
        if q in by_quality
    )


def header(sizes: Sequence[int], cli: bool, rounds: int, below: int) -> None:
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print("=" * 78)
    print(f"Tandem benchmark: autograding {ASSIGNMENT} submissions")
    print("=" * 78)
    print(
        f"machine   {platform.node()}: {cores} cores ({usable} usable), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(f"sizes     {', '.join(map(str, sizes))} submissions, qualities in turn: {QUALITIES}")
    tandem = (
        "tandem grade --course-dir COURSE --assignment A (CLI)"
        if cli
        else "python -c '... tandem.grading.autograde.grade(...)' "
        "(no `tandem grade --course-dir` yet)"
    )
    print(f"tandem    {tandem}")
    print(f"nbgrader  nbgrader autograde {ASSIGNMENT} (CLI, in the course directory)")
    if rounds > 1:
        print(
            f"repeats   up to N={below}: {rounds} runs of each tool, in turn; above, nbgrader "
            f"once and Tandem with and without its sandbox {rounds} times; the median counts"
        )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (6,12) to develop")
    parser.add_argument("--sizes", default="20,200", help="comma-separated N (default 20,200)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per tool at small N")
    parser.add_argument(
        "--repeat-below", type=int, default=40, help="repeat up to this N (default 40)"
    )
    args = parser.parse_args(argv)
    sizes = [6, 12] if args.quick else [int(s) for s in args.sizes.split(",")]
    cli = tandem_has_grade_cli()
    header(sizes, cli, args.repeats, args.repeat_below)
    started = time.perf_counter()
    per_submission: list[float] = []
    speedups: list[float] = []
    costs: list[float] = []  # sandboxed / unsandboxed Tandem time, per N
    identical = True
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="tandem-bench-grade-") as tmp:
            building = time.perf_counter()
            course = build_course(Path(tmp), size)
            built = time.perf_counter() - building
            rounds = args.repeats if size <= args.repeat_below else 1
            tandems, nbgraders, unsandboxed = [], [], []
            # Tandem with and without its sandbox is cheap to repeat at every N: the cost
            # of the sandbox is a few per cent, below one run's noise
            for n in range(max(rounds, args.repeats)):  # in turn: load hits all alike
                ours = copy_course(course, f"course-tandem-{n}")
                tandems.append(run_tool("tandem", tandem_command(ours, cli), ours))
                if n < rounds:
                    theirs = copy_course(course, f"course-nbgrader-{n}")
                    nbgraders.append(run_tool("nbgrader", nbgrader_command(theirs), theirs))
                off = copy_course(course, f"course-tandem-off-{n}")
                command = tandem_command(off, cli, "off")
                unsandboxed.append(run_tool("no-sandbox", command, off))
        tandem, nbgrader, bare = (
            median_of(runs, lambda r: r.seconds) for runs in (tandems, nbgraders, unsandboxed)
        )
        costs.append(tandem.seconds / bare.seconds)
        diff = [line for run in tandems for line in differences(run.scores, nbgrader.scores)]
        diff += [line for run in nbgraders for line in differences(run.scores, nbgrader.scores)]
        diff += [line for run in unsandboxed for line in differences(run.scores, nbgrader.scores)]
        runs = tandems + nbgraders + unsandboxed
        complete = all(len(run.scores) == size for run in runs)
        same = not diff and complete
        identical = identical and same
        per_submission.append(tandem.seconds / size)
        speedups.append(nbgrader.seconds / tandem.seconds)
        print(f"-- N = {size} submissions (course built in {built:.0f} s)")
        for run, every in ((nbgrader, nbgraders), (tandem, tandems), (bare, unsandboxed)):
            print(
                f"  {run.tool:<9} {run.seconds:7.1f} s   per submission {run.seconds / size:5.2f} s"
                f"   exit {run.returncode}   graded {len(run.scores)}"
                + shown([r.seconds for r in every])
            )
            for failed in (r for r in every if r.returncode != 0):
                print("    " + "\n    ".join(failed.stderr.strip().splitlines()[-5:]))
        print(f"  ratio     nbgrader / tandem = {speedups[-1]:.2f}x")
        print(
            f"  sandbox   {sandbox_level(tandems[0])} vs off: {tandem.seconds:.1f} s vs "
            f"{bare.seconds:.1f} s ({(costs[-1] - 1) * 100:+.0f}%)"
        )
        print(f"  totals    {score_summary(course, tandem.scores)}")
        print("            (the maximum includes the written answer's manually graded points)")
        if same:
            cells = sum(len(s[2]) for s in tandem.scores.values())
            print(
                f"  identical scores: yes ({size} totals, {cells} grade-cell auto scores compared)"
            )
        else:
            print(f"  identical scores: NO ({len(diff)} students differ)")
            for line in diff[:10]:
                print(f"    {line}")
        print()

    first, last = per_submission[0], per_submission[-1]
    print(f"-- Tandem from N={sizes[0]} to N={sizes[-1]}")
    print(f"  per submission          {first:.2f} s -> {last:.2f} s ({last / first:.2f}x)")
    print()
    fast = min(speedups) >= TARGET_SPEEDUP
    flat = last <= FLAT_TOLERANCE * first
    measured = ", ".join(f"{s:.1f}x at N={n}" for s, n in zip(speedups, sizes, strict=True))
    print(
        f"targets: grading >= {TARGET_SPEEDUP:g}x faster than nbgrader autograde [{measured}] "
        f"{verdict(fast)}; identical scores {verdict(identical)}; per-submission time flat "
        f"N={sizes[0]}->{sizes[-1]} (<= {FLAT_TOLERANCE:g}x) {verdict(flat)}"
    )
    cheap = max(costs) <= SANDBOX_COST
    print(
        f"sandbox: cost of the grading sandbox <= {(SANDBOX_COST - 1) * 100:.0f}% "
        f"[{', '.join(f'{(c - 1) * 100:+.0f}%' for c in costs)}] {verdict(cheap)}"
    )
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
