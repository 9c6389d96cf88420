"""The pulse and partner-rating widgets in a real JupyterLab driven in Chromium.

One server serves both partners' copies of session 1's management module (the senior
leads it, the junior learns); each copy's notebook runs in a kernel of its own participant
(a kernelspec per participant sets ``TANDEM_PARTICIPANT`` and ``TANDEM_HOME``), as on a
shared hub where each person has their own kernel. Answers are saved, restored after a
reload, and one partner's pulse never reaches the other's notebook, check-in, files or
store."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect

from tandem.cohort.release import release_session
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.notebook.checkin import CHECKIN_FILE, CONTEXT_FILE
from tandem.notebook.pulse import PULSE_FILE, PULSE_ITEMS, read_pulse
from tandem.notebook.store import Key, Store

from ..conftest import MANIFEST, ROSTER_2_PAIRS
from ..jupyterlab import Lab, run_all_until, start_lab

pytestmark = pytest.mark.browser
MODULE = "m1-problem-solving"  # session 1's management module: the senior leads
LEAD, LEARNER = "s1", "j1"
NOTEBOOK = "outcomes.ipynb"
SLOW = 60_000  # ms: kernel starts and full runs on a 2-core machine
PULSE = {LEAD: [5, 4, 1], LEARNER: [2, 3, 4]}
RATING = [2, 3]  # the lead's ratings of the learner, one per competency


def _kernelspec(data: Path, participant: str, home: Path) -> None:
    folder = data / "kernels" / f"tandem-{participant}"
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Tandem {participant}",
        "language": "python",
        "env": {"TANDEM_PARTICIPANT": participant, "TANDEM_HOME": str(home)},
    }
    (folder / "kernel.json").write_text(json.dumps(spec))


def _lesson(folder: Path, participant: str, competencies: list[str]) -> None:
    cells = [
        "from tandem.widgets import partner_rating, safety_pulse",
        f"partner_rating({competencies!r}, 'before')",
        "safety_pulse('session-01')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {
        "name": f"tandem-{participant}",
        "display_name": f"Tandem {participant}",
        "language": "python",
    }
    nbformat.write(notebook, folder / NOTEBOOK)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, list[str], str]]:
    """Both partners' copies of the management module under one JupyterLab, each with a
    notebook of the new widgets run by that partner's own kernel."""
    base = tmp_path_factory.mktemp("lab")
    roster = base / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS)
    init_cohort(base / "cohort", roster, curriculum=MANIFEST)
    ws = Workspace(base / "cohort")
    release_session(ws.root, "session-01")
    released = ws.folder("release") / MODULE
    competencies = json.loads((released / CONTEXT_FILE).read_text())["competencies"]
    assert json.loads((released / CONTEXT_FILE).read_text())["participants"][LEAD]["leads"] == "yes"
    root = base / "home"
    for participant in (LEAD, LEARNER):
        shutil.copytree(released, root / participant / MODULE)
        _lesson(root / participant / MODULE, participant, competencies)
        _kernelspec(base / "data", participant, base / f"store-{participant}")
    state = base / "jupyter"
    widgets = state / "settings" / "@jupyter-widgets" / "jupyterlab-manager"
    widgets.mkdir(parents=True)
    # The participant's own setting at its most revealing: widget state saved in notebooks.
    (widgets / "plugin.jupyterlab-settings").write_text(json.dumps({"saveState": True}))
    server = start_lab(root, state, {"JUPYTER_PATH": str(base / "data")})
    yield server, competencies, ws.load().course_id
    server.stop()


def _folder(server: Lab, participant: str) -> Path:
    return server.root / participant / MODULE


def _store(server: Lab, participant: str) -> Store:
    return Store(server.root.parent / f"store-{participant}")


def _url(server: Lab, participant: str) -> str:
    """The participant's notebook in a JupyterLab workspace of their own (one tab open)."""
    path = f"{participant}/{MODULE}/{NOTEBOOK}"
    return f"{server.url}/lab/workspaces/{participant}/tree/{path}?token={server.token}"


def _open_and_run(page: Page, server: Lab, participant: str) -> None:
    page.goto(_url(server, participant))
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    expect(idle).to_be_visible(timeout=SLOW)
    pulse = page.locator(".tandem-safety-pulse")
    run_all_until(page, lambda ms: expect(pulse).to_be_visible(timeout=ms))


def _choose(row: Locator, value: int) -> None:
    row.get_by_role("button", name=str(value), exact=True).click()


def _chosen(row: Locator, value: int) -> None:
    expect(row.get_by_role("button", name=str(value), exact=True)).to_have_class(
        re.compile(r"\bmod-active\b"), timeout=SLOW
    )


def _save_notebook(page: Page, server: Lab, participant: str) -> str:
    notebook = _folder(server, participant) / NOTEBOOK
    before = notebook.stat().st_mtime_ns
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
    deadline = time.monotonic() + 30
    while notebook.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(0.5)
    return notebook.read_text()


def _all_text(*roots: Path) -> str:
    return "\n".join(
        p.read_text(errors="ignore")
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != CONTEXT_FILE  # the roster of the pair, from release
    )


def test_pulse_and_partner_rating_save_restore_and_stay_with_their_author(
    lab: tuple[Lab, list[str], str], page: Page
) -> None:
    server, competencies, course_id = lab
    saved: dict[str, str] = {}
    for participant in (LEARNER, LEAD):
        _open_and_run(page, server, participant)
        _kernel_id(server, participant)  # the participant's own kernel runs the notebook
        rating = page.locator(".tandem-partner-rating")
        if participant == LEAD:
            rows = rating.locator(".tandem-rating")
            expect(rows).to_have_count(len(competencies))
            for i, value in enumerate(RATING):
                _choose(rows.nth(i), value)
                _chosen(rows.nth(i), value)
            expect(rating.locator(".tandem-status")).to_contain_text("Saved", timeout=SLOW)
        else:
            expect(rating).to_contain_text("Your partner, who leads this module, rates you here")
            expect(rating.locator(".tandem-rating")).to_have_count(0)
        pulse = page.locator(".tandem-safety-pulse")
        expect(pulse).to_contain_text("Private: your partner never sees these answers.")
        items = pulse.locator(".tandem-pulse-item")
        expect(items).to_have_count(len(PULSE_ITEMS))
        for i, value in enumerate(PULSE[participant]):
            _choose(items.nth(i), value)
            _chosen(items.nth(i), value)
        folder = _folder(server, participant)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (folder / PULSE_FILE).is_file():
                answers = read_pulse(folder / PULSE_FILE, participant=participant).answers
                if list(answers.values()) == PULSE[participant]:
                    break
            time.sleep(0.3)
        assert read_pulse(folder / PULSE_FILE, participant=participant).answers == dict(
            zip(PULSE_ITEMS, PULSE[participant], strict=True)
        )
        key = Key(participant, course_id, "session-01", "safety-pulse")
        latest = _store(server, participant).latest(key)
        assert latest is not None and latest.data == dict(
            zip(PULSE_ITEMS, PULSE[participant], strict=True)
        )
        saved[participant] = _save_notebook(page, server, participant)

    # The lead's ratings of the learner are in the lead's check-in; no pulse in either.
    lead_checkin = json.loads((_folder(server, LEAD) / CHECKIN_FILE).read_text())
    assert lead_checkin["partner_rating"] == {
        "before": dict(zip(competencies, RATING, strict=True))
    }
    for participant in (LEAD, LEARNER):
        checkin = _folder(server, participant) / CHECKIN_FILE
        if checkin.exists():
            text = checkin.read_text()
            assert not any(item in text for item in PULSE_ITEMS), participant
            assert "pulse" not in text
        # Saved with widget state on: the notebook names the widgets, holds no answer.
        assert "<Tandem safety pulse>" in saved[participant]
        assert "mod-active" not in saved[participant]
        assert '"index"' not in saved[participant]

    # Nothing of one partner's pulse in the other partner's folder or store.
    for author, other in ((LEAD, LEARNER), (LEARNER, LEAD)):
        theirs = _all_text(_folder(server, other), server.root.parent / f"store-{other}")
        assert f'"{author}"' not in theirs, (author, other)
        assert not (server.root.parent / f"store-{other}" / author).exists()
        other_pulse = read_pulse(_folder(server, other) / PULSE_FILE, participant=other)
        assert list(other_pulse.answers.values()) == PULSE[other]

    # After a reload (and, for the lead, a kernel restart) the widgets show the answers.
    for participant in (LEARNER, LEAD):
        page.goto(_url(server, participant))
        if participant == LEAD:
            expect(
                page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            ).to_be_visible(timeout=SLOW)
            server.api(f"/api/kernels/{_kernel_id(server, participant)}/restart", method="POST")
        _open_and_run(page, server, participant)
        items = page.locator(".tandem-safety-pulse .tandem-pulse-item")
        for i, value in enumerate(PULSE[participant]):
            _chosen(items.nth(i), value)
        if participant == LEAD:
            rows = page.locator(".tandem-partner-rating .tandem-rating")
            for i, value in enumerate(RATING):
                _chosen(rows.nth(i), value)


def _kernel_id(server: Lab, participant: str) -> str:
    sessions: Any = server.api("/api/sessions")
    [session] = [s for s in sessions if s["path"] == f"{participant}/{MODULE}/{NOTEBOOK}"]
    assert session["kernel"]["name"] == f"tandem-{participant}"
    return str(session["kernel"]["id"])
