"""The reports in a real browser (Debian's Chromium driven by Playwright), fully offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route

from tandem.cohort.workspace import Workspace
from tandem.demo import DemoResult

pytestmark = pytest.mark.browser


def test_the_report_opens_offline_and_shows_every_pair(
    demo_cohort: DemoResult, page: Page, tmp_path: Path
) -> None:
    network: list[str] = []

    def cut_off(route: Route) -> None:  # the network is cut: only local files load
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            network.append(route.request.url)
            route.abort()

    page.context.route("**/*", cut_off)
    shots = Path(os.environ.get("TANDEM_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    index = demo_cohort.reports.index
    page.goto(index.as_uri())
    page.get_by_role("link", name="Facilitator's site").click()
    page.wait_for_load_state()
    links = page.locator("a[href^='pairs/']")
    assert links.count() == 3
    texts = links.all_inner_texts()
    assert [t.split(":")[0] for t in texts] == ["pair-01", "pair-02", "pair-03"]

    links.nth(1).click()
    page.wait_for_load_state()
    assert page.url.endswith("/pairs/pair-02.html")
    assert page.locator("h1").inner_text().endswith("pair-02")
    modules = len(Workspace(demo_cohort.workspace).program().modules)
    checkpoints = page.locator("table").first
    assert checkpoints.locator("tbody tr").count() == modules
    assert page.get_by_text("Feedback each lead received").count() == 1
    assert page.locator("img").count() >= 1
    assert page.locator("img").first.evaluate("img => img.naturalWidth") > 100
    page.screenshot(path=shots / "pair-02.png", full_page=True)

    page.go_back()
    page.get_by_role("link", name="Pairs to talk to, and why").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Check-ins needed"

    page.goto(index.as_uri())
    page.get_by_role("link", name="Programme report").click()
    page.wait_for_load_state()
    assert "programme report" in page.locator("h1").inner_text()
    assert page.get_by_text("juniors learning management").count() >= 1
    charts = page.locator("img")
    assert charts.count() >= 1  # with 3 pairs, growth is suppressed: no growth chart
    assert all(
        charts.nth(i).evaluate("img => img.naturalWidth") > 100 for i in range(charts.count())
    )
    page.screenshot(path=shots / "programme.png", full_page=True)
    assert network == []
