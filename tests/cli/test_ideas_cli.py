"""``tandem ideas``: the list for the terminal's width and as JSON, recording an outcome and
saying what it replaced, and one-line errors for unknown ids and statuses."""

from __future__ import annotations

import json

import pytest

from tandem.cohort.ideas import IDEAS_FILE
from tandem.cohort.workspace import Workspace

from ..cohort.test_ideas import MGMT, TECH, idea, put_checkin
from ..factories import run_cli

LONG = (
    "Replace the weekly depot spreadsheet e-mails with one shared workbook that every site "
    "edits in place, so the Monday merge disappears"
)


@pytest.fixture
def with_ideas(tiny_cohort: Workspace) -> Workspace:
    put_checkin(tiny_cohort, "j1", TECH, idea(1, LONG))
    put_checkin(tiny_cohort, "s2", MGMT, idea(5, "Stand-up notes in one shared file"))
    return tiny_cohort


def test_the_list_fits_the_terminal_and_cuts_no_id(
    with_ideas: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    code, out, err = run_cli(["ideas", str(with_ideas.root)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= 90 for line in lines), out
    for word in ("idea-00000001", "idea-00000005", "junior", "senior", TECH, MGMT, "raised"):
        assert word in out, word
    assert "2 ideas: 2 raised, 0 trialled, 0 adopted, 0 declined" in out
    code, listed, _ = run_cli(["ideas", "list", str(with_ideas.root)], capsys)
    assert (code, listed) == (0, out)


def test_the_list_as_json_holds_every_field(
    with_ideas: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["ideas", str(with_ideas.root), "--json"], capsys)
    assert code == 0
    document = json.loads(out)
    first = document["ideas"][0]
    assert first["id"] == "idea-00000001" and first["title"] == LONG
    assert (first["direction"], first["module"], first["status"]) == (
        "from the junior",
        TECH,
        "raised",
    )
    assert first["pair"] and document["skipped"] == []


def test_setting_a_status_twice_says_what_it_was(
    with_ideas: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(with_ideas.root)
    argv = ["ideas", "set", root, "idea-00000005", "--status", "trialled", "--note", "Finance"]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "idea-00000005" in out and "was raised, now trialled" in out
    argv = ["ideas", "set", root, "idea-00000005", "--status", "adopted"]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0 and "was trialled, now adopted (the note was: Finance)" in out
    code, out, _ = run_cli(["ideas", root, "--json"], capsys)
    statuses = {i["id"]: i["status"] for i in json.loads(out)["ideas"]}
    assert statuses == {"idea-00000001": "raised", "idea-00000005": "adopted"}


def test_an_unknown_idea_is_one_line_naming_it_and_the_closest(
    with_ideas: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ideas", "set", str(with_ideas.root), "idea-00000004", "--status", "adopted"]
    code, out, err = run_cli(argv, capsys)
    assert code == 1 and out == ""
    assert err.startswith("tandem: error: ") and len(err.strip().splitlines()) == 1
    assert "'idea-00000004'" in err and "closest: idea-00000005" in err


def test_an_unknown_status_is_a_usage_error_listing_the_allowed_ones(
    with_ideas: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ideas", "set", str(with_ideas.root), "idea-00000005", "--status", "done"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "'done'" in err and all(s in err for s in ("trialled", "adopted", "declined"))
    assert not (with_ideas.root / IDEAS_FILE).exists()


def test_a_damaged_ideas_file_stops_the_list_naming_the_file_and_line(
    with_ideas: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    (with_ideas.root / IDEAS_FILE).write_text("idea-00000001: {status: [adopted\n")
    code, _, err = run_cli(["ideas", str(with_ideas.root)], capsys)
    assert code == 1 and IDEAS_FILE in err and "line " in err


def test_a_cohort_without_ideas_says_so(
    tiny_cohort: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["ideas", str(tiny_cohort.root)], capsys)
    assert code == 0 and "No ideas in the collected check-ins yet" in out
