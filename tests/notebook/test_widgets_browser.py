"""Reflections in a real JupyterLab driven in Chromium: saved, private, restored, failures shown."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.notebook.store import Key, Store

from ..conftest import MANIFEST, ROSTER_2_PAIRS
from ..jupyterlab import Lab, run_all_until, start_lab

pytestmark = pytest.mark.browser
MODULE = "t1-social-media"
LEARNER = "s1"  # the senior learns the tech module
SLOW = 60_000  # ms: kernel starts and full runs on a 2-core machine


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Workspace]]:
    """A learner's home with session 1's tech module fetched, served by JupyterLab."""
    base = tmp_path_factory.mktemp("lab")
    roster = base / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS)
    init_cohort(base / "cohort", roster, curriculum=MANIFEST)
    ws = Workspace(base / "cohort")
    release_session(ws.root, "session-01")
    home = base / "home"
    shutil.copytree(ws.folder("release") / MODULE, home / MODULE)
    lab = start_lab(
        home, base / "jupyter", {"TANDEM_HOME": str(base / "store"), "TANDEM_PARTICIPANT": LEARNER}
    )
    yield lab, ws
    lab.stop()


def _wait_idle(page: Page) -> None:
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=SLOW
    )


def _run_all(page: Page) -> None:
    """Run every cell and wait until the last widget is shown and the kernel is idle."""
    feedback = page.locator(".tandem-feedback")
    run_all_until(page, lambda ms: expect(feedback).to_be_visible(timeout=ms))


def _open_and_run(page: Page, lab: Lab) -> None:
    page.goto(lab.page_url(f"{MODULE}/{MODULE}.ipynb"))
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=SLOW)
    _run_all(page)


def _store_key(ws: Workspace, prompt: str) -> Key:
    return Key(LEARNER, ws.load().course_id, MODULE, prompt)


def _kernel_id(lab: Lab) -> str:
    sessions: Any = lab.api("/api/sessions")
    [session] = [s for s in sessions if s["path"].endswith(f"{MODULE}.ipynb")]
    return str(session["kernel"]["id"])


TEXT = "Zoë's plan (qz-71):\nrewrite my headline — then ask 田中 for a recommendation."


def test_reflection_is_saved_exactly_and_restored_after_reload_and_restart(
    lab: tuple[Lab, Workspace], page: Page
) -> None:
    server, ws = lab
    _open_and_run(page, server)
    box = page.locator(".tandem-reflection").first
    expect(box.locator(".tandem-privacy")).to_contain_text("visible only to you")
    textarea = box.locator(".tandem-reflection-text textarea")
    textarea.fill(TEXT[:-1])
    textarea.press_sequentially(TEXT[-1])
    expect(box.locator(".tandem-status")).to_contain_text("Saved", timeout=SLOW)

    store = Store(Path(server.root).parent / "store")
    key = _store_key(ws, "t1-profile-change")
    latest = store.latest(key)
    assert latest is not None and latest.text == TEXT and latest.shared is False
    # Private by default: nothing of it in the assignment folder (the check-in or notebook).
    folder = server.root / MODULE
    checkin = json.loads((folder / "tandem_checkin.json").read_text())
    assert checkin["participant"] == LEARNER and "t1-profile-change" in checkin["answered"]
    assert checkin["shared_reflections"] == {}
    for path in folder.rglob("*"):
        if path.is_file():
            assert "Zoë's plan" not in path.read_text(errors="ignore"), path

    page.reload()
    _wait_idle(page)
    server.api(f"/api/kernels/{_kernel_id(server)}/restart", method="POST")
    # The status bar's text or the notebook's execution indicator: either shows idle
    # (on a loaded machine the status bar can lag behind the restarted kernel).
    idle = page.get_by_text("Python 3 (ipykernel) | Idle").or_(
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    )
    expect(idle.first).to_be_visible(timeout=SLOW)
    _run_all(page)
    restored = page.locator(".tandem-reflection").first
    expect(restored.locator(".tandem-reflection-text textarea")).to_have_value(TEXT, timeout=SLOW)
    expect(restored.locator(".tandem-status")).to_contain_text("Restored your answer")

    # Saving the notebook keeps the widgets' outputs in the file, but not the text.
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
    notebook = server.root / MODULE / f"{MODULE}.ipynb"
    deadline = time.monotonic() + 30
    while "<Tandem reflection>" not in notebook.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    saved = notebook.read_text()
    assert "<Tandem reflection>" in saved
    assert "qz-71" not in saved


def test_sharing_copies_the_text_into_the_check_in(lab: tuple[Lab, Workspace], page: Page) -> None:
    server, ws = lab
    _open_and_run(page, server)
    box = page.locator(".tandem-reflection").nth(1)
    box.locator(".tandem-reflection-text textarea").fill("Watch click-through on vacancies.")
    box.locator(".tandem-share input").check()
    expect(box.locator(".tandem-status")).to_contain_text("Saved", timeout=SLOW)
    checkin = json.loads((server.root / MODULE / "tandem_checkin.json").read_text())
    assert checkin["shared_reflections"] == {
        "t1-lead-next-time": "Watch click-through on vacancies."
    }
    assert Store(server.root.parent / "store").latest(_store_key(ws, "t1-lead-next-time")).shared  # type: ignore[union-attr]


def test_a_failed_save_is_visible_and_keeps_the_text(
    lab: tuple[Lab, Workspace], page: Page
) -> None:
    server, ws = lab
    _open_and_run(page, server)
    folder = Store(server.root.parent / "store").path(_store_key(ws, "x")).parent
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("a file where the store's folder should be")
    try:
        box = page.locator(".tandem-reflection").nth(1)  # the lesson's second reflection
        textarea = box.locator(".tandem-reflection-text textarea")
        textarea.fill("This must not vanish.")
        box.locator(".tandem-save").click()
        expect(box.locator(".tandem-status")).to_contain_text("NOT SAVED:", timeout=SLOW)
        expect(box.locator(".tandem-status")).to_contain_text(str(folder))
        expect(textarea).to_have_value("This must not vanish.")
    finally:
        folder.unlink()
