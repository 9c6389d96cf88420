"""The project's own rules: stripped notebooks, one source of dependencies."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml

from .conftest import ROOT

NOTEBOOKS = sorted(
    [
        *ROOT.glob("curriculum/**/*.ipynb"),
        *ROOT.glob("exercises/**/*.ipynb"),
        *ROOT.glob("toolkit/tandem/**/templates/*.ipynb"),
    ]
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!\[ ;]", requirement.strip(), maxsplit=1)[0].lower()
    return {"matplotlib-base": "matplotlib", "distributed": "dask"}.get(name, name)


def test_environment_yml_mirrors_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    listed = {_name(d) for d in conda if isinstance(d, str)} - {"python", "pip"}
    assert listed == wanted
