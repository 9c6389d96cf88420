"""``tandem ideas``: the improvement ideas participants recorded, and what became of them.

``tandem ideas DIR`` is short for ``tandem ideas list DIR``."""

from __future__ import annotations

import json
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from tandem.cli.options import WorkspaceDir, console, err

if TYPE_CHECKING:
    from tandem.cohort.ideas import IdeaRow


class _ListByDefault(TyperGroup):
    """``tandem ideas DIR ...`` runs ``tandem ideas list DIR ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click's Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["list", *args]
        result: list[str] = super().parse_args(ctx, args)
        return result


ideas_app = typer.Typer(
    cls=_ListByDefault,
    no_args_is_help=True,
    help="Improvement ideas the pairs recorded, and what became of them: list them "
    "('tandem ideas DIR'), record an outcome ('tandem ideas set').",
)


class IdeaStatus(str, Enum):
    trialled = "trialled"
    adopted = "adopted"
    declined = "declined"


def _table(rows: list[IdeaRow], width: int) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False, width=width)
    for name, kind in (
        ("id", "fixed"),
        ("title", "text"),
        ("theme", "text"),
        ("from", "fixed"),
        ("pair", "fixed"),
        ("module", "fixed"),
        ("status", "fixed"),
        ("note", "text"),
    ):
        if kind == "fixed":
            table.add_column(name, no_wrap=True, overflow="fold")
        else:
            table.add_column(name, overflow="fold", ratio=2 if name != "theme" else 1)
    for row in rows:
        table.add_row(
            *(
                Text(value)
                for value in (
                    row.idea.id,
                    row.idea.title,
                    row.idea.theme,
                    row.role,
                    row.pair_id,
                    row.module_id,
                    row.status,
                    row.note,
                )
            )
        )
    return table


@ideas_app.command("list")
def list_command(
    directory: WorkspaceDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every idea of the collected check-ins, with its pair, direction and status.

    Columns: id, title, theme, who it came from (junior or senior), pair, module, status
    (raised, trialled, adopted, declined) and note, laid out for the terminal's width
    ($COLUMNS). Short: 'tandem ideas DIR'."""
    from tandem.cli.statusview import terminal_width
    from tandem.cohort.ideas import IDEA_STATUSES, RAISED, read_ideas

    listed = read_ideas(directory)
    for problem in listed.problems:
        err.print(f"check-in skipped: {problem}", markup=False, highlight=False)
    if as_json:
        document: dict[str, Any] = {
            "ideas": [row.as_json() for row in listed.rows],
            "skipped": [str(p) for p in listed.problems],
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if not listed.rows:
        console.print(
            "No ideas in the collected check-ins yet (ideas arrive with 'tandem collect').",
            highlight=False,
        )
        return
    width = terminal_width()
    Console(width=width, markup=False, highlight=False).print(_table(listed.rows, width))
    counts = {s: sum(r.status == s for r in listed.rows) for s in (RAISED, *IDEA_STATUSES)}
    console.print(
        f"{len(listed.rows)} ideas: " + ", ".join(f"{n} {s}" for s, n in counts.items()),
        highlight=False,
    )


@ideas_app.command("set")
def set_command(
    directory: WorkspaceDir,
    idea_id: Annotated[
        str, typer.Argument(metavar="ID", help="The idea's id, as listed: idea-0a1b2c3d.")
    ],
    status: Annotated[
        IdeaStatus,
        typer.Option("--status", help="What became of it: trialled, adopted or declined."),
    ],
    note: Annotated[
        str | None,
        typer.Option("--note", help="What happened, in a line."),
    ] = None,
) -> None:
    """Record what became of an idea: trialled, adopted or declined.

    Setting it again replaces the record, says what it was, and keeps the one replaced
    in the history of the workspace's ideas.yml."""
    from tandem.cohort.ideas import set_status

    row = set_status(directory, idea_id, status.value, note)
    said = f"{row.idea.id} ({row.idea.title!r}, {row.pair_id or row.participant}): "
    if row.history:
        previous = row.history[-1]
        said += f"was {previous.status}, now {row.status}"
        if previous.note:
            said += f" (the note was: {previous.note})"
    else:
        said += f"was raised, now {row.status}"
    console.print(said, markup=False, highlight=False)
