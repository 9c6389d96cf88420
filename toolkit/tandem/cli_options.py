"""What the command-line modules share: the consoles and the common arguments."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Track(str, Enum):
    tech = "tech"
    management = "management"


Curriculum = Annotated[
    Path | None,
    typer.Option(
        "--curriculum",
        help="The programme manifest (program.yml). Default: $TANDEM_CURRICULUM, "
        "else ./curriculum/program.yml.",
    ),
]
WorkspaceDir = Annotated[Path, typer.Argument(help="The cohort workspace folder.")]
SessionId = Annotated[str, typer.Argument(help="A session id from program.yml, e.g. session-01.")]


class DepartmentRule(str, Enum):
    allowed = "allowed"
    avoid = "avoid"
    forbid = "forbid"


SameDepartmentOption = Annotated[
    DepartmentRule,
    typer.Option(
        "--same-department",
        help="Pairs within one department: allowed; avoid (only when no other choice "
        "pairs as many people); forbid (never).",
    ),
]
Explain = Annotated[
    bool,
    typer.Option("--explain", help="Show each pair's score: what each partner teaches the other."),
]
ROSTER_HELP = (
    "Roster CSV: id, name, email, role[, department]; for matching also rate_<competency> "
    "(1-5), manager_id, avoid, capacity (see docs/matching.md)."
)
