"""Timing a real pair can keep: each lesson's *Timing* table adds up to the teaching
minutes that `program.yml` declares, and the facilitators' guide declares the same."""

from __future__ import annotations

import re

import nbformat
import pytest

from tandem.curriculum.manifest import Module, validate_program

from ..conftest import MANIFEST

PROGRAM = validate_program(MANIFEST)
GUIDE = (MANIFEST.parent / "README.md").read_text(encoding="utf-8")
_ROW = re.compile(r"^\|\s*(?P<part>[^|]+?)\s*\|\s*\**(?P<minutes>\d+)\**\s*\|\s*$")


def timing_rows(module: Module) -> list[tuple[str, int]]:
    """The (part, minutes) rows of the lesson's *Timing* table."""
    notebook = nbformat.read(PROGRAM.lesson_path(module), as_version=4)
    [cell] = [
        c
        for c in notebook.cells
        if c.cell_type == "markdown" and re.match(r"\s*## Timing\b", c.source)
    ]
    rows = [_ROW.match(line.strip()) for line in cell.source.splitlines()]
    return [(m["part"].strip("* "), int(m["minutes"])) for m in rows if m]


@pytest.mark.parametrize("module", PROGRAM.modules, ids=lambda m: m.id)
def test_each_timing_table_adds_up_to_the_declared_teaching_minutes(module: Module) -> None:
    rows = timing_rows(module)
    totals = [minutes for part, minutes in rows if part.lower() == "teaching total"]
    checkpoint = [minutes for part, minutes in rows if part.lower().startswith("checkpoint")]
    parts = [
        minutes
        for part, minutes in rows
        if part.lower() != "teaching total" and not part.lower().startswith("checkpoint")
    ]
    assert totals == [module.minutes.teaching], f"{module.id}: the 'Teaching total' row"
    assert sum(parts) == module.minutes.teaching, f"{module.id}: the parts add up to {sum(parts)}"
    assert checkpoint == [module.minutes.exercise], f"{module.id}: the checkpoint row"


def test_the_guide_lists_each_modules_minutes_as_the_manifest_does() -> None:
    for session in PROGRAM.sessions:
        [row] = [line for line in GUIDE.splitlines() if line.startswith(f"| `{session.id}`")]
        declared = row.rstrip(" |").rsplit("|", 1)[1].strip()
        tech, management = sorted(session.modules, key=lambda m: m.track != "tech")
        assert declared == (
            f"{tech.minutes.teaching} + {tech.minutes.exercise} / "
            f"{management.minutes.teaching} + {management.minutes.exercise}"
        ), session.id


def test_the_guide_declares_meetings_every_lesson_fits_and_the_programme_totals() -> None:
    meeting = re.search(r"one meeting of \*\*(\d+) minutes\*\* per module", GUIDE)
    assert meeting, "the guide declares the meeting length"
    assert all(m.minutes.teaching <= int(meeting[1]) for m in PROGRAM.modules)
    together = sum(m.minutes.teaching for m in PROGRAM.modules)
    assert f"{len(PROGRAM.modules)} meetings, **{together} minutes** together" in GUIDE
    for role in ("junior", "senior"):
        alone = sum(m.minutes.exercise for m in PROGRAM.modules if m.learner == role)
        assert f"**{alone} minutes** alone on checkpoints" in GUIDE, role
