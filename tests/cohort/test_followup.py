"""The follow-up three months on: its date, its release through the exchange to both
partners, collecting it, and the clear refusals (too early, no schedule, bad dates)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tandem.cohort.exchange import fetch, read_checkins, submit
from tandem.cohort.followup import followup_date, release_followup
from tandem.cohort.workspace import Schedule, Workspace, refresh_contexts
from tandem.errors import CohortError
from tandem.notebook.checkin import CHECKIN_FILE, CONTEXT_FILE, load_context
from tandem.notebook.followup_widget import followup_questions
from tandem.notebook.store import Store
from tandem.notebook.widgets import Where

from ..conftest import ROOT
from ..factories import run_cli

FOLLOWUP = "three-months-on"
START = dt.date(2027, 1, 4)  # the tiny programme's one session: the last session
DUE = START + dt.timedelta(days=91)  # 2027-04-05


def _add_followup(manifest: Path) -> None:
    """The tiny programme with the shipped follow-up notebook as its ``followup:``."""
    folder = manifest.parent / "followup"
    folder.mkdir()
    shutil.copy2(ROOT / "curriculum" / "followup" / f"{FOLLOWUP}.ipynb", folder)
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    data["followup"] = {
        "id": FOLLOWUP,
        "title": "Three months on",
        "lesson": f"curriculum/followup/{FOLLOWUP}.ipynb",
        "after_days": 91,
    }
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture
def followup_cohort(tiny_programme: Path, cohort_at: Callable[..., Workspace]) -> Workspace:
    """The two-pair tiny cohort (s1 released) on a programme with a follow-up, scheduled
    from 2027-01-04."""
    _add_followup(tiny_programme)
    ws = cohort_at("released")
    cohort = ws.load()
    cohort.schedule = Schedule(start=START)
    ws.save(cohort)
    return ws


def _started_days_ago(ws: Workspace, days: int) -> dt.date:
    """Schedule the cohort's one session ``days`` ago (for commands run today); return
    the follow-up's date."""
    cohort = ws.load()
    cohort.schedule = Schedule(start=dt.date.today() - dt.timedelta(days=days))
    ws.save(cohort)
    return dt.date.today() + dt.timedelta(days=91 - days)


def _error(root: Path, date: str | None, today: dt.date) -> str:
    with pytest.raises(CohortError) as info:
        release_followup(root, date, today=today)
    return str(info.value)


def test_followup_date_is_the_last_sessions_date_plus_after_days(
    followup_cohort: Workspace,
) -> None:
    ws = followup_cohort
    cohort = ws.load()
    assert followup_date(ws, cohort, ws.program(cohort)) == DUE
    cohort.schedule = Schedule()
    assert followup_date(ws, cohort, ws.program(cohort)) is None


def test_release_before_the_date_is_refused_saying_the_date_and_how_to_release_early(
    followup_cohort: Workspace,
) -> None:
    message = _error(followup_cohort.root, None, today=dt.date(2027, 3, 1))
    assert "2027-04-05" in message and "--date 2027-03-01" in message
    assert followup_cohort.load().followup_released is None
    assert not (followup_cohort.folder("release") / FOLLOWUP).exists()


def test_a_cohort_without_a_schedule_needs_a_date(followup_cohort: Workspace) -> None:
    cohort = followup_cohort.load()
    cohort.schedule = Schedule()
    followup_cohort.save(cohort)
    message = _error(followup_cohort.root, None, today=dt.date(2027, 6, 1))
    assert "no schedule" in message and "--date" in message


@pytest.mark.parametrize("value", ["soon", "2027-13-01", "2027-4-5", "05/04/2027", ""])
def test_a_date_that_is_not_yyyy_mm_dd_is_an_error_naming_it(
    followup_cohort: Workspace, value: str
) -> None:
    message = _error(followup_cohort.root, value, today=dt.date(2027, 6, 1))
    assert f"--date {value!r} is not a date" in message and "YYYY-MM-DD" in message


def test_a_date_before_the_last_session_is_an_error_naming_it(
    followup_cohort: Workspace,
) -> None:
    message = _error(followup_cohort.root, "2027-01-03", today=dt.date(2027, 6, 1))
    assert "--date 2027-01-03 is before the last session (s1, 2027-01-04)" in message


def test_a_programme_without_a_followup_says_how_to_add_one(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("released")
    with pytest.raises(CohortError, match="no follow-up: add a 'followup:' entry"):
        release_followup(ws.root, "2030-01-01")


def test_the_cli_refuses_early_with_exit_1_and_releases_with_date(
    followup_cohort: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(followup_cohort.root)
    due = _started_days_ago(followup_cohort, 30)
    code, _, err = run_cli(["followup", root], capsys)
    assert code == 1 and due.isoformat() in err and "--date" in err
    code, _, err = run_cli(["followup", root, "--date", "20270405"], capsys)
    assert code == 1 and "'20270405' is not a date" in err
    today = dt.date.today().isoformat()
    code, out, _ = run_cli(["followup", root, "--date", today], capsys)
    assert code == 0 and f"Released {FOLLOWUP} ({today})" in out
    assert f"tandem collect {root} {FOLLOWUP}" in out
    code, out, _ = run_cli(["followup", root, "--date", today], capsys)
    assert code == 0 and "already released; republished" in out


def _answer(folder: Path, participant: str, store: Path, still: int, partner: int) -> None:
    where = Where(participant, load_context(folder), Store(store))
    panel = followup_questions(FOLLOWUP, where=where)
    rows = [c for c in panel.children if "tandem-rating" in c._dom_classes]
    rows[0].value, rows[1].value = still, partner
    example = next(c for c in panel.children if "tandem-followup-example" in c._dom_classes)
    example.value = f"{participant}: an example"
    next(c for c in panel.children if "tandem-save" in c._dom_classes).click()


def test_both_partners_fetch_answer_and_submit_and_collect_gets_it_ungraded(
    followup_cohort: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = followup_cohort
    _started_days_ago(ws, 30)
    today = dt.date.today()
    done = release_followup(ws.root, today.isoformat())
    assert done.day == today and not done.again
    cohort = ws.load()
    assert cohort.followup_released == today and cohort.released == ["s1"]
    source = sorted(p.name for p in (ws.folder("source") / FOLLOWUP).iterdir())
    assert source == [f"{FOLLOWUP}.ipynb"]  # just the follow-up notebook
    for participant, (still, partner) in {"j1": (4, 3), "s1": (5, 2)}.items():
        home = tmp_path / "homes" / participant
        folder = fetch(ws, home, FOLLOWUP, participant)
        assert (folder / f"{FOLLOWUP}.ipynb").is_file()
        context = load_context(folder)
        assert context is not None and context.module == FOLLOWUP
        assert context.member(participant) is not None and context.lead == ""
        _answer(folder, participant, tmp_path / "stores" / participant, still, partner)
        assert (folder / CHECKIN_FILE).is_file()
        submit(ws, home, FOLLOWUP, participant)

    code, out, err = run_cli(["collect", str(ws.root), FOLLOWUP], capsys)
    assert code == 0, err
    assert f"{FOLLOWUP} (due no due date): 2 submitted; missing: j2, s2" in out
    checkins, problems = read_checkins(ws, ws.load(), FOLLOWUP)
    assert problems == []
    answers = {p: c.followup for p, c in checkins.items()}
    assert {p: (a.still_use, a.partner_uses) for p, a in answers.items() if a} == {
        "j1": (4, 3),
        "s1": (5, 2),
    }
    assert answers["s1"] is not None and answers["s1"].example == "s1: an example"

    # every released thing is collected by default; status and grading leave it alone
    code, out, err = run_cli(["collect", str(ws.root)], capsys)
    assert code == 0 and "tiny-tech" in out and FOLLOWUP in out, err
    code, out, err = run_cli(["status", str(ws.root)], capsys)
    assert code == 0, err
    code, out, err = run_cli(["grade", str(ws.root), "s1"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["grade", str(ws.root), FOLLOWUP], capsys)
    assert code == 1 and f"'{FOLLOWUP}' is the follow-up, not a session" in err
    assert "not graded" in err
    assert not list(ws.folder("autograded").glob(f"*/{FOLLOWUP}"))


def test_collecting_the_followup_before_it_is_released_says_what_comes_first(
    followup_cohort: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["collect", str(followup_cohort.root), FOLLOWUP], capsys)
    assert code == 1 and f"'tandem followup {followup_cohort.root}' first" in err


def test_pair_changes_rewrite_the_followups_context_too(followup_cohort: Workspace) -> None:
    ws = followup_cohort
    assert release_followup(ws.root, today=DUE).day == DUE  # on its date: no --date needed
    written = refresh_contexts(ws, ws.load())
    assert ws.folder("release") / FOLLOWUP / CONTEXT_FILE in written


def test_a_cohort_file_from_before_the_followup_loads_unchanged(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("initialised")
    data = yaml.safe_load(ws.cohort_file.read_text(encoding="utf-8"))
    data.pop("followup_released", None)
    ws.cohort_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert ws.load().followup_released is None
