"""Tandem on a real JupyterHub, driven in Chromium: three real Unix accounts (a pair and
their facilitator), nbgrader's exchange between them, the formgrader for the facilitator
alone. The hub is started once for the module by `tandem hub up`'s own code and stopped by
`tandem hub down`'s; the accounts are removed afterwards.

Needs root (real accounts, PAM, the LocalProcessSpawner); CI runs as root.
"""

from __future__ import annotations

import os
import pwd
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ..factories import run_cli
from ..jupyterlab import SLOW, run_all_until
from .hubfixture import JUNIOR, SENIOR, Hub, start_hub, stop_hub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="a real hub makes Unix accounts and runs servers as them: needs root",
    ),
]

#: role -> (the module they learn, its answers by clicking, the points those earn)
LEARNS = {
    "junior": ("tiny-mgmt", {"q1": "Ask what they tried"}, 2.0),
    "senior": ("tiny-tech", {"q1": "Line chart"}, 2.0),
}
REFLECTION = {"junior": "Ask before answering — Amara <b>bold</b>", "senior": "Try a line chart 📈"}


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    started = start_hub()
    yield started
    left = stop_hub(started)
    assert left == [], f"processes of the test accounts outlived the hub: {left}"
    assert not started.base.exists(), "the test's files were not removed"
    accounts = {user.pw_name for user in pwd.getpwall()}
    assert not accounts & set(started.accounts.values()), "the test accounts were not removed"


def _login(browser: Browser, hub: Hub, role: str) -> Page:
    login = hub.login(role)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{hub.url}hub/login")
    page.locator("#username_input").fill(login.account)
    page.locator("#password_input").fill(login.password)
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{login.account}/lab"), timeout=SLOW)
    expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_be_visible(timeout=SLOW)
    return page


def _assignments(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    expect(page.locator("#released_assignments_list")).to_be_visible(timeout=SLOW)


def _open(page: Page, hub: Hub, role: str, path: str) -> None:
    # ?reset: only this notebook open (Lab would restore the previous ones beside it)
    page.goto(f"{hub.url}user/{hub.accounts[role]}/lab/tree/{path}?reset")
    idle = page.get_by_text("Python 3 (ipykernel) | Idle").or_(
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    )
    expect(idle.first).to_be_visible(timeout=SLOW)


def _work_through_the_module(browser: Browser, hub: Hub, role: str) -> Page:
    """Log in, fetch the module the role learns, write a reflection in its lesson (restored
    after a reload), answer the checkpoint by clicking, submit."""
    module, answers, _ = LEARNS[role]
    page = _login(browser, hub, role)
    _assignments(page)
    released = page.locator("#released_assignments_list > .list_item", has_text=module)
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list > .list_item", has_text=module)
    expect(fetched).to_be_visible(timeout=SLOW)

    _open(page, hub, role, f"{module}/{module}.ipynb")
    box = page.locator(".tandem-reflection")
    run_all_until(page, lambda ms: expect(box).to_be_visible(timeout=ms))
    box.locator(".tandem-reflection-text textarea").fill(REFLECTION[role])
    expect(box.locator(".tandem-status")).to_contain_text("Saved", timeout=SLOW)
    page.reload()
    _open(page, hub, role, f"{module}/{module}.ipynb")
    run_all_until(page, lambda ms: expect(box).to_be_visible(timeout=ms))
    expect(box.locator(".tandem-reflection-text textarea")).to_have_value(
        REFLECTION[role], timeout=SLOW
    )

    _open(page, hub, role, f"{module}/checkpoint.ipynb")
    choice = page.locator(".tandem-question-choice")
    run_all_until(page, lambda ms: expect(choice).to_be_visible(timeout=ms))
    choice.get_by_text(answers["q1"], exact=True).click()
    expect(choice.locator(".tandem-status")).to_contain_text("Saved", timeout=SLOW)

    _assignments(page)
    fetched.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list > .list_item", has_text=module)
    expect(submitted.first).to_be_visible(timeout=SLOW)
    return page


def _grade_written_answer(page: Page, hub: Hub, module: str) -> None:
    """In the formgrader, in the browser: the written answer gets its one point."""
    base = f"{hub.url}user/{hub.accounts['facilitator']}/formgrader"
    page.goto(f"{base}/gradebook/{module}/checkpoint")
    page.get_by_role("link", name="Submission #1").click()
    score = page.locator("input#explain.score")
    expect(score).to_be_visible(timeout=SLOW)
    score.fill("1")
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url) as saved:
        score.press("Tab")
    assert saved.value.ok and saved.value.request.method == "PUT"


def test_a_session_on_the_hub_from_release_to_feedback(browser: Browser, hub: Hub) -> None:
    ws = hub.workspace
    hub.run_as("facilitator", "tandem", "release", ".", "s1", cwd=ws)

    pages = {role: _work_through_the_module(browser, hub, role) for role in LEARNS}

    collected = hub.run_as("facilitator", "tandem", "collect", ".", "s1", cwd=ws)
    # Submissions arrive under roster ids (the hub set TANDEM_PARTICIPANT from the account).
    for role, (module, _, _) in LEARNS.items():
        participant = JUNIOR if role == "junior" else SENIOR
        assert (ws / "submitted" / participant / module / "checkpoint.ipynb").is_file(), collected
    graded = hub.run_as("facilitator", "tandem", "grade", ".", "s1", cwd=ws)
    assert "landlock" in graded.stdout + graded.stderr, graded.stdout

    facilitator = _login(browser, hub, "facilitator")
    for module, _, _ in LEARNS.values():
        _grade_written_answer(facilitator, hub, module)
    hub.run_as("facilitator", "tandem", "feedback", ".", "s1", cwd=ws)
    report = hub.run_as("facilitator", "tandem", "report", ".", cwd=ws)
    assert "index.html" in report.stdout

    for role, page in pages.items():
        module, _, points = LEARNS[role]
        _assignments(page)
        submitted = page.locator("#submitted_assignments_list > .list_item", has_text=module)
        submitted.first.get_by_role("button", name="Fetch Feedback").click()
        pages_fetched = _arrived(hub.home(role) / module / "feedback", "checkpoint.html")
        assert pages_fetched[0].stat().st_uid == hub.uid(role)  # fetched as themself
        assert f"{points + 1:g}" in pages_fetched[0].read_text()  # the clicks + the written
        _my_programme(page, hub, role)


def _arrived(folder: Path, name: str) -> list[Path]:
    """The one ``name`` under ``folder``, once the Assignments tab's fetch wrote it."""
    deadline = time.monotonic() + SLOW / 1000
    while time.monotonic() < deadline:
        found = sorted(folder.rglob(name))
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"no {name} under {folder}")


def _my_programme(page: Page, hub: Hub, role: str) -> None:
    """The launcher's "My programme": the partner, and this participant's own score only."""
    _, _, points = LEARNS[role]
    page.goto(f"{hub.url}user/{hub.accounts[role]}/lab?reset")
    card = page.locator('.jp-LauncherCard[title="My programme"]')
    expect(card).to_be_visible(timeout=SLOW)
    card.click()
    frame = page.frame_locator(".jp-ServerProxy iframe")
    partner = SENIOR if role == "junior" else JUNIOR
    expect(frame.locator("strong.partner")).to_have_text(partner, timeout=SLOW)
    mine = {"junior": f"{points + 1:g} / 3", "senior": f"{points + 1:g} / 9"}
    other = "senior" if role == "junior" else "junior"
    body = frame.locator("body")
    expect(body).to_contain_text(mine[role])
    expect(body).not_to_contain_text(mine[other].split(" ", 1)[1])  # the partner's total


def test_participants_cannot_open_each_others_files(hub: Hub) -> None:
    """As their own Unix users: a participant cannot open the partner's home, store or
    submissions, the course directory or the gradebook; everyone can run the environment."""
    partner_home = hub.home("senior")
    course = hub.workspace
    refused = {
        "the partner's home": ["ls", str(partner_home)],
        "the partner's store": ["ls", str(partner_home / ".local" / "share" / "tandem")],
        "the submissions in the exchange": ["ls", str(hub.exchange / hub.course_id / "inbound")],
        "the course directory": ["ls", str(course)],
        "the gradebook": ["head", "-c", "16", str(course / "gradebook.db")],
        "the hub's state": ["ls", str(hub.state)],
    }
    for what, command in refused.items():
        result = hub.run_as("junior", *command, check=False)
        assert result.returncode != 0 and "Permission denied" in result.stderr, what
    for role in ("junior", "senior", "facilitator"):
        imported = hub.run_as(role, "python", "-c", "import tandem.widgets, nbgrader")
        assert imported.returncode == 0
    status = hub.run_as("facilitator", "tandem", "status", ".", cwd=course)
    assert JUNIOR in status.stdout


def test_over_http_a_participant_is_refused_the_partners_server(browser: Browser, hub: Hub) -> None:
    page = _login(browser, hub, "junior")
    partner, facilitator = hub.accounts["senior"], hub.accounts["facilitator"]
    for path in (
        f"user/{partner}/lab",
        f"user/{partner}/api/contents",
        f"user/{partner}/files/tiny-tech/checkpoint.ipynb",
        f"user/{partner}/tandem-programme/",
        f"user/{facilitator}/formgrader/api/assignments",
        f"user/{hub.accounts['junior']}/formgrader/api/assignments",  # not theirs to have
    ):
        answer = page.request.get(f"{hub.url}{path}")  # redirects (the hub's OAuth) followed
        assert answer.status in (403, 404), (path, answer.status, answer.url)
    own = page.request.get(f"{hub.url}user/{hub.accounts['junior']}/api/contents")
    assert own.ok
    page.context.close()


def test_grading_runs_a_participants_code_in_the_sandbox_not_with_the_facilitators_rights(
    hub: Hub,
) -> None:
    """A submission that reads the gradebook, graded by the facilitator as their own Unix
    user: the read is refused inside the grading kernel."""
    gradebook = hub.workspace / "gradebook.db"
    reads_the_gradebook = f"answer = open({str(gradebook)!r}, 'rb').read(16)"
    hostile = (
        "import json, pathlib\n"
        "path = pathlib.Path('again/tiny-mgmt/checkpoint.ipynb')\n"
        "nb = json.loads(path.read_text())\n"
        "cell = next(c for c in nb['cells']\n"
        "            if c['metadata'].get('nbgrader', {}).get('grade_id') == 'q1')\n"
        f"cell['source'] = {reads_the_gradebook!r}\n"
        "path.write_text(json.dumps(nb))\n"
    )
    hub.run_as("junior", "mkdir", "-p", "again")
    hub.run_as(
        "junior", "nbgrader", "fetch_assignment", "tiny-mgmt", cwd=hub.home("junior") / "again"
    )
    hub.run_as("junior", "python", "-c", hostile)
    hub.run_as("junior", "nbgrader", "submit", "tiny-mgmt", cwd=hub.home("junior") / "again")
    ws = hub.workspace
    hub.run_as("facilitator", "tandem", "collect", ".", "s1", cwd=ws)
    hub.run_as("facilitator", "tandem", "grade", ".", "s1", cwd=ws, check=False)
    graded = ws / "autograded" / JUNIOR / "tiny-mgmt" / "checkpoint.ipynb"
    text = graded.read_text()
    assert "SQLite format 3" not in text
    assert "PermissionError" in text and str(gradebook) in text


def test_a_submission_made_from_the_partners_account_is_refused_at_collect(hub: Hub) -> None:
    """Peter sets nbgrader's student id to Amara's and submits: the copy in the exchange
    is owned by Peter's account, so collect refuses it and keeps Amara's own."""
    ws = hub.workspace
    forger = hub.home("senior") / "forge"
    hub.run_as("senior", "mkdir", "-p", str(forger))
    hub.run_as("senior", "nbgrader", "fetch_assignment", "tiny-mgmt", cwd=forger)
    hub.run_as(
        "senior",
        "sed",
        "-i",
        "s/YOUR ANSWER HERE/FORGED BY PETER/",
        "tiny-mgmt/checkpoint.ipynb",
        cwd=forger,
    )
    hub.run_as("senior", "nbgrader", "submit", "tiny-mgmt", "--student", JUNIOR, cwd=forger)

    collected = hub.run_as("facilitator", "tandem", "collect", ".", "s1", cwd=ws, check=False)
    said = collected.stdout + collected.stderr
    assert collected.returncode == 1 and "refused:" in said
    assert hub.accounts["senior"] in said and hub.accounts["junior"] in said, said
    [kept] = (ws / "refused").iterdir()
    assert kept.name.startswith(f"{JUNIOR}+tiny-mgmt+")
    assert "FORGED BY PETER" in (kept / "checkpoint.ipynb").read_text()
    own = ws / "submitted" / JUNIOR / "tiny-mgmt" / "checkpoint.ipynb"
    assert own.is_file() and "FORGED BY PETER" not in own.read_text()
    inbound = hub.exchange / hub.course_id / "inbound"
    assert not [
        p
        for p in inbound.iterdir()
        if p.stat().st_uid == hub.uid("senior") and p.name.startswith(JUNIOR)
    ]


def test_prepare_with_the_hubs_own_settings_changes_nothing(
    hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tandem hub prepare` (a production hub's set-up) on the running trial's settings:
    the environment is up to date, the cohort stays where it is and keeps its grades."""
    gradebook = (hub.workspace / "gradebook.db").read_bytes()
    argv = ["hub", "prepare", "--settings", str(hub.state / "tandem-hub.toml")]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "installed" not in out  # nothing to reinstall
    assert f"the cohort {hub.workspace}: owned by {hub.accounts['facilitator']}" in out
    assert (hub.workspace / "gradebook.db").read_bytes() == gradebook
    assert hub.workspace.stat().st_uid == hub.uid("facilitator")
