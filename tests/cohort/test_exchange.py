"""Collecting from the exchange: saved widget state is scrubbed even from a notebook too
damaged to read, and a damaged lesson notebook never costs the learner their grade."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tandem.cohort.exchange import WIDGET_STATE, WIDGET_VIEW, collect_session, fetch, submit
from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import grade_session

from .. import factories

pytestmark = pytest.mark.slow  # real nbgrader exchange and autograding

PRIVATE = "PRIVATE: I doubt my manager"


def _with_widget_state(notebook: Path, text: str) -> None:
    """What JupyterLab's 'Save Widget State Automatically' writes: the widget models with
    their values in the metadata, a widget view (and its plain-text form) in an output."""
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {"abc123": {"model_name": "TextareaModel", "state": {"value": text}}},
        }
    }
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={WIDGET_VIEW: {"model_id": "abc123"}, "text/plain": text},
        )
    ]
    nbformat.write(nb, notebook)


def _truncate_after(path: Path, text: str) -> None:
    """Cut the file a little after the last place ``text`` appears: no longer JSON."""
    content = path.read_bytes()
    end = content.rindex(text.encode()) + len(text) + 3
    path.write_bytes(content[:end])


def _files_containing(roots: list[Path], needle: str) -> list[Path]:
    return [
        p
        for root in roots
        for p in root.rglob("*")
        if p.is_file() and needle.encode() in p.read_bytes()
    ]


def test_a_truncated_lesson_notebook_with_widget_state_leaks_nowhere_and_the_checkpoint_is_graded(
    tmp_path: Path, cohort_at: Callable[..., Workspace]
) -> None:
    ws = cohort_at("released")
    home = tmp_path / "j1-home"
    folder = fetch(ws, home, "tiny-mgmt", "j1")  # j1 (junior) learns the management module
    lesson = folder / "tiny-mgmt.ipynb"
    _with_widget_state(lesson, PRIVATE)
    _truncate_after(lesson, PRIVATE)
    assert PRIVATE.encode() in lesson.read_bytes()
    submit(ws, home, "tiny-mgmt", "j1")

    report = collect_session(ws.root, "s1")
    results = {(r.module, r.participant): r for r in grade_session(ws.root, "s1")}

    exchange = Path(ws.nbgrader_config()["Exchange"]["root"])
    assert _files_containing([ws.root, exchange], PRIVATE) == []
    assert _files_containing([ws.root, exchange], "I doubt my manager") == []
    submitted = ws.submission_dir("j1", "tiny-mgmt")
    assert any(p.name == "tiny-mgmt.ipynb" for p in report.scrubbed)
    note = (submitted / "tiny-mgmt.ipynb.removed.txt").read_text(encoding="utf-8")
    assert "saved widget state" in note
    checkpoint = results["tiny-mgmt", "j1"]
    assert checkpoint.status == "graded", checkpoint.error
    assert checkpoint.score is not None and checkpoint.score.auto_max == 2
    assert not ws.folder("quarantine").exists()


def test_a_damaged_lesson_notebook_is_set_aside_alone_and_the_checkpoint_is_graded(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("released")
    folder = factories.submit(ws, "j1", "tiny-mgmt", "full")
    lesson = folder / "tiny-mgmt.ipynb"
    lesson.write_bytes(lesson.read_bytes()[:200])  # truncated, no widget state in it
    damaged = factories.submit(ws, "j2", "tiny-mgmt", "full") / "checkpoint.ipynb"
    damaged.write_bytes(damaged.read_bytes()[:200])  # a damaged checkpoint cannot be graded

    results = {(r.module, r.participant): r for r in grade_session(ws.root, "s1")}

    checkpoint = results["tiny-mgmt", "j1"]
    assert checkpoint.status == "graded", checkpoint.error
    assert checkpoint.score is not None and checkpoint.score.auto_score == 2
    assert checkpoint.note and "tiny-mgmt.ipynb: not valid JSON" in checkpoint.note
    assert (folder / "checkpoint.ipynb").is_file() and not lesson.exists()
    (aside,) = (ws.folder("quarantine") / "j1").iterdir()
    assert sorted(p.name for p in aside.iterdir()) == ["QUARANTINED.txt", "tiny-mgmt.ipynb"]
    assert "not valid JSON" in (aside / "QUARANTINED.txt").read_text(encoding="utf-8")
    assert results["tiny-mgmt", "j2"].status == "quarantined"
    assert "checkpoint.ipynb: not valid JSON" in (results["tiny-mgmt", "j2"].error or "")
