"""Time `tandem.people.matching.match` on 1,000 juniors and 1,000 seniors (target: under 5 s).

Run: ``.venv/bin/python benchmarks/bench_matching.py``. The roster is synthetic and
reproducible (fixed seed): ratings for every competency of `curriculum/program.yml`,
twelve departments, a manager for half of the juniors, a few `avoid` ids. A second
run gives a quarter of the seniors a capacity of 2.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

from tandem.curriculum.manifest import load_program
from tandem.people.matching import match
from tandem.people.roster import load_roster

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "curriculum" / "program.yml"
TARGET_SECONDS = 5.0
PEOPLE = 1_000
DEPARTMENTS = [f"Department {n}" for n in range(12)]


def write_roster(path: Path, competencies: list[str], *, with_capacity: bool) -> None:
    rng = random.Random(20270301)
    juniors = [f"j{n:04d}" for n in range(PEOPLE)]
    seniors = [f"s{n:04d}" for n in range(PEOPLE)]
    header = ["id", "name", "email", "role", "department", "manager_id", "avoid", "capacity"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header + [f"rate_{c}" for c in competencies])
        for role, ids in (("junior", juniors), ("senior", seniors)):
            for pid in ids:
                manager = rng.choice(seniors) if role == "junior" and rng.random() < 0.5 else ""
                avoid = rng.choice(seniors if role == "junior" else juniors)
                capacity = "2" if with_capacity and role == "senior" and rng.random() < 0.25 else ""
                ratings = [str(rng.randint(1, 5)) for _ in competencies]
                writer.writerow(
                    [
                        pid,
                        f"Person {pid}",
                        f"{pid}@example.org",
                        role,
                        rng.choice(DEPARTMENTS),
                        manager,
                        avoid if rng.random() < 0.1 else "",
                        capacity,
                        *ratings,
                    ]
                )


def run(label: str, *, with_capacity: bool) -> float:
    program = load_program(MANIFEST)
    competencies = [c.id for c in program.competencies]
    with tempfile.TemporaryDirectory() as tmp:
        roster = Path(tmp) / "roster.csv"
        write_roster(roster, competencies, with_capacity=with_capacity)
        started = time.perf_counter()
        people = load_roster(roster)
        loaded = time.perf_counter()
        result = match(people, program, same_department="avoid", source=roster)
        done = time.perf_counter()
    seconds = done - started
    print(
        f"{label}: {len(result.pairs)} pairs, {len(result.unmatched)} unmatched, "
        f"{result.senior_places} senior places, {len(competencies)} competencies, "
        f"total score {result.total_score}, {result.same_department_pairs} same-department pairs"
    )
    verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
    print(
        f"  {seconds:.2f} s (read roster {loaded - started:.2f} s, match {done - loaded:.2f} s): "
        f"{verdict} the {TARGET_SECONDS:g} s target"
    )
    return seconds


def main() -> int:
    print(f"Matching {PEOPLE:,} juniors with {PEOPLE:,} seniors (--same-department avoid)")
    started = time.perf_counter()
    import scipy.optimize  # noqa: F401  (matching imports it on first use)

    print(f"importing scipy.optimize (once per process): {time.perf_counter() - started:.2f} s")
    run("capacity 1", with_capacity=False)
    run("a quarter of seniors with capacity 2", with_capacity=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
