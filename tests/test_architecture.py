"""The package's shape (docs/architecture.md): dependencies point one way, no import
cycles, modules of a readable size, and every module named in a string resolves."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit" / "tandem"

#: Rank of each part of the package, lowest first: a module may import its own part and
#: parts of a lower rank only. Parts of equal rank are siblings and import neither way.
#: Keep in step with the table in docs/architecture.md.
RANKS: dict[str, int] = {
    "tandem": 0,  # the package itself: __version__
    "errors": 0,
    "fsutil": 1,
    "htmlpage": 1,
    "ids": 1,
    "engine": 2,
    "notebook": 2,
    "curriculum": 3,
    "people": 4,
    "cohort": 5,
    "grading": 6,
    "hub": 6,  # the cohort's accounts on a shared JupyterHub
    "reports": 7,
    "privacy": 8,
    "demo": 8,
    "demo_behaviour": 7,  # the demo's ideas and follow-up answers, imported by demo
    "cli": 9,
    # stable names kept for users (README, released notebooks); nothing inside imports them
    "batch": 10,
    "widgets": 10,
    "questions": 10,
}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part(module: str) -> str:
    names = module.split(".")
    return names[1] if len(names) > 1 else "tandem"


def imports(path: Path) -> set[str]:
    """Every Tandem module ``path`` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from tandem.engine import kernels`` imports the submodule
            subs = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [s for s in subs if s in MODULES] or [node.module]
        else:
            continue
        found.update(n for n in names if n == "tandem" or n.startswith("tandem."))
    return {n if n in MODULES else n.rsplit(".", 1)[0] for n in found}


GRAPH = {name: imports(path) - {name} for name, path in MODULES.items()}


def test_every_part_has_a_rank() -> None:
    assert {part(m) for m in MODULES} <= set(RANKS), {part(m) for m in MODULES} - set(RANKS)


def test_dependencies_point_one_way() -> None:
    upward = [
        f"{module} ({part(module)}, rank {RANKS[part(module)]}) imports {target} "
        f"({part(target)}, rank {RANKS[part(target)]})"
        for module, targets in GRAPH.items()
        for target in sorted(targets)
        if part(target) != part(module) and RANKS[part(target)] >= RANKS[part(module)]
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = 2

    for module in GRAPH:
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_check_finds_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """The graph reader sees imports inside functions (a check that saw none would pass)."""
    source = tmp_path / "m.py"
    source.write_text(
        "def f():\n    from tandem.cli.app import main\n    from tandem import fsutil\n"
    )
    assert imports(source) == {"tandem.cli.app", "tandem.fsutil"}
    assert "tandem.cohort.workspace" in GRAPH["tandem.cohort.exchange"]


def test_modules_are_of_a_readable_size() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


_DOTTED = re.compile(r"tandem(\.[A-Za-z_]+)+(:[A-Za-z_]+)?")


def _named_in_strings() -> set[str]:
    return {
        node.value
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _DOTTED.fullmatch(node.value)
    }


def _resolves(name: str) -> bool:
    """A module, ``module:attribute`` or ``module.attribute`` that exists."""
    module, _, attribute = name.partition(":")
    if not attribute:
        try:
            if importlib.util.find_spec(module) is not None:
                return True
        except ModuleNotFoundError:  # a parent is a module, not a package
            pass
        module, _, attribute = module.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attribute)
    except ImportError:
        return False


def test_module_names_written_as_strings_resolve() -> None:
    """The preload table, ``-m tandem.engine.forkserver``, the kernel manager and client
    classes handed to jupyter_client: a wrong name would fall back to a slower path."""
    names = _named_in_strings()
    for expected in (
        "tandem.engine.forkserver",
        "tandem.engine.poolmain",
        "tandem.engine.prewarm.notebooks",
        "tandem.engine.kernelclient.KernelManager",
    ):
        assert expected in names
    assert [n for n in sorted(names) if not _resolves(n)] == []
    assert not _resolves("tandem.engine.no_such_module")


@pytest.mark.parametrize("group", ["jupyter_client.kernel_provisioners", "console_scripts"])
def test_entry_points_load(group: str) -> None:
    points = [
        p for p in importlib.metadata.entry_points(group=group) if p.value.startswith("tandem")
    ]
    assert points, f"no Tandem entry point in {group}: reinstall with 'make venv'"
    for point in points:
        assert point.load() is not None, point
