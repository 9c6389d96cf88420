"""The "My programme" page in a real JupyterLab driven in Chromium: the launcher's card
opens it inside Lab, served by jupyter-server-proxy from the page process on its private socket."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Page, expect

from tandem.cohort.exchange import fetch
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort

from ..conftest import FIXTURES, ROSTER_2_PAIRS
from ..jupyterlab import start_lab

pytestmark = pytest.mark.browser
SLOW = 60_000  # ms


def _page_socket(lab_pid: int) -> Path:
    """The socket of the page process the Lab server started."""
    for child in psutil.Process(lab_pid).children(recursive=True):
        command = child.cmdline()
        if "tandem.hub.programme_page" in command:
            return Path(command[command.index("--socket") + 1])
    raise AssertionError("no page process under the Lab server")


def test_the_launcher_opens_my_programme_inside_lab(tmp_path: Path, page: Page) -> None:
    shutil.copytree(FIXTURES / "programme", tmp_path / "programme")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS, encoding="utf-8")
    init_cohort(
        tmp_path / "cohort", roster, curriculum=tmp_path / "programme/curriculum/program.yml"
    )
    ws = Workspace(tmp_path / "cohort")
    release_session(ws.root, "s1")
    home = tmp_path / "home"
    fetch(ws, home, "tiny-mgmt", "j1")
    env = {
        "TANDEM_PARTICIPANT": "j1",
        "TANDEM_HOME": str(tmp_path / "store"),
        "TANDEM_PROGRAMME_ROOT": str(home),
        "TANDEM_NBGRADER_CACHE": str(home / ".nbgrader-cache"),
    }
    lab = start_lab(home, tmp_path / "jupyter", env)
    try:
        page.goto(f"{lab.url}/lab?token={lab.token}")
        card = page.locator('.jp-LauncherCard[title="My programme"]')
        expect(card).to_be_visible(timeout=SLOW)
        card.click()
        frame = page.frame_locator(".jp-ServerProxy iframe")
        expect(frame.locator("strong.partner")).to_have_text("s1", timeout=SLOW)
        expect(frame.get_by_text("Tiny management")).to_be_visible()
        assert stat.S_IMODE(_page_socket(lab.process.pid).parent.stat().st_mode) == 0o700
    finally:
        lab.stop()
