"""The `tandem` command line: help texts, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ..conftest import MANIFEST, ROSTER_2_PAIRS
from ..factories import run_cli as run

COMMANDS = [
    [],
    ["validate"],
    ["collect"],
    ["status"],
    ["lab"],
    ["export"],
    ["feedback"],
    ["cohort", "add"],
    ["cohort", "withdraw"],
    ["cohort", "repair"],
    ["privacy"],
    ["privacy", "export"],
    ["privacy", "erase"],
    ["new-module"],
    ["cohort"],
    ["cohort", "init"],
    ["match"],
    ["release"],
    ["grade"],
    ["report"],
    ["demo"],
]


def cli_init(
    ws: Path, roster: Path, programme: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    """`tandem cohort init WS --roster ROSTER --curriculum PROGRAMME [EXTRA...]` through main()."""
    argv = ["cohort", "init", str(ws), "--roster", str(roster), "--curriculum", str(programme)]
    return run([*argv, *extra], capsys)


@pytest.fixture
def cli_cohort(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Path]:
    """A factory: the two-pair cohort made through the command line, ``init`` with
    ``extra`` options and, unless ``release=False``, session s1 released."""

    def make(*extra: str, release: bool = True) -> Path:
        ws = tmp_path / "c"
        roster = write_roster(ROSTER_2_PAIRS)
        code, _, err = cli_init(ws, roster, tiny_programme, capsys, "--match", *extra)
        assert code == 0, err
        if release:
            code, _, err = run(["release", str(ws), "s1"], capsys)
            assert code == 0, err
        return ws

    return make


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "tandem")
def test_every_command_explains_itself(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    assert "Usage: tandem" in out
    assert len(out.split()) > 15


def test_missing_roster_file_is_one_line_and_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli_init(tmp_path / "c", tmp_path / "missing.csv", MANIFEST, capsys, "--match")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [f"tandem: error: {tmp_path / 'missing.csv'}: roster file not found"]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["release"], capsys)
    assert code == 2
    assert "Missing argument" in err


def test_validate_ok_and_broken(
    tmp_path: Path, tiny_programme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["validate", str(MANIFEST)], capsys)
    assert code == 0 and out.startswith("OK: ")
    (tiny_programme.parent / "s1" / "tiny-tech.ipynb").unlink()
    code, _, err = run(["validate", str(tiny_programme)], capsys)
    assert code == 1
    assert "tiny-tech.ipynb (module tiny-tech: lesson): lesson notebook not found" in err


def test_cohort_init_and_release(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = write_roster(ROSTER_2_PAIRS)
    code, out, _ = cli_init(
        tmp_path / "c", roster, tiny_programme, capsys, "--match", "--name", "Pilot"
    )
    assert code == 0 and "4 participants, 2 pairs" in out
    code, out, _ = run(["release", str(tmp_path / "c"), "s1"], capsys)
    assert code == 0 and "Released tiny-tech" in out and "Released tiny-mgmt" in out


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "tandem"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("tandem ")


MATCH_ROSTER = """id,name,email,role,department,rate_tiny-skill,rate_tiny-lead,manager_id
j1,Ada Junior,ada@example.org,junior,IT,5,1,
j2,Bo Junior,bo@example.org,junior,Sales,2,2,
j3,Cy Junior,cy@example.org,junior,IT,3,3,s2
s1,Sam Senior,sam@example.org,senior,Operations,4,3,
s2,Kim Senior,kim@example.org,senior,IT,1,5,
"""


def test_match_explains_each_pair_and_who_is_left(
    tiny_programme: Path, write_roster: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    roster = write_roster(MATCH_ROSTER)
    code, out, err = run(
        ["match", str(roster), "--explain", "--curriculum", str(tiny_programme)], capsys
    )
    assert code == 0
    # j1-s2 scores 4 + 4 and j2-s1 scores 0 + 1: 9 beats any other pair of pairs.
    assert "pair-01" in out and "pair-02" in out
    assert "j1 -> s2" in out and "s2 -> j1" in out
    assert "tiny-skill" in out and "tiny-lead" in out and "5 vs 1" in out
    assert "j2 -> s1" in out and "nothing to teach" in out
    assert "2 pairs from 3 juniors and 2 seniors (2 senior places): total score 9" in out
    assert "Juniors teach 4 points of tech; seniors teach 5 points of management" in out
    assert "Unmatched junior j3: no senior place left: 3 juniors for 2 senior places" in err


def test_match_out_feeds_cohort_init_pairs(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = write_roster(MATCH_ROSTER)
    pairs = tmp_path / "pairs.csv"
    curriculum = ["--curriculum", str(tiny_programme)]
    code, out, _ = run(["match", str(roster), "--out", str(pairs), *curriculum], capsys)
    assert code == 0 and f"Wrote 2 pairs to {pairs}" in out
    assert pairs.read_text().splitlines()[:2] == [
        "id,junior,senior,score,tech_points,management_points",
        "pair-01,j1,s2,8,4,4",
    ]
    workspace = tmp_path / "c"
    args = ["cohort", "init", str(workspace), "--roster", str(roster), *curriculum]
    code, out, _ = run([*args, "--pairs", str(pairs)], capsys)
    assert code == 0 and "5 participants, 2 pairs" in out
    cohort = yaml.safe_load((workspace / "cohort.yml").read_text())
    assert [(p["id"], p["junior"], p["senior"]) for p in cohort["pairs"]] == [
        ("pair-01", "j1", "s2"),
        ("pair-02", "j2", "s1"),
    ]
    assert cohort["unpaired"] == ["j3"]


def test_cohort_init_with_match(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = write_roster(MATCH_ROSTER)
    workspace = tmp_path / "c"
    args = ["cohort", "init", str(workspace), "--roster", str(roster)]
    args += ["--curriculum", str(tiny_programme), "--match", "--same-department", "forbid"]
    code, out, err = run([*args, "--explain"], capsys)
    assert code == 0 and "5 participants, 2 pairs" in out
    assert "total score" in out and "--same-department forbid" in out
    cohort = yaml.safe_load((workspace / "cohort.yml").read_text())
    # j1 and s2 share IT, which is forbidden: j1 gets s1; j2 gets s2 (j3's manager).
    assert [(p["junior"], p["senior"]) for p in cohort["pairs"]] == [("j1", "s1"), ("j2", "s2")]
    assert "Unmatched junior j3: no senior place left" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--pairs", "p.csv", "--match"], "give either --pairs or --match, not both"),
        (["--explain"], "--explain needs --match"),
    ],
)
def test_cohort_init_option_conflicts_are_usage_errors(
    tmp_path: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    roster = write_roster(MATCH_ROSTER)
    code, _, err = run(
        ["cohort", "init", str(tmp_path / "c"), "--roster", str(roster), *extra], capsys
    )
    assert code == 2
    assert err.strip() == f"tandem: error: {message}"
    assert not (tmp_path / "c").exists()


def test_match_errors_are_one_line(
    tiny_programme: Path, write_roster: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    roster = write_roster(
        MATCH_ROSTER.replace(
            "j2,Bo Junior,bo@example.org,junior,Sales,2,",
            "j2,Bo Junior,bo@example.org,junior,Sales,7,",
        )
    )
    code, _, err = run(["match", str(roster), "--curriculum", str(tiny_programme)], capsys)
    assert code == 1
    assert err.strip().splitlines() == [
        f"tandem: error: {roster} (line 3, field 'rate_tiny-skill'): "
        "rating '7' is not a whole number from 1 to 5"
    ]


def test_new_module_scaffolds_what_validate_accepts_once_its_todos_are_filled_in(
    tiny_programme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["new-module", "t9-spreadsheets", "--track", "tech", "--curriculum", str(tiny_programme)],
        capsys,
    )
    assert code == 0 and "t9-spreadsheets" in out
    code, _, err = run(["validate", str(tiny_programme)], capsys)
    assert code == 1 and "still a placeholder: 'TODO: name this session'" in err
    tiny_programme.write_text(tiny_programme.read_text().replace("TODO: ", ""))
    code, out, _ = run(["validate", str(tiny_programme)], capsys)
    assert code == 0 and "2 sessions, 4 modules" in out
    code, _, err = run(
        ["new-module", "t9-spreadsheets", "--track", "tech", "--curriculum", str(tiny_programme)],
        capsys,
    )
    assert code != 0 and "t9-spreadsheets" in err


def test_privacy_export_from_the_command_line(
    cli_cohort: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    ws = cli_cohort(release=False)
    code, out, _ = run(["privacy", "export", "j1", "--workspace", str(ws)], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["cohort"]["profile"]["email"] == "ada@example.org"
    code, _, err = run(["privacy", "erase", "j1", "--no-store"], capsys)
    assert code == 2 and "nothing to erase" in err


def test_grade_reports_a_malformed_check_in_and_still_grades(
    cli_cohort: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    ws = cli_cohort()
    submitted = ws / "submitted" / "s1" / "tiny-tech"
    shutil.copytree(ws / "release" / "tiny-tech", submitted)
    (submitted / "tandem_checkin.json").write_text(
        '{"participant": "s1", "cohort": "c", '
        '"module": "tiny-tech", "self_assessment": '
        '{"before": {"tiny-skill": 9}}}'
    )
    code, out, err = run(["grade", str(ws), "s1"], capsys)
    assert code == 0
    assert "graded" in out and "0/2" in out
    assert "check-in skipped" in err and "rating 9 for 'tiny-skill' is outside 1-5" in err


def test_status_and_collect_from_the_command_line(
    cli_cohort: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    ws = cli_cohort("--start", "2020-01-06", "--cadence-days", "14")  # due date passed
    code, out, _ = run(["collect", str(ws)], capsys)
    assert code == 0 and "tiny-tech (due 13 Jan 2020): 0 submitted; missing: j1, s1, j2, s2" in out
    code, out, _ = run(["status", str(ws), "--json"], capsys)
    data = json.loads(out)
    assert len(data["rows"]) == 4 and data["needs"]["missing submissions"] == 4
    code, out, _ = run(["status", str(ws)], capsys)
    assert "Needs you now: 4 missing submissions" in out
    from tandem.cohort.workspace import Workspace, due_date

    cohort = Workspace(ws).load()
    assert str(cohort.schedule.start) == "2020-01-06"
    assert str(due_date(Workspace(ws), cohort, "tiny-tech")) == "2020-01-13 23:59:59"


def test_cohort_init_needs_match_or_pairs(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = write_roster(MATCH_ROSTER)
    code, out, err = cli_init(tmp_path / "c", roster, tiny_programme, capsys)
    assert code == 2 and "pairs" not in out
    assert err.strip() == (
        "tandem: error: give --match (pair by the roster's ratings and rules) or --pairs CSV "
        "(your own pairs, checked against the rules)"
    )
    assert not (tmp_path / "c").exists()


def test_cohort_init_refuses_pairs_that_break_a_rule_unless_given_a_reason(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = write_roster(MATCH_ROSTER)  # j3's manager is s2
    pairs = write_roster("junior,senior\nj3,s2\nj1,s1\n", name="pairs.csv")
    code, _, err = cli_init(tmp_path / "c", roster, tiny_programme, capsys, "--pairs", str(pairs))
    assert code == 1 and not (tmp_path / "c").exists()
    assert err.strip() == (
        f"tandem: error: {pairs}: 1 pair breaks the matching rules: pair-01: j3 & s2 "
        "(manager or direct report): change the pairs, or give --allow-rule-break REASON "
        "to keep them"
    )
    reason = "Kim asked to mentor [her] own report"
    extra = ("--pairs", str(pairs), "--allow-rule-break", reason)
    code, _, err = cli_init(tmp_path / "c", roster, tiny_programme, capsys, *extra)
    assert code == 0, err
    assert (
        yaml.safe_load((tmp_path / "c" / "cohort.yml").read_text())["matching"]["rule_break"]
        == reason
    )
    code, out, _ = run(["status", str(tmp_path / "c")], capsys)
    assert (
        f"Pairs kept against the matching rules (--allow-rule-break {reason!r}): "
        "pair-01: j3 & s2 (manager or direct report)"
    ) in " ".join(out.split())  # however the terminal's width wraps it


def test_withdraw_suggests_repair_only_when_it_can_pair_the_partner(
    cli_cohort: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_cohort(release=False)
    code, out, _ = run(["cohort", "withdraw", str(ws), "j2"], capsys)
    assert code == 0 and "cohort repair" not in out
    assert "s2 (senior) stays unpaired: there is no junior to pair them with" in out
    code, out, _ = run(["cohort", "repair", str(ws)], capsys)
    assert code == 0 and "what would help: add a junior" in out and "No new pairs." in out


def test_a_second_release_says_it_republished(
    cli_cohort: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cli_cohort(release=False)
    code, first, _ = run(["release", str(ws), "s1"], capsys)
    assert code == 0 and "already released" not in first
    code, again, _ = run(["release", str(ws), "s1"], capsys)
    assert code == 0
    assert "s1 was already released; republished with the curriculum's current files" in (
        " ".join(again.split())
    )
