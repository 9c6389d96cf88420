"""Behaviour data on known data: ideas counted by outcome, theme and direction; the
follow-up's means by direction; suppression of each figure at 4 vs 5 pairs or people, and
no small cell worked out by subtraction."""

from __future__ import annotations

from typing import Any

import pytest

from tandem.cohort.workspace import Cohort, Workspace
from tandem.errors import CohortError
from tandem.notebook.checkin import CheckIn, FollowUp, Idea
from tandem.reports.behaviour_data import (
    COLUMNS,
    followup_programme,
    idea_rows,
    ideas_programme,
    read_idea_records,
)
from tandem.reports.suppression import Disclosure

from ..factories import synthetic_cohort

TOOLS, PEOPLE = "tools, data and automation", "people and ways of working"


def _idea(n: int, theme: str = TOOLS) -> Idea:
    return Idea(id=f"idea-{n:08x}", title=f"Idea {n}", theme=theme)


def _ideas(
    cohort: Cohort, recorded: dict[str, list[Idea]], records: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    checkins = {
        "t1": {
            p: CheckIn(participant=p, cohort="synthetic", module="t1", ideas=ideas)
            for p, ideas in recorded.items()
        }
    }
    return idea_rows(cohort, checkins, records)


def _status(rows: list[dict[str, Any]], status: str, which: range) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: {"status": status, "note": "", "updated": ""}
        for r in rows
        if int(r["pair"][-2:]) in which
    }


def test_ideas_are_counted_by_outcome_theme_and_direction() -> None:
    cohort = synthetic_cohort(10)
    recorded = {f"j{i}": [_idea(i)] for i in range(10)}  # every junior: one tools idea
    recorded |= {f"s{i}": [_idea(100 + i, PEOPLE)] for i in range(6)}  # 6 seniors: people
    records = {f"idea-{i:08x}": {"status": "adopted", "note": "n", "updated": ""} for i in range(5)}
    records |= {
        f"idea-{i:08x}": {"status": "trialled", "note": "", "updated": ""} for i in (5, 6, 7, 8, 9)
    }
    rows = _ideas(cohort, recorded, records)
    assert len(rows) == 16
    first = next(r for r in rows if r["id"] == "idea-00000000")
    assert (first["direction"], first["pair"], first["status"], first["note"]) == (
        "from the junior",
        "pair-00",
        "adopted",
        "n",
    )
    out = ideas_programme(rows, Disclosure(5))
    assert out["ideas_total"] == {
        "raised": 16,
        "awaiting": 6,
        "trialled": 5,
        "adopted": 5,
        "declined": 0,
    }
    themes = {r["theme"]: r for r in out["ideas_by_theme"]}
    assert [themes[TOOLS][c] for c in COLUMNS] == [10, 0, 5, 5, 0]
    assert [themes[PEOPLE][c] for c in COLUMNS] == [6, 6, 0, 0, 0]
    assert [themes["safety and security"][c] for c in COLUMNS] == [0, 0, 0, 0, 0]
    directions = {r["direction"]: r for r in out["ideas_by_direction"]}
    assert [directions["from the junior"][c] for c in COLUMNS] == [10, 0, 5, 5, 0]
    assert [directions["from the senior"][c] for c in COLUMNS] == [6, 6, 0, 0, 0]


def test_an_idea_in_two_check_ins_counts_once_and_former_members_are_left_out() -> None:
    cohort = synthetic_cohort(1)
    idea = _idea(1)
    checkins = {
        m: {"j0": CheckIn(participant="j0", cohort="c", module=m, ideas=[idea])}
        for m in ("t1", "m1")
    }
    checkins["t1"]["x9"] = CheckIn(participant="x9", cohort="c", module="t1", ideas=[_idea(2)])
    rows = idea_rows(cohort, checkins, {})
    assert [(r["id"], r["module"], r["status"]) for r in rows] == [
        ("idea-00000001", "t1", "awaiting")
    ]


@pytest.mark.parametrize(("pairs", "shown"), [(4, False), (5, True)])
def test_idea_counts_are_suppressed_below_five_pairs(pairs: int, shown: bool) -> None:
    cohort = synthetic_cohort(pairs)
    # two ideas per junior: ten ideas from five pairs is still five pairs
    rows = _ideas(cohort, {f"j{i}": [_idea(i), _idea(50 + i)] for i in range(pairs)}, {})
    rows = _ideas(
        cohort,
        {f"j{i}": [_idea(i), _idea(50 + i)] for i in range(pairs)},
        _status(rows, "adopted", range(pairs)),
    )
    out = ideas_programme(rows, Disclosure(5))
    if shown:
        assert out["ideas_total"]["raised"] == out["ideas_total"]["adopted"] == 10
    else:
        assert out["ideas_total"]["raised"] == out["ideas_total"]["adopted"] == "fewer than 5"
    assert out["ideas_total"]["declined"] == 0  # about no one: shown


def _no_cell_by_subtraction(table: list[dict[str, Any]], total: dict[str, Any]) -> None:
    for row in [*table, total]:
        if isinstance(row["raised"], int):
            hidden = [c for c in COLUMNS[1:] if not isinstance(row[c], int)]
            assert len(hidden) != 1, row
    for column in COLUMNS:
        if isinstance(total[column], int):
            rows = [r for r in table if not isinstance(r[column], int)]
            assert len(rows) != 1, (column, table)


def test_a_small_outcome_cannot_be_worked_out_by_subtraction() -> None:
    cohort = synthetic_cohort(7)
    rows = _ideas(cohort, {f"j{i}": [_idea(i)] for i in range(7)}, {})
    records = _status(rows, "adopted", range(5)) | _status(rows, "declined", range(5, 7))
    out = ideas_programme(
        _ideas(cohort, {f"j{i}": [_idea(i)] for i in range(7)}, records), Disclosure(5)
    )
    total = out["ideas_total"]
    assert total["raised"] == 7
    assert total["declined"] == "fewer than 5"
    assert total["adopted"] == "not shown"  # 7 - 5 would tell the 2 declined
    _no_cell_by_subtraction(out["ideas_by_theme"], total)
    _no_cell_by_subtraction(out["ideas_by_direction"], total)


def test_a_small_theme_is_not_left_alone_in_its_column() -> None:
    cohort = synthetic_cohort(12)
    recorded = {f"j{i}": [_idea(i)] for i in range(10)}
    recorded |= {f"j{i}": [_idea(i, PEOPLE)] for i in (10, 11)}
    out = ideas_programme(_ideas(cohort, recorded, {}), Disclosure(5))
    themes = {r["theme"]: r for r in out["ideas_by_theme"]}
    assert out["ideas_total"]["raised"] == 12
    assert themes[PEOPLE]["raised"] == "fewer than 5"
    assert themes[TOOLS]["raised"] == "not shown"  # 12 - 10 would tell the 2
    _no_cell_by_subtraction(out["ideas_by_theme"], out["ideas_total"])


def test_idea_records_are_read_and_a_bad_status_is_named(tmp_path: Any) -> None:
    ws = Workspace(tmp_path)
    assert read_idea_records(ws) == {}
    (tmp_path / "ideas.yml").write_text(
        "idea-0000abcd: {status: adopted, note: In use, updated: '2025-03-01T10:00:00+00:00'}\n",
        encoding="utf-8",
    )
    assert read_idea_records(ws) == {
        "idea-0000abcd": {
            "status": "adopted",
            "note": "In use",
            "updated": "2025-03-01T10:00:00+00:00",
        }
    }
    (tmp_path / "ideas.yml").write_text("idea-0000abcd: {status: maybe}\n", encoding="utf-8")
    with pytest.raises(CohortError, match="status") as caught:
        read_idea_records(ws)
    assert caught.value.where == "line 1, idea-0000abcd"
    assert caught.value.path == tmp_path / "ideas.yml"


def _followups(pairs: int, still: list[int], uses: list[int]) -> dict[str, CheckIn]:
    out = {}
    for i in range(pairs):
        # tech: the senior still uses it, the junior (who taught) sees it used
        out[f"s{i}"] = CheckIn(
            participant=f"s{i}",
            cohort="c",
            module="f",
            followup=FollowUp(still_use=still[i], partner_uses=2),
        )
        out[f"j{i}"] = CheckIn(
            participant=f"j{i}",
            cohort="c",
            module="f",
            followup=FollowUp(still_use=3, partner_uses=uses[i]),
        )
    return out


def test_followup_means_by_direction() -> None:
    rows = followup_programme(
        synthetic_cohort(5), _followups(5, [4, 5, 3, 4, 4], [3, 3, 4, 4, 5]), Disclosure(5)
    )
    tech, management = rows
    assert tech == {
        "direction": "seniors learning tech",
        "still_use": 4.0,
        "still_use_people": 5,
        "partner_uses": 3.8,
        "partner_uses_people": 5,
    }
    assert (management["still_use"], management["partner_uses"]) == (3.0, 2.0)


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_followup_means_are_suppressed_below_five_people(people: int, shown: bool) -> None:
    rows = followup_programme(
        synthetic_cohort(people), _followups(people, [4] * 5, [3] * 5), Disclosure(5)
    )
    for row in rows:
        if shown:
            assert row["still_use_people"] == row["partner_uses_people"] == 5
            assert row["still_use"] is not None and row["partner_uses"] is not None
        else:
            assert row["still_use_people"] == row["partner_uses_people"] == "fewer than 5"
            assert row["still_use"] is row["partner_uses"] is None


def test_one_missing_followup_answer_is_not_told_by_the_count() -> None:
    answers = _followups(6, [4] * 6, [3] * 6)
    del answers["s5"]
    tech, _ = followup_programme(synthetic_cohort(6), answers, Disclosure(5))
    assert tech["still_use_people"] == "not shown"  # 6 seniors, 5 answered: tells the 1
    assert tech["still_use"] == 4.0
