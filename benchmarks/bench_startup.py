"""Start-up: how long ``tandem --help`` takes, against the commands users would otherwise run.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--runs 7]``.

Each command runs ``--runs`` times as a new process, in turn (so that a burst of load
hits all alike), after one untimed run each (file cache); the median counts. Tandem imports
its heavy machinery (papermill, nbclient, nbgrader, pandas) only when a command needs it,
so its help costs about what the interpreter and its command-line library cost;
``papermill --help`` and ``nbgrader --help`` show what importing that machinery costs.
Target (issue #4): ``tandem --help`` under 0.5 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.5
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "tandem --help": [str(BIN / "tandem"), "--help"],
    "tandem batch --help": [str(BIN / "tandem"), "batch", "--help"],
    "papermill --help": [str(BIN / "papermill"), "--help"],
    "nbgrader --help": [str(BIN / "nbgrader"), "--help"],
}


#: The commands users would otherwise run, compared with ``tandem --help``.
BASELINES = ("papermill --help", "nbgrader --help")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    print("=" * 78)
    print("Tandem benchmark: start-up (a new process per run)")
    print("=" * 78)
    print(
        f"machine   {platform.node()}: {cores} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
    print(f"runs      {args.runs} per command, in turn, after one untimed run; median counts")
    print()
    for command in COMMANDS.values():
        timed(command)
    seconds: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            seconds[name].append(timed(command))
    median = {name: statistics.median(values) for name, values in seconds.items()}
    ours = median["tandem --help"]
    for name, values in seconds.items():
        ratio = f"   {median[name] / ours:5.1f}x tandem --help" if name in BASELINES else ""
        print(
            f"  {name:<22} median {median[name]:5.2f} s   (min {min(values):.2f}, "
            f"max {max(values):.2f}){ratio}"
        )
    print()
    ok = ours < TARGET_SECONDS
    print(
        f"targets: tandem --help under {TARGET_SECONDS:g} s [{ours:.2f} s] "
        f"{'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
