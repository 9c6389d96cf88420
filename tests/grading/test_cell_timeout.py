"""`tandem grade --cell-timeout`: the README lists it among grade's run options; given, it
overrides the course's own ``Execute.timeout`` (nbgrader's, which applies otherwise)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from tandem.cohort.workspace import _fast_gradebook_creation
from tandem.grading.autograde import course_api

from ..conftest import FIXTURES
from ..factories import run_cli
from ..fixtures.faults import make_faults

pytestmark = pytest.mark.slow  # real nbgrader and real kernels

FAULTS = FIXTURES / "faults"


def test_grade_cell_timeout_overrides_the_courses_execute_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast_gradebook_creation()
    course = tmp_path / "course"
    shutil.copytree(FAULTS / "course", course)
    config = course / "nbgrader_config.json"
    settings = json.loads(config.read_text())
    settings["Execute"]["timeout"] = 600  # the course's own: far longer than this test
    config.write_text(json.dumps(settings))
    quiz = make_faults.ASSIGNMENT
    assert course_api(course).generate_assignment(quiz, force=True, create=True)["success"]
    folder = course / "submitted" / "infinite_loop" / quiz
    folder.mkdir(parents=True)
    shutil.copy(FAULTS / "infinite_loop.ipynb", folder / make_faults.NOTEBOOK)
    monkeypatch.setenv("COLUMNS", "1000")

    started = time.monotonic()
    argv = ["grade", "--course-dir", str(course), "--assignment", quiz, "--cell-timeout", "2"]
    code, out, err = run_cli(argv, capsys)

    assert time.monotonic() - started < 120, "the course's 600 s applied, not --cell-timeout"
    assert code == 0, err
    [row] = [line for line in out.splitlines() if "infinite_loop" in line]
    status, score = (cell.strip() for cell in re.split("[│|]", row)[2:4])
    assert (status, score) == ("graded", "2/6")  # the loop's test timed out: 0 of its 3 points
