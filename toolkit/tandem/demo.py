"""The synthetic cohort behind `tandem demo` and `make demo`.

It builds a roster of realistic (fictional) people, creates a cohort, releases
session 1, writes submissions of differing quality, grades them and builds the
reports. Everything happens inside one folder marked as a demo.
"""

from __future__ import annotations

import copy
import csv
import io
import shutil
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tandem.cohort import Workspace, init_cohort, release_session
from tandem.curriculum import Competency, load_program
from tandem.errors import CohortError
from tandem.fsutil import atomic_write_text
from tandem.grading import CheckpointResult, grade_session
from tandem.report import ReportResult, build_reports

MARKER = ".tandem-demo"
QUALITIES = ("full", "partial", "blank", "deleted-cell", "full", "partial")

JUNIORS = [
    ("Amara Okafor", "Marketing"),
    ("Lucas Ferreira", "Operations"),
    ("Priya Raman", "Finance"),
    ("Tom Nguyen", "Customer Service"),
    ("Sofia Lindqvist", "Human Resources"),
    ("Kwame Mensah", "IT"),
    ("Chloe Martin", "Sales"),
    ("Yusuf Demir", "Logistics"),
    ("Hannah Brooks", "Legal"),
    ("Mateo Rossi", "Procurement"),
]
SENIORS = [
    ("Margaret Whitfield", "Operations"),
    ("Rajesh Iyer", "Finance"),
    ("Elisabeth Bauer", "Sales"),
    ("David O'Connell", "Logistics"),
    ("Grace Adeyemi", "Customer Service"),
    ("Hiroshi Tanaka", "IT"),
    ("Catherine Dubois", "Marketing"),
    ("Peter Novak", "Procurement"),
    ("Linda Svensson", "Human Resources"),
    ("Robert Campbell", "Legal"),
]


@dataclass(frozen=True)
class DemoResult:
    workspace: Path
    grades: list[CheckpointResult]
    reports: ReportResult


def synthetic_rating(participant_id: str, role: str, competency: Competency) -> int:
    """A varied but reproducible 1-5 self-rating: juniors rate themselves higher on
    tech, seniors on management, each person differently."""
    strong = (role == "junior") == (competency.track == "tech")
    spread = zlib.crc32(f"{participant_id}:{competency.id}".encode()) % 5 - 2
    return min(5, max(1, (4 if strong else 2) + spread))


def synthetic_roster(pairs: int, competencies: Sequence[Competency] = ()) -> str:
    """A roster CSV with ``pairs`` juniors and ``pairs`` seniors, each with a department
    and a ``rate_<id>`` self-rating for each of ``competencies``."""
    if pairs < 1:
        raise CohortError("a demo needs at least one pair")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    ratings = [f"rate_{c.id}" for c in competencies]
    writer.writerow(["id", "name", "email", "role", "department", *ratings])
    for role, people in (("junior", JUNIORS), ("senior", SENIORS)):
        for i in range(pairs):
            name, department = people[i % len(people)]
            if i >= len(people):
                name = f"{name} {i // len(people) + 1}"
            pid = f"{role[0]}{i + 1:02d}-" + name.split()[0].lower().replace("'", "")
            email = name.lower().replace(" ", ".").replace("'", "") + "@northwind.example"
            rated = [synthetic_rating(pid, role, c) for c in competencies]
            writer.writerow([pid, name, email, role, department, *rated])
    return out.getvalue()


def _solutions(notebook: Any) -> dict[str, Any]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def submission(source: Any, release: Any, quality: str) -> Any:
    """A learner's notebook: the released version with some or all answers filled in."""
    answers = _solutions(source)
    filled = copy.deepcopy(release)
    code_ids = [gid for gid, c in answers.items() if c.cell_type == "code"]
    keep: set[str] = set()
    if quality in ("full", "deleted-cell"):
        keep = set(answers)
    elif quality == "partial":
        keep = set(code_ids[: max(1, len(code_ids) // 2)])
    for cell in filled.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in keep:
            cell.source = answers[gid].source
    if quality == "deleted-cell":
        tests = [
            i
            for i, c in enumerate(filled.cells)
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
        ]
        del filled.cells[tests[0]]
    return filled


def _write_submission(
    ws: Workspace, participant: str, module: str, make: Callable[[Path], Any]
) -> None:
    import nbformat

    release = ws.folder("release") / module
    target = ws.submission_dir(participant, module)
    shutil.copytree(release, target, dirs_exist_ok=True)
    for notebook in sorted((ws.folder("source") / module).glob("*.ipynb")):
        nbformat.write(make(notebook), target / notebook.name)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    atomic_write_text(target / "timestamp.txt", stamp)


def write_submissions(ws: Workspace, session_id: str) -> None:
    """Both partners submit each module; the learners' answers vary in quality."""
    import nbformat

    cohort = ws.load()
    program = ws.program(cohort)
    for offset, module in enumerate(program.session(session_id).modules):
        for index, pair in enumerate(cohort.pairs):
            quality = QUALITIES[(index + offset * 3) % len(QUALITIES)]

            def learner_copy(nb: Path, quality: str = quality, module: str = module.id) -> Any:
                release = nbformat.read(ws.folder("release") / module / nb.name, as_version=4)
                return submission(nbformat.read(nb, as_version=4), release, quality)

            def lead_copy(nb: Path, module: str = module.id) -> Any:
                return nbformat.read(ws.folder("release") / module / nb.name, as_version=4)

            _write_submission(ws, pair.member(module.learner), module.id, learner_copy)
            _write_submission(ws, pair.member(module.lead), module.id, lead_copy)


def prepare_folder(out: Path) -> None:
    """Use ``out`` for a demo: empty, or a previous demo (which is replaced)."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise CohortError(
                "folder exists and is not a Tandem demo; choose another --out", path=out
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / MARKER, "Created by 'tandem demo'; safe to delete.\n")


def run_demo(
    out: Path | str = "demo-cohort",
    *,
    pairs: int = 6,
    curriculum: Path | str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoResult:
    """Build, release, submit, grade and report a synthetic cohort in ``out``."""
    out = Path(out).resolve()
    prepare_folder(out)
    roster = out / "roster.csv"
    program = load_program(curriculum)
    atomic_write_text(roster, synthetic_roster(pairs, program.competencies))
    progress(f"Matching {pairs} juniors with {pairs} seniors; creating the cohort in {out}")
    cohort = init_cohort(
        out,
        roster,
        match=True,
        same_department="avoid",
        name="Northwind demo cohort",
        curriculum=program.manifest,
    )
    ws = Workspace(out)
    session = ws.program(cohort).sessions[0].id
    progress(f"Releasing {session}")
    release_session(out, session)
    progress("Writing submissions (full, partial, blank, one with a deleted cell)")
    write_submissions(ws, session)
    progress("Autograding with nbgrader")
    grades = grade_session(out, session)
    progress("Building reports with papermill")
    reports = build_reports(out)
    return DemoResult(out, grades, reports)
