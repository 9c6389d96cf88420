"""Question kinds in a real JupyterLab driven in Chromium: answered by clicking and typing,
restored after a reload, submitted through nbgrader's exchange and graded from the answers
file (widget state plays no part)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tandem.cohort.exchange import collect_session, fetch, submit
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.grading.checkpoints import grade_session
from tandem.notebook.questions import ANSWERS_FILE

from ..conftest import FIXTURES, ROSTER_2_PAIRS
from ..jupyterlab import Lab, run_all_until, start_lab

pytestmark = pytest.mark.browser
MODULE = "tiny-tech"
LEARNER = "s1"  # the senior learns the tech module
SLOW = 60_000  # ms: kernel starts and full runs on a 2-core machine
ORDER = ["Ask a question", "Collect the data", "Share the result"]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[Lab, Workspace, Path]]:
    """The learner's home with the question checkpoint fetched, served by JupyterLab."""
    programme = tmp_path / "programme"
    shutil.copytree(FIXTURES / "questions_programme", programme)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS)
    init_cohort(tmp_path / "cohort", roster, curriculum=programme / "curriculum" / "program.yml")
    ws = Workspace(tmp_path / "cohort")
    release_session(ws.root, "s1")
    home = tmp_path / "home"
    fetch(ws, home, MODULE, LEARNER)
    env = {"TANDEM_HOME": str(tmp_path / "store"), "TANDEM_PARTICIPANT": LEARNER}
    server = start_lab(home, tmp_path / "jupyter", env)
    yield server, ws, home
    server.stop()


def _open_and_run(page: Page, lab: Lab) -> None:
    page.goto(lab.page_url(f"{MODULE}/checkpoint.ipynb"))
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=SLOW)
    questions = page.locator(".tandem-question")
    run_all_until(page, lambda ms: expect(questions).to_have_count(5, timeout=ms))


def _answers(home: Path, until: dict[str, Any]) -> dict[str, Any]:
    """The answers file once it holds ``until`` (the kernel writes it as the learner acts)."""
    path = home / MODULE / ANSWERS_FILE
    deadline = time.monotonic() + 30
    answers: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if path.is_file():
            answers = json.loads(path.read_text())["answers"]
            if all(answers.get(k) == v for k, v in until.items()):
                return answers
        time.sleep(0.25)
    raise AssertionError(f"answers file holds {answers}, expected {until}")


def _hand_in_and_grade(ws: Workspace, home: Path) -> float:
    submit(ws, home, MODULE, LEARNER)  # nbgrader's exchange, as the Assignments tab does
    collect_session(ws.root, "s1")
    [result] = [
        r for r in grade_session(ws.root, "s1") if r.module == MODULE and r.participant == LEARNER
    ]
    assert result.status == "graded" and result.score is not None, result
    return result.score.auto_score


def test_answers_given_by_clicking_and_typing_are_restored_and_graded(
    lab: tuple[Lab, Workspace, Path], page: Page
) -> None:
    server, ws, home = lab
    _open_and_run(page, server)
    page.locator(".tandem-question-choice").get_by_text("Line chart", exact=True).click()
    page.locator(".tandem-question-number input").fill("90")
    menus = page.locator(".tandem-question-order select")
    for position, item in enumerate(ORDER):
        menus.nth(position).select_option(label=item)
    expected = {"q1": "Line chart", "q2": 90.0, "q3": ORDER}
    assert _answers(home, expected) == expected
    expect(page.locator(".tandem-question-choice .tandem-status")).to_contain_text("Saved")

    page.reload()
    _open_and_run(page, server)
    restored = page.locator(".tandem-question-choice").get_by_label("Line chart", exact=True)
    expect(restored).to_be_checked()
    expect(page.locator(".tandem-question-number input")).to_have_value("90")
    for position, item in enumerate(ORDER):
        expect(menus.nth(position).locator("option:checked")).to_have_text(item)

    # q1 (2 points) + q2 (3) + q3 (1); q4 and q5 were not answered.
    assert _hand_in_and_grade(ws, home) == 6.0

    page.locator(".tandem-question-choice").get_by_text("Pie chart", exact=True).click()
    _answers(home, {"q1": "Pie chart"})
    assert _hand_in_and_grade(ws, home) == 4.0  # the wrong choice loses exactly its 2 points
