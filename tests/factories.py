"""Factories shared by the tests: a submission of a given quality, as collect leaves it,
and the ``tandem`` command run in-process."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from tandem.cli.app import main
from tandem.cohort.workspace import Workspace
from tandem.demo import submission

#: Plausible wrong answers written by hand, per module of the shipped curriculum.
WRONG_ANSWERS = Path(__file__).resolve().parent / "fixtures" / "wrong_answers"


def wrong_answer(module: str) -> dict[str, Any]:
    """``tests/fixtures/wrong_answers/<module>.yml``: the answers and the points they lose."""
    data: dict[str, Any] = yaml.safe_load((WRONG_ANSWERS / f"{module}.yml").read_text("utf-8"))
    return data


def answered(source: Any, released: Any, module: str, quality: str) -> Any:
    """The released notebook answered to ``quality``: every answer ("full"), about half
    ("partial"), none ("blank"), every answer with a graded test cell deleted
    ("deleted-cell"), or every answer with the module's hand-written wrong ones ("wrong")."""
    if quality != "wrong":
        return submission(source, released, quality)
    fixture = wrong_answer(module)
    filled = submission(source, released, "full")
    replaced = set()
    for cell in filled.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in fixture["answers"]:
            cell.source = fixture["answers"][grade_id]
            replaced.add(grade_id)
    assert replaced == set(fixture["answers"]), f"{module}: unknown answer cells"
    return filled


def submit(
    ws: Workspace,
    participant: str,
    module: str,
    quality: str = "full",
    *,
    stamp: str | None = None,
    checkpoint_only: bool = False,
) -> Path:
    """Put ``participant``'s submission of ``module`` into ``submitted/`` as collect would:
    the released folder (or only its checkpoint notebooks) with answers of ``quality``,
    and nbgrader's ``timestamp.txt`` when ``stamp`` is given. Returns the folder."""
    release = ws.folder("release") / module
    target = ws.submission_dir(participant, module)
    if checkpoint_only:
        target.mkdir(parents=True)
    else:
        shutil.copytree(release, target)
    for source in sorted((ws.folder("source") / module).glob("*.ipynb")):
        released = nbformat.read(release / source.name, as_version=4)
        filled = answered(nbformat.read(source, as_version=4), released, module, quality)
        nbformat.write(filled, target / source.name)
    if stamp is not None:
        (target / "timestamp.txt").write_text(stamp)
    return target


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``tandem ARGV`` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err
