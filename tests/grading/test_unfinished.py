"""A grade is final only when its grading run finished: export, status and feedback show a
submission whose grading was interrupted (or is still running) as not graded, never as 0,
and say so."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import psutil  # type: ignore[import-untyped]
import pytest

from tandem.cohort.workspace import Workspace
from tandem.grading.autograde import _Student
from tandem.grading.checkpoints import quiet_nbgrader, read_score
from tandem.reports.data import checkpoint_status

from ..factories import run_cli, submit


def _has_gradebook_rows(ws: Workspace, module: str, participant: str) -> bool:
    """Whether nbgrader has written the submission's rows (it does so before running it)."""
    import sqlite3

    database = ws.root / "gradebook.db"
    if not database.is_file():
        return False
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        rows = connection.execute(
            "SELECT count(*) FROM submitted_assignment s JOIN assignment a "
            "ON s.assignment_id = a.id WHERE a.name = ? AND s.student_id = ?",
            (module, participant),
        ).fetchone()
    return bool(rows[0])


def _sleeping_submission(ws: Workspace, participant: str) -> None:
    """A correct answer whose cell first sleeps for minutes: grading stays mid-run."""
    path = ws.submission_dir(participant, "tiny-tech") / "checkpoint.ipynb"
    notebook = nbformat.read(path, as_version=4)
    _answer(notebook).source = "import time\ntime.sleep(300)\n" + _answer(notebook).source
    nbformat.write(notebook, path)


def _answer(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell: nbformat.NotebookNode
    [cell] = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer"
    ]
    return cell


def _exported(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, dict[str, Any]], str]:
    code, _, err = run_cli(
        ["export", str(ws.root), "--format", "json", "--out", str(ws.root / "out")], capsys
    )
    assert code == 0, err
    rows = json.loads((ws.root / "out" / "scores.json").read_text(encoding="utf-8"))
    return {r["learner"]: r for r in rows if r["module"] == "tiny-tech"}, err


def _status(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run_cli(["status", str(ws.root), "--json"], capsys)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def test_rows_written_before_execution_are_not_a_score(
    tiny_cohort: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """nbgrader writes a submission's rows (every test at no score) before its notebooks
    run; read meanwhile, they must not be a grade of 0."""
    ws = tiny_cohort
    submit(ws, "s1", "tiny-tech", "full")
    with quiet_nbgrader():
        _Student(ws.nbgrader_api(), "tiny-tech", "s1").prepare()  # phase 1 only, as a run starts
    assert _has_gradebook_rows(ws, "tiny-tech", "s1")
    assert read_score(ws, ws.load(), "tiny-tech", "s1") is None
    cohort = ws.load()
    [module] = [m for m in ws.program(cohort).session("s1").modules if m.id == "tiny-tech"]
    report = checkpoint_status(ws, cohort, module, "s1")  # what `tandem report` shows
    assert (report["status"], report["auto_score"]) == ("submitted", None)

    rows, err = _exported(ws, capsys)
    assert rows["s1"]["status"] == "submitted"
    assert rows["s1"]["auto_score"] is None
    assert "1 submission is still being graded; shown as not graded: s1 on tiny-tech" in err

    status = _status(ws, capsys)
    [row] = [r for r in status["rows"] if r["learner"] == "s1" and r["module"] == "tiny-tech"]
    assert (row["grading"], row["autograded"], row["feedback"]) == ("not graded", "-", "-")
    assert status["grading_unfinished"] == [
        "1 submission is still being graded; shown as not graded: s1 on tiny-tech"
    ]
    code, out, err = run_cli(["status", str(ws.root)], capsys)
    assert code == 0, err
    assert "1 submission is still being graded; shown as not graded" in out

    code, out, err = run_cli(["feedback", str(ws.root), "s1", "--force"], capsys)
    assert code == 0, err
    assert "not graded yet: s1 on tiny-tech" in out
    assert "released feedback: s1" not in out
    assert not (ws.folder("feedback") / "s1").exists()


def test_a_killed_grade_run_leaves_no_zeros_and_a_new_run_makes_them_final(
    tiny_cohort: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kill -9`` of a real ``tandem grade`` while a submission runs: export, status and
    feedback --force show it as not graded (interrupted), then grading again finishes it."""
    ws = tiny_cohort
    submit(ws, "s1", "tiny-tech", "full")
    _sleeping_submission(ws, "s1")
    tandem = Path(sys.executable).with_name("tandem")
    run = subprocess.Popen(
        [str(tandem), "grade", str(ws.root), "s1", "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _has_gradebook_rows(ws, "tiny-tech", "s1"):
            assert run.poll() is None, "tandem grade ended before it was killed"
            assert time.monotonic() < deadline, "nbgrader never wrote the submission's rows"
            time.sleep(0.2)
        time.sleep(2)  # the notebook is now in its kernel, sleeping
        assert run.poll() is None
    finally:
        family = [run.pid, *(p.pid for p in psutil.Process(run.pid).children(recursive=True))]
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.wait(timeout=30)

    rows, err = _exported(ws, capsys)
    assert (rows["s1"]["status"], rows["s1"]["auto_score"]) == ("submitted", None)
    assert "1 submission's grading was interrupted; shown as not graded" in err
    assert "run 'tandem grade' again" in err

    status = _status(ws, capsys)
    [row] = [r for r in status["rows"] if r["learner"] == "s1" and r["module"] == "tiny-tech"]
    assert (row["grading"], row["autograded"]) == ("not graded", "-")

    code, out, err = run_cli(["feedback", str(ws.root), "s1", "--force"], capsys)
    assert code == 0, err
    assert "not graded yet: s1 on tiny-tech" in out
    assert "grading was interrupted" in out
    assert not (ws.folder("feedback") / "s1").exists()

    submit_again = ws.submission_dir("s1", "tiny-tech")
    nbformat.write(
        nbformat.read(ws.folder("source") / "tiny-tech" / "checkpoint.ipynb", as_version=4),
        submit_again / "checkpoint.ipynb",
    )
    code, out, err = run_cli(["grade", str(ws.root), "s1", "--workers", "1"], capsys)
    assert code == 0, err + out
    rows, err = _exported(ws, capsys)
    assert (rows["s1"]["status"], rows["s1"]["auto_score"]) == ("graded", 2)
    assert "graded" not in err


def test_a_submission_whose_grading_failed_is_not_graded(
    tiny_cohort: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """nbgrader keeps a failed submission's rows; Tandem shows it as not graded, and why."""
    ws = tiny_cohort
    submit(ws, "s1", "tiny-tech", "full")
    path = ws.submission_dir("s1", "tiny-tech") / "checkpoint.ipynb"
    notebook = nbformat.read(path, as_version=4)
    _answer(notebook).source = "import os\nos._exit(3)\n"  # the kernel dies, twice
    nbformat.write(notebook, path)
    code, out, _ = run_cli(["grade", str(ws.root), "s1", "--workers", "1"], capsys)
    assert code == 1 and "failed" in out  # a failed job makes the exit code 1
    assert _has_gradebook_rows(ws, "tiny-tech", "s1")
    rows, err = _exported(ws, capsys)
    assert (rows["s1"]["status"], rows["s1"]["auto_score"]) == ("submitted", None)
    assert "1 submission failed grading; shown as not graded: s1 on tiny-tech" in err
