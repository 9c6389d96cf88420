"""``tandem grades``: grades by hand from a rubric sheet, without the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tandem.cli.options import SessionId, WorkspaceDir, console

grades_app = typer.Typer(
    no_args_is_help=True,
    help="Grades by hand from a rubric sheet (CSV) instead of formgrader: write the sheet "
    "of a session, fill in points and comments, import it.",
)


@grades_app.command("template")
def template_command(
    directory: WorkspaceDir,
    session: SessionId,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the sheet. Default: grades-SESSION.csv."),
    ] = None,
) -> None:
    """Write SESSION's rubric sheet: a row per learner's written answer to grade by hand."""
    from tandem.grading.manual import write_template

    path = write_template(directory, session, out or Path(f"grades-{session}.csv"))
    console.print(f"Rubric sheet: {path}", markup=False, highlight=False)


@grades_app.command("import")
def import_command(
    directory: WorkspaceDir,
    sheet: Annotated[
        Path, typer.Argument(help="CSV: participant, module, grade_id, points, comment.")
    ],
) -> None:
    """Record the grades by hand of a rubric sheet in the gradebook: every row, or none."""
    from tandem.grading.manual import import_grades

    result = import_grades(directory, sheet)
    console.print(
        f"Recorded {result.grades} grades and {result.comments} comments "
        f"({result.unchanged} rows left empty)",
        markup=False,
        highlight=False,
    )
