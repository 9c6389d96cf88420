"""Grades by hand without the browser: a rubric sheet (CSV) written and read back.

For facilitators who grade written answers from a sheet rather than in formgrader.
:func:`write_template` writes, for a session, one row per learner's graded submission and
written answer: ``participant``, ``module``, ``notebook``, ``grade_id``, ``max_points``,
``points`` (the grade by hand so far, else empty) and ``comment``. :func:`import_grades`
reads such a sheet (columns ``participant``, ``module``, ``grade_id``, ``points`` and
``comment``; ``notebook`` only where a module has two notebooks with one grade id; other
columns are ignored) and records each row through nbgrader's gradebook as formgrader does:
``manual_score`` set and ``needs_manual_grade`` cleared, the comment as the grader's
comment. A row with neither points nor comment is left as it is.

Every row is checked before anything is written (unknown participant, module, submission
or grade id; points not a number, negative or over the cell's maximum; a comment for a
cell that takes none; the same cell twice): the first problem is an error naming the row,
and then nothing is recorded.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tandem.cohort.workspace import Cohort, Workspace
from tandem.errors import GradingError
from tandem.fsutil import atomic_write_text
from tandem.grading.checkpoints import grading_unfinished, quiet_nbgrader

REQUIRED = ("participant", "module", "grade_id", "points", "comment")
TEMPLATE_COLUMNS = (
    "participant",
    "module",
    "notebook",
    "grade_id",
    "max_points",
    "points",
    "comment",
)


@dataclass(frozen=True)
class SheetRow:
    """One row of a rubric sheet, as read (``line``: its line in the file)."""

    line: int
    participant: str
    module: str
    notebook: str | None
    grade_id: str
    points: float | None
    comment: str | None


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_grades` recorded."""

    grades: int  # points recorded
    comments: int  # comments recorded
    unchanged: int  # rows with neither points nor comment


def read_sheet(path: Path) -> list[SheetRow]:
    """The rows of the rubric sheet at ``path`` (UTF-8, a header row; Excel's byte order
    mark allowed). Raises :class:`GradingError` naming the file and line of a bad row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GradingError("no such file", path=path) from None
    except UnicodeDecodeError as exc:
        raise GradingError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise GradingError(f"missing column(s): {', '.join(missing)}", path=path, where="line 1")
    reader.fieldnames = header
    rows = []
    for raw in reader:
        line = reader.line_num

        def cell(name: str, raw: dict[str, Any] = raw) -> str:
            value = raw.get(name)
            return value.strip() if isinstance(value, str) else ""

        rows.append(
            SheetRow(
                line,
                cell("participant"),
                cell("module"),
                cell("notebook") or None,
                cell("grade_id"),
                _points(cell("points"), path, line),
                raw.get("comment") or None,
            )
        )
    return rows


def _points(text: str, path: Path, line: int) -> float | None:
    if not text:
        return None
    try:
        points = float(text)
    except ValueError:
        where = f"line {line}"
        raise GradingError(f"points {text!r} is not a number", path=path, where=where) from None
    if not math.isfinite(points) or points < 0:
        raise GradingError(f"points {text!r} must be 0 or more", path=path, where=f"line {line}")
    return points


def import_grades(root: Path | str, sheet: Path) -> ImportResult:
    """Record the grades by hand of the rubric sheet ``sheet`` in the cohort at ``root``:
    all of them, or none if any row is wrong (see the module docstring)."""
    rows = read_sheet(sheet)
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        modules = {m.id for s in ws.program(cohort).sessions for m in s.modules}
        with quiet_nbgrader(), ws.gradebook(cohort) as gradebook:
            changes = [_find(ws, cohort, gradebook, modules, row, sheet) for row in rows]
            seen: dict[tuple[str, str, str, str], int] = {}
            for row, (grade, _) in zip(rows, changes, strict=True):
                cell = (row.participant, row.module, grade.notebook.notebook.name, grade.name)
                if cell in seen:
                    raise GradingError(
                        f"{row.grade_id} of {row.participant} on {row.module} is graded "
                        f"twice (line {seen[cell]} and here)",
                        path=sheet,
                        where=f"line {row.line}",
                    )
                seen[cell] = row.line
            for row, (grade, comment) in zip(rows, changes, strict=True):
                if row.points is not None:
                    grade.manual_score = row.points
                    grade.needs_manual_grade = False
                if row.comment is not None and comment is not None:
                    comment.manual_comment = row.comment
            gradebook.db.commit()
    return ImportResult(
        grades=sum(r.points is not None for r in rows),
        comments=sum(r.comment is not None for r in rows),
        unchanged=sum(r.points is None and r.comment is None for r in rows),
    )


def _find(
    ws: Workspace, cohort: Cohort, gradebook: Any, modules: set[str], row: SheetRow, sheet: Path
) -> tuple[Any, Any]:
    """The gradebook's Grade (and Comment, if the cell takes one) that ``row`` sets."""
    from nbgrader.api import MissingEntry

    def refuse(message: str) -> GradingError:
        return GradingError(message, path=sheet, where=f"line {row.line}")

    if row.participant not in {p.id for p in cohort.participants}:
        raise refuse(f"unknown participant {row.participant!r}")
    if row.module not in modules:
        raise refuse(f"unknown module {row.module!r}")
    try:
        submission = gradebook.find_submission(row.module, row.participant)
    except MissingEntry:
        raise refuse(
            f"{row.participant} has no graded submission of {row.module} (run 'tandem grade')"
        ) from None
    if grading_unfinished(ws, row.module, row.participant) is not None:
        raise refuse(f"the grading of {row.participant} on {row.module} has not finished")
    found = [
        (notebook, grade)
        for notebook in submission.notebooks
        for grade in notebook.grades
        if grade.name == row.grade_id and row.notebook in (None, notebook.notebook.name)
    ]
    if not found:
        known = sorted({g.name for nb in submission.notebooks for g in nb.grades})
        raise refuse(
            f"unknown grade id {row.grade_id!r} in {row.module} (known: {', '.join(known)})"
        )
    if len(found) > 1:
        raise refuse(f"grade id {row.grade_id!r} is in several notebooks: give a 'notebook'")
    notebook, grade = found[0]
    if row.points is not None and row.points > grade.max_score:
        raise refuse(
            f"points {row.points:g} over the maximum {grade.max_score:g} of {row.grade_id}"
        )
    comment = next((c for c in notebook.comments if c.name == row.grade_id), None)
    if row.comment is not None and comment is None:
        raise refuse(f"{row.grade_id} is not an answer cell: it takes no comment")
    return grade, comment


def template_rows(root: Path | str, session_id: str) -> list[dict[str, Any]]:
    """The rubric sheet's rows for a session: each learner's graded submission's written
    answers (cells graded by hand, not code), with the points and comment so far."""
    ws = Workspace(root)
    cohort = ws.load()
    session = ws.program(cohort).session(session_id)
    if session_id not in cohort.released:
        raise GradingError(f"{session_id} has not been released; run 'tandem release' first")
    from nbgrader.api import MissingEntry

    rows = []
    with quiet_nbgrader(), ws.gradebook(cohort) as gradebook:
        for module in session.modules:
            for _, learner in cohort.learners(module):
                if grading_unfinished(ws, module.id, learner) is not None:
                    continue
                try:
                    submission = gradebook.find_submission(module.id, learner)
                except MissingEntry:
                    continue
                for notebook in submission.notebooks:
                    comments = {c.name: c.manual_comment for c in notebook.comments}
                    for grade in notebook.grades:
                        if grade.cell_type == "code":
                            continue
                        graded = grade.manual_score is not None and not grade.needs_manual_grade
                        rows.append(
                            {
                                "participant": learner,
                                "module": module.id,
                                "notebook": notebook.notebook.name,
                                "grade_id": grade.name,
                                "max_points": f"{grade.max_score:g}",
                                "points": f"{grade.manual_score:g}" if graded else "",
                                "comment": comments.get(grade.name) or "",
                            }
                        )
    return rows


def write_template(root: Path | str, session_id: str, out: Path) -> Path:
    """Write the rubric sheet of a session to ``out`` (CSV, owner-only: it holds grades)."""
    rows = template_rows(root, session_id)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=TEMPLATE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out, buffer.getvalue(), private=True)
    return out
