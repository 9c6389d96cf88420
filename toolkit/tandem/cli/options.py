"""What the command-line modules share: the consoles and the common arguments."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperOption

if TYPE_CHECKING:
    from tandem.engine.batch import RunOptions

# Printed text is never read as rich markup: names, cohort names, paths and errors carry
# what people typed, and "[/x]" in them would vanish, restyle the output or raise. Styles
# go through rich.text.Text.
console = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


def _flag_type(option: TyperOption, ctx: Any) -> str | None:
    """No type beside a flag in help: Typer's help shows ``--explain <bool>``, as if the
    flag took a value, and ``--explain=true`` is then a usage error. A flag is given or
    not (``--explain``), as ``--help`` itself."""
    return None if option.is_flag else _typed(option, ctx)


_typed = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign,assignment]


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


class ExecutorName(str, Enum):
    local = "local"
    dask = "dask"


class KernelMode(str, Enum):
    fork = "fork"
    plain = "plain"


class SandboxMode(str, Enum):
    auto = "auto"
    strict = "strict"
    off = "off"


SandboxOpt = Annotated[
    SandboxMode,
    typer.Option(
        "--sandbox",
        help="Grading kernels' sandbox: auto (the strongest level here: root, landlock or "
        "basic), strict (refuse to grade below landlock) or off. See docs/security.md.",
    ),
]
ExecutorOpt = Annotated[
    ExecutorName,
    typer.Option(
        "--executor",
        help="Where jobs run: local (a pool on this machine) or dask (a Dask cluster).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786). Default: a LocalCluster here.",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Parallel jobs. Default: two per core."),
]
KernelsOpt = Annotated[
    KernelMode,
    typer.Option(
        "--kernels",
        help="fork: kernels forked from a warm template (fast); plain: a cold kernel per job.",
    ),
]
CellTimeoutOpt = Annotated[
    int | None,
    typer.Option(
        "--cell-timeout",
        min=1,
        help="Seconds one cell may run. Default: 600 (grade: nbgrader's Execute.timeout).",
    ),
]
NotebookTimeoutOpt = Annotated[
    float | None,
    typer.Option("--notebook-timeout", min=1, help="Seconds one notebook may run. Default: 1800."),
]


def run_options(
    executor: ExecutorName,
    scheduler: str | None,
    workers: int | None,
    kernels: KernelMode,
    cell_timeout: int | None = None,
    notebook_timeout: float | None = None,
    sandbox: SandboxMode = SandboxMode.auto,
) -> RunOptions:
    """The batch engine's options from the command line's."""
    from tandem.engine.batch import RunOptions

    return RunOptions(
        executor=executor.value,
        scheduler=scheduler,
        workers=workers,
        kernels=kernels.value,
        cell_timeout=cell_timeout,
        notebook_timeout=notebook_timeout or 1800.0,
        sandbox=sandbox.value,
    )
