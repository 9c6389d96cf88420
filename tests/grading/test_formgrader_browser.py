"""Manual grading in nbgrader's formgrader, driven in Chromium inside a real JupyterLab
opened on a copy of the demo cohort's workspace; the grade reaches the next report.

nbgrader's server extensions read `nbgrader_config.json` from the server's working
directory and take that directory as the course root, so the server is started *in* the
workspace (as `cd WORKSPACE && jupyter lab` does).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import FrameLocator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tandem.cohort.workspace import Workspace
from tandem.demo import DemoResult
from tandem.grading.checkpoints import read_score
from tandem.reports.build import build_reports

from ..jupyterlab import Lab, start_lab

pytestmark = pytest.mark.browser
MODULE = "t1-social-media"
SLOW = 60_000  # ms: server and page starts on a 2-core machine


def _written_answer_id(ws: Workspace) -> str:
    source = nbformat.read(ws.folder("source") / MODULE / "checkpoint.ipynb", as_version=4)
    [grade_id] = [
        c.metadata["nbgrader"]["grade_id"]
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"
    ]
    return str(grade_id)


@pytest.fixture
def graded(demo_cohort: DemoResult, tmp_path: Path) -> Workspace:
    """A copy of the demo cohort's workspace (the shared demo stays untouched): its
    learners' written answers on the first tech module await a manual grade."""
    shutil.copytree(demo_cohort.workspace, tmp_path / "cohort")
    ws = Workspace(tmp_path / "cohort")
    cohort = ws.load()
    pending = [
        learner
        for _, learner in cohort.learners(ws.program(cohort).module(MODULE))
        if (score := read_score(ws, cohort, MODULE, learner)) and score.manual_pending
    ]
    assert pending
    return ws


@pytest.fixture
def lab(graded: Workspace, tmp_path: Path) -> Iterator[Lab]:
    """`jupyter lab` opened on the workspace: its root and its working directory."""
    server = start_lab(graded.root, tmp_path / "jupyter", {}, cwd=graded.root)
    yield server
    server.stop()


def _open_formgrader(page: Page, lab: Lab) -> FrameLocator:
    """Nbgrader > Formgrader in JupyterLab's menu bar; the formgrader opens in a tab."""
    page.goto(f"{lab.url}/lab?token={lab.token}")
    menu = page.locator(".lm-MenuBar-item", has_text="Nbgrader")
    expect(menu).to_be_visible(timeout=SLOW)
    menu.click()
    page.locator("#jp-mainmenu-nbgrader .lm-Menu-item", has_text="Formgrader").filter(
        has_not_text="local"
    ).click()
    return page.frame_locator("#formgrader-iframe iframe")


def test_a_manual_grade_entered_in_the_formgrader_reaches_the_report(
    graded: Workspace, lab: Lab, page: Page
) -> None:
    formgrader = _open_formgrader(page, lab)
    # Manage Assignments: the course's modules, and no "course id not set" warning, so
    # the workspace's nbgrader_config.json was read.
    expect(formgrader.get_by_role("link", name=MODULE, exact=True)).to_be_visible(timeout=SLOW)
    expect(formgrader.locator("#warning-course-id")).to_have_count(0)
    expect(formgrader.locator("#warning-exchange")).to_have_count(0)

    formgrader.get_by_role("link", name="Manual Grading").click()
    formgrader.get_by_role("link", name=MODULE, exact=True).click()
    formgrader.get_by_role("link", name="checkpoint", exact=True).click()
    needing = formgrader.locator("tr", has=formgrader.locator(".needs-manual-grade .glyphicon-ok"))
    expect(needing.first).to_be_visible(timeout=SLOW)
    label = needing.first.locator("a", has_text="Submission #").inner_text().strip()

    needing.first.get_by_role("link", name=label).click()
    written = _written_answer_id(graded)
    score = formgrader.locator(f"input.score#{written}")
    expect(score).to_be_visible(timeout=SLOW)
    saved = None
    for attempt in range(2):  # a second try if the page's scripts were not ready yet
        if attempt:
            score.fill("")
            score.press("Tab")  # so that typing the score again is a change
        try:
            with page.expect_response(
                lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                timeout=SLOW // 2,
            ) as response:
                score.fill("2")
                score.press("Tab")  # the formgrader saves a score when its input changes
            saved = response.value
            break
        except PlaywrightTimeoutError:
            continue
    assert saved is not None and saved.ok

    # Back in the list, the formgrader shows the grade as stored.
    formgrader.get_by_role("link", name="checkpoint", exact=True).click()
    row = formgrader.locator("tr", has=formgrader.locator("a", has_text=label))
    expect(row.locator(".written-score")).to_have_text("2 / 3", timeout=SLOW)
    expect(row.locator(".needs-manual-grade .glyphicon-ok")).to_have_count(0)

    # The next `tandem report` reads it from the gradebook.
    cohort = graded.load()
    with graded.gradebook(cohort) as gradebook:
        [learner] = [
            g.student.id
            for g in gradebook.find_grade_cell(written, "checkpoint", MODULE).grades
            if g.manual_score == 2
        ]
    result = build_reports(graded.root)
    assert result.failed == []
    pairs = json.loads(
        (graded.folder("reports") / "facilitator" / "data" / "pairs.json").read_text()
    )["pairs"]
    [checkpoint] = [
        c
        for p in pairs
        for c in p["checkpoints"]
        if (c["module"], c["learner"]) == (MODULE, learner)
    ]
    assert (checkpoint["manual_score"], checkpoint["manual_max"]) == (2, 3)
    assert checkpoint["manual_pending"] is False
    assert "not a subdirectory" not in lab.log.read_text()
