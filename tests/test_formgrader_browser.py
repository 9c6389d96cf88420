"""Manual grading in nbgrader's formgrader, driven in Chromium inside a real JupyterLab
opened on a cohort workspace; the grade reaches the report's data.

nbgrader's server extensions read `nbgrader_config.json` from the server's working
directory and take that directory as the course root, so the server is started *in* the
workspace (as `cd WORKSPACE && jupyter lab` does).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tandem.cohort import Workspace, init_cohort, release_session
from tandem.demo import submission
from tandem.grading import grade_session, read_score
from tandem.report import build_report_data

from .conftest import ROSTER_2_PAIRS
from .jupyterlab import Lab, start_lab

pytestmark = pytest.mark.browser
MODULE = "tiny-tech"
LEARNER = "s1"  # the senior learns the tech module
SLOW = 60_000  # ms: server and page starts on a 2-core machine


@pytest.fixture
def graded(tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]) -> Workspace:
    """A tiny cohort in which s1's full checkpoint is autograded; its written answer
    (`explain`, 1 point) waits for a manual grade."""
    init_cohort(tmp_path / "cohort", write_roster(ROSTER_2_PAIRS), curriculum=tiny_programme)
    ws = Workspace(tmp_path / "cohort")
    release_session(ws.root, "s1")
    release = ws.folder("release") / MODULE
    target = ws.submission_dir(LEARNER, MODULE)
    shutil.copytree(release, target)
    for source in (ws.folder("source") / MODULE).glob("*.ipynb"):
        student = nbformat.read(release / source.name, as_version=4)
        filled = submission(nbformat.read(source, as_version=4), student, "full")
        nbformat.write(filled, target / source.name)
    grade_session(ws.root, "s1")
    score = read_score(ws, ws.load(), MODULE, LEARNER)
    assert score is not None and score.manual_pending and score.manual_score is None
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
    row = formgrader.locator("tr", has_text="Submission #1")
    expect(row.locator(".written-score")).to_have_text("0 / 1", timeout=SLOW)
    expect(row.locator(".needs-manual-grade .glyphicon-ok")).to_have_count(1)

    row.get_by_role("link", name="Submission #1").click()
    score = formgrader.locator("input.score#explain")
    expect(score).to_be_visible(timeout=SLOW)
    with page.expect_response(
        lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"
    ) as saved:
        score.fill("1")
        score.press("Tab")  # the formgrader saves a score when its input changes
    assert saved.value.ok

    # Back in the list of submissions, the formgrader shows the grade as stored.
    formgrader.get_by_role("link", name="checkpoint", exact=True).click()
    row = formgrader.locator("tr", has_text="Submission #1")
    expect(row.locator(".written-score")).to_have_text("1 / 1", timeout=SLOW)
    expect(row.locator(".score")).to_have_text("3 / 3")
    expect(row.locator(".needs-manual-grade .glyphicon-ok")).to_have_count(0)

    # The next `tandem report` reads it from the gradebook.
    data = build_report_data(graded)
    pairs = json.loads(data.sites.pairs_file.read_text())["pairs"]
    [checkpoint] = [
        c
        for p in pairs
        for c in p["checkpoints"]
        if (c["module"], c["learner"]) == (MODULE, LEARNER)
    ]
    assert checkpoint["manual_score"] == 1
    assert checkpoint["manual_max"] == 1
    assert checkpoint["manual_pending"] is False
    assert checkpoint["auto_score"] == 2
    assert "not a subdirectory" not in lab.log.read_text()
