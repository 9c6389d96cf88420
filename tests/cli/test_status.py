"""`tandem status`, `collect`, `release` and `feedback` tell the facilitator what is really
happening: laid out for an 80-column terminal with no id cut, "not yet due" until the due
date, and, run in the wrong order, what has not happened yet and which command comes first."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tandem.cohort.release import set_due_date
from tandem.cohort.workspace import Workspace

from ..factories import run_cli as run

FAR = ("--start", "2099-01-11", "--cadence-days", "14")  # due 18 Jan 2099: never past

#: The keys of `tandem status --json` that scripts and tests already read.
JSON_KEYS = {"cohort", "rows", "needs", "unpaired", "withdrawn", "grading_unfinished", "summary"}
ROW_KEYS = {
    "pair",
    "session",
    "module",
    "learner",
    "lead",
    "learner_submission",
    "lead_submission",
    "grading",
    "autograded",
    "feedback",
    "checkins",
}

FIRST = ["barbara", "maximilian", "annika", "konstantin", "ingrid", "sebastian"]
LAST = ["lindqvist", "oberhauser", "vasquez-moreno", "kowalczyk", "haraldsen", "delacroix"]


@pytest.fixture(autouse=True)
def _terminal_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _long_roster(pairs: int, suffix: str) -> str:
    lines = ["id,name,email,role"]
    for i in range(pairs):
        for role in ("junior", "senior"):
            first, last = FIRST[i % 6], LAST[(i + (role == "senior")) % 6]
            pid = f"{first}.{last}{suffix}{i:02d}-{role[0]}"
            lines.append(f"{pid},{first.title()} {last.title()},{pid}@example.org,{role}")
    return "\n".join(lines) + "\n"


def _cohort(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    roster: str,
    *extra: str,
    release: bool = True,
) -> tuple[Path, str]:
    ws = tmp_path / "c"
    people = [line.split(",") for line in roster.strip().splitlines()[1:]]
    juniors = [p[0] for p in people if p[3] == "junior"]
    seniors = [p[0] for p in people if p[3] == "senior"]
    pairs = "junior,senior\n" + "".join(f"{j},{s}\n" for j, s in zip(juniors, seniors, strict=True))
    argv = ["cohort", "init", str(ws), "--roster", str(write_roster(roster))]
    argv += ["--pairs", str(write_roster(pairs, "pairs.csv"))]
    code, _, err = run([*argv, "--curriculum", str(tiny_programme), *extra], capsys)
    assert code == 0, err
    out = ""
    if release:
        code, out, err = run(["release", str(ws), "s1"], capsys)
        assert code == 0, err
    return ws, out


@pytest.mark.parametrize("suffix", ["", "-of-the-northern-region-"], ids=["long", "very-long"])
def test_status_fits_80_columns_and_cuts_no_pair_or_participant_id(
    suffix: str,
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = _long_roster(12, suffix)
    ws, _ = _cohort(tmp_path, tiny_programme, write_roster, capsys, roster, *FAR)
    code, out, err = run(["status", str(ws)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    words = {w for line in lines for w in line.split()}
    cohort = Workspace(ws).load()
    assert len(cohort.pairs) == 12
    for pair in cohort.pairs:
        assert {pair.id, pair.junior, pair.senior} <= words, pair
    assert not any("…" in line for line in lines)
    [row] = [line for line in lines if line.split()[:1] == ["pair-01"]]
    assert row.split()[-1] == ".."  # not yet due, both modules of session 1
    assert any(line.startswith("S1 s1: tiny-tech, tiny-mgmt; due 18 Jan 2099") for line in lines)
    assert ". not yet due" in out and "a capital letter: submitted late" in out.replace("\n  ", " ")

    code, out, _ = run(["status", str(ws), "--json"], capsys)
    data = json.loads(out)
    assert set(data) >= JSON_KEYS and set(data["rows"][0]) >= ROW_KEYS
    assert data["sessions"] == {"s1": "2099-01-18T23:59:59"}
    assert data["pairs"]["pair-01"] == [cohort.pairs[0].junior, cohort.pairs[0].senior]

    code, out, _ = run(["status", str(ws), "--wide"], capsys)
    assert code == 0 and "not yet due (due 18 Jan 2099)" in out
    assert cohort.pairs[11].senior in out  # the wide table is as wide as it needs


def test_nothing_is_missing_before_the_due_date_and_every_command_shows_it(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ..conftest import ROSTER_2_PAIRS

    ws, released = _cohort(tmp_path, tiny_programme, write_roster, capsys, ROSTER_2_PAIRS, *FAR)
    assert "Due 18 Jan 2099 (end of the day, UTC)" in released

    code, out, _ = run(["status", str(ws), "--json"], capsys)
    data = json.loads(out)
    assert {r["learner_submission"] for r in data["rows"]} == {"not yet due"}
    assert data["needs"]["missing submissions"] == 0 and data["not_yet_due"] == 8
    code, out, _ = run(["status", str(ws)], capsys)
    assert code == 0
    assert "Not yet due: 8 submissions (due 18 Jan 2099)." in out
    assert "Needs you now: nothing" in out and "missing submission" not in out

    code, out, err = run(["collect", str(ws), "s1"], capsys)
    assert code == 0, err
    assert "tiny-tech (due 18 Jan 2099): 0 submitted; not yet due: j1, s1, j2, s2" in out
    assert "missing" not in out

    ws_ = Workspace(ws)
    for module in ("tiny-tech", "tiny-mgmt"):  # the due date passes
        set_due_date(ws_, ws_.load(), module, datetime(2020, 1, 1))
    code, out, _ = run(["status", str(ws)], capsys)
    assert "Needs you now: 4 missing submissions" in out
    assert "Not yet due" not in out
    code, out, _ = run(["collect", str(ws), "s1"], capsys)
    assert "tiny-tech (due 1 Jan 2020): 0 submitted; missing: j1, s1, j2, s2" in out


def test_commands_run_before_release_say_what_comes_first(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ..conftest import ROSTER_2_PAIRS

    ws, _ = _cohort(
        tmp_path, tiny_programme, write_roster, capsys, ROSTER_2_PAIRS, *FAR, release=False
    )
    first = f"run 'tandem release {ws} s1' first"
    for argv, what in (
        (["collect", str(ws), "s1"], "session s1 is not released yet: "),
        (["collect", str(ws)], "no session is released yet, so there is nothing to collect: "),
        (["feedback", str(ws), "s1"], "session s1 is not released yet: "),
    ):
        code, out, err = run(argv, capsys)
        assert (code, out) == (1, ""), argv
        assert err.strip() == f"tandem: error: {what}{first}", argv
    code, _, err = run(["collect", str(ws), "s9"], capsys)
    assert code == 1 and "no session 's9' (known: s1)" in err and len(err.splitlines()) == 1

    code, out, err = run(["status", str(ws)], capsys)
    assert code == 0, err
    assert f"No session is released yet: {first}." in out.replace("\n", " ")
    assert "Needs you now: nothing released yet: release s1 (tandem release)" in out
    assert "pair-01" in out and "pair-02" in out  # the pairs, with nothing to mark yet
    data = json.loads(run(["status", str(ws), "--json"], capsys)[1])
    assert data["next_session"] == "s1" and data["sessions"] == {}
