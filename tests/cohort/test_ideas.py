"""Improvement ideas in the collected check-ins and the facilitator's records of what became
of them (``ideas.yml``): listed once each, with pair and direction; recorded under the lock;
a damaged file named with its line, never reset."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tandem.cohort.ideas import (
    IDEAS_FILE,
    forget_records,
    list_ideas,
    load_records,
    read_ideas,
    set_status,
)
from tandem.cohort.workspace import Workspace
from tandem.errors import CohortError, UsageError
from tandem.notebook.checkin import CHECKIN_FILE, CheckIn, Idea

TECH, MGMT = "tiny-tech", "tiny-mgmt"


def idea(number: int, title: str = "", theme: str = "tools, data and automation") -> Idea:
    return Idea(id=f"idea-{number:08x}", title=title or f"Idea {number}", theme=theme)


def put_checkin(ws: Workspace, participant: str, module: str, *ideas: Idea) -> Path:
    """``participant``'s collected check-in of ``module`` holding ``ideas``."""
    folder = ws.submission_dir(participant, module)
    folder.mkdir(parents=True, exist_ok=True)
    checkin = CheckIn(participant=participant, cohort="tiny", module=module, ideas=list(ideas))
    path = folder / CHECKIN_FILE
    path.write_text(checkin.model_dump_json(indent=2), encoding="utf-8")
    return path


@pytest.fixture
def with_ideas(tiny_cohort: Workspace) -> Workspace:
    put_checkin(tiny_cohort, "s2", MGMT, idea(5, "Weekly stand-up notes in one shared file"))
    put_checkin(tiny_cohort, "j1", TECH, idea(1, "Book collections online"), idea(2))
    put_checkin(tiny_cohort, "s1", TECH, idea(3, "A shared calendar for site visits"))
    return tiny_cohort


def test_every_collected_idea_is_listed_with_its_author_pair_module_and_raised_status(
    with_ideas: Workspace,
) -> None:
    rows = list_ideas(with_ideas)
    pairs = {p.junior: p.id for p in with_ideas.load().pairs}
    assert [(r.idea.id, r.participant, r.role, r.module_id) for r in rows] == [
        ("idea-00000001", "j1", "junior", TECH),
        ("idea-00000002", "j1", "junior", TECH),
        ("idea-00000003", "s1", "senior", TECH),
        ("idea-00000005", "s2", "senior", MGMT),
    ]
    assert rows[0].pair_id == pairs["j1"] and rows[2].pair_id == pairs["j1"]
    assert rows[3].pair_id == pairs["j2"]
    assert rows[0].idea.title == "Book collections online"
    assert [r.direction for r in rows] == [
        "from the junior",
        "from the junior",
        "from the senior",
        "from the senior",
    ]
    assert {(r.status, r.note, r.updated) for r in rows} == {("raised", "", "")}


def test_an_idea_id_found_twice_is_listed_once(with_ideas: Workspace) -> None:
    put_checkin(with_ideas, "j1", MGMT, idea(1, "Book collections online"))  # a copied check-in
    rows = list_ideas(with_ideas)
    assert [r.idea.id for r in rows].count("idea-00000001") == 1
    assert next(r for r in rows if r.idea.id == "idea-00000001").module_id == TECH


def test_an_unreadable_check_in_is_skipped_and_reported(with_ideas: Workspace) -> None:
    put_checkin(with_ideas, "j2", TECH, idea(9)).write_text("{not json", encoding="utf-8")
    listed = read_ideas(with_ideas)
    assert len(listed.rows) == 4
    [problem] = listed.problems
    assert problem.path is not None and "j2" in str(problem.path)


def test_a_status_is_recorded_with_its_note_and_listed(with_ideas: Workspace) -> None:
    row = set_status(with_ideas, "idea-00000001", "trialled", "One depot, for a month")
    assert (row.idea.id, row.status, row.note, row.participant) == (
        "idea-00000001",
        "trialled",
        "One depot, for a month",
        "j1",
    )
    assert row.updated and row.history == ()
    listed = {r.idea.id: r for r in list_ideas(with_ideas)}
    assert (listed["idea-00000001"].status, listed["idea-00000001"].note) == (
        "trialled",
        "One depot, for a month",
    )
    assert listed["idea-00000002"].status == "raised"
    saved = yaml.safe_load((with_ideas.root / IDEAS_FILE).read_text(encoding="utf-8"))
    assert saved == {
        "idea-00000001": {
            "status": "trialled",
            "note": "One depot, for a month",
            "updated": row.updated,
        }
    }


def test_setting_again_replaces_the_record_and_keeps_the_one_replaced(
    with_ideas: Workspace,
) -> None:
    first = set_status(with_ideas, "idea-00000003", "trialled", "Ops team, May")
    row = set_status(with_ideas, "idea-00000003", "adopted")
    assert (row.status, row.note) == ("adopted", "")
    [previous] = row.history
    assert (previous.status, previous.note, previous.updated) == (
        "trialled",
        "Ops team, May",
        first.updated,
    )
    assert load_records(with_ideas)["idea-00000003"].history == row.history


def test_an_unknown_idea_is_refused_naming_it_and_the_closest_known_ids(
    with_ideas: Workspace,
) -> None:
    with pytest.raises(CohortError) as info:
        set_status(with_ideas, "idea-00000004", "adopted")
    message = str(info.value)
    assert "'idea-00000004'" in message and "closest: idea-00000005" in message
    assert not (with_ideas.root / IDEAS_FILE).exists()


def test_an_unknown_status_is_refused_listing_the_allowed_ones(with_ideas: Workspace) -> None:
    with pytest.raises(UsageError) as info:
        set_status(with_ideas, "idea-00000001", "done")
    assert "'done'" in str(info.value) and "trialled, adopted, declined" in str(info.value)


def test_a_damaged_ideas_file_is_named_with_its_line_and_never_reset(
    with_ideas: Workspace,
) -> None:
    path = with_ideas.root / IDEAS_FILE
    damaged = "idea-00000001:\n  status: adopted\n  note: [unclosed\n"
    path.write_text(damaged, encoding="utf-8")
    with pytest.raises(CohortError) as info:
        set_status(with_ideas, "idea-00000002", "declined")
    assert str(path) in str(info.value) and "(line " in str(info.value)
    assert path.read_text(encoding="utf-8") == damaged
    with pytest.raises(CohortError, match="line"):
        list_ideas(with_ideas)


def test_a_record_with_an_unknown_status_in_the_file_is_named_with_its_line(
    with_ideas: Workspace,
) -> None:
    path = with_ideas.root / IDEAS_FILE
    path.write_text(
        "idea-00000001: {status: adopted}\nidea-00000002: {status: maybe}\n", encoding="utf-8"
    )
    with pytest.raises(CohortError) as info:
        load_records(with_ideas)
    assert "(line 2, idea-00000002)" in str(info.value) and "status" in str(info.value)


def test_forgetting_ideas_drops_only_their_records(with_ideas: Workspace) -> None:
    set_status(with_ideas, "idea-00000001", "adopted")
    set_status(with_ideas, "idea-00000005", "declined", "Already done in Finance")
    assert forget_records(with_ideas, ["idea-00000001", "idea-0000dead"]) == ["idea-00000001"]
    assert list(load_records(with_ideas)) == ["idea-00000005"]
