"""Reports built with papermill for a 3-pair demo cohort: content, privacy, offline pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tandem.cohort.workspace import Workspace
from tandem.demo import DemoResult

REPORTS = "reports"
FACILITATOR = "reports/facilitator"
PROGRAMME = "reports/programme"


def test_two_sites_linked_from_an_index_that_names_no_one(demo_cohort: DemoResult) -> None:
    index = demo_cohort.reports.index
    assert index == demo_cohort.workspace / "reports" / "index.html"
    html = index.read_text()
    assert 'href="programme/index.html"' in html and 'href="facilitator/index.html"' in html
    site = (demo_cohort.workspace / FACILITATOR / "index.html").read_text()
    for pair in ("pair-01", "pair-02", "pair-03"):
        assert f'href="pairs/{pair}.html"' in site
        page = (demo_cohort.workspace / FACILITATOR / "pairs" / f"{pair}.html").read_text()
        assert pair in page
    assert demo_cohort.reports.failed == []
    programme = demo_cohort.workspace / PROGRAMME
    assert sorted(p.name for p in programme.iterdir()) == [
        "data.json",
        "director.html",
        "director.json",
        "index.html",
    ]
    director = (programme / "director.html").read_text() + (programme / "director.json").read_text()
    for person in demo_cohort.roster.read_text().splitlines()[1:]:
        pid, name = person.split(",")[:2]
        assert pid not in html and name not in html
        assert name not in director


def test_pair_report_shows_both_partners_and_their_scores(demo_cohort: DemoResult) -> None:
    page = (demo_cohort.workspace / FACILITATOR / "pairs" / "pair-01.html").read_text()
    cohort = Workspace(demo_cohort.workspace).load()
    pair_01 = next(p for p in cohort.pairs if p.id == "pair-01")
    for member in pair_01.members:  # the demo matches its pairs: look the names up
        assert cohort.participant(member).name in page
    data = json.loads((demo_cohort.workspace / FACILITATOR / "data" / "pairs.json").read_text())
    pair = next(p for p in data["pairs"] if p["id"] == "pair-01")
    by_module = {c["module"]: c for c in pair["checkpoints"]}
    tech, management = by_module["t1-social-media"], by_module["m1-problem-solving"]
    assert tech["learner_role"] == "senior" and management["learner_role"] == "junior"
    # The demo's pair 1: the senior submitted full answers; the junior deleted a test cell.
    assert tech["auto_score"] == tech["auto_max"]
    assert 0 < management["auto_score"] < management["auto_max"]
    assert f"{tech['auto_score']:g} / {tech['auto_max']:g} (100%)" in page


def test_cohort_report_has_both_directions_a_chart_and_no_names(demo_cohort: DemoResult) -> None:
    page = (demo_cohort.workspace / PROGRAMME / "index.html").read_text()
    assert "seniors learning tech" in page and "juniors learning management" in page
    assert "data:image/png;base64," in page  # the matplotlib chart, embedded
    for section in (
        "Completion by session",
        "Mastery per competency",
        "Confidence against evidence",
        "Growth in both directions",
        "How the teaching landed",
    ):
        assert section in page
    programme = (demo_cohort.workspace / PROGRAMME / "data.json").read_text()
    for person in demo_cohort.roster.read_text().splitlines()[1:]:
        pid, name = person.split(",")[:2]
        assert pid not in page and name not in page
        assert pid not in programme and name not in programme


def test_groups_smaller_than_the_minimum_are_suppressed(demo_cohort: DemoResult) -> None:
    data = json.loads((demo_cohort.workspace / PROGRAMME / "data.json").read_text())
    assert data["min_group_size"] == 5
    for row in data["modules"]:
        assert row["n"] == "fewer than 5" and row["suppressed"] and row["mean_percent"] is None
    assert (
        "suppressed (fewer than 5 graded)"
        in (demo_cohort.workspace / PROGRAMME / "index.html").read_text()
    )


def test_pages_work_offline_and_hide_code(demo_cohort: DemoResult) -> None:
    pages = sorted((demo_cohort.workspace / "reports").rglob("*.html"))
    # index, programme, director, facilitator index, check-ins, ideas, 3 pair pages
    assert len(pages) == 9
    for page in pages:
        html = page.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), page
        assert "<script" not in html and "@import" not in html
        assert "import pandas" not in html and "read_json" not in html


def test_check_ins_reach_the_pair_report_and_only_shared_text(demo_cohort: DemoResult) -> None:
    data = json.loads((demo_cohort.workspace / FACILITATOR / "data" / "pairs.json").read_text())
    checkpoints = [c for p in data["pairs"] for c in p["checkpoints"]]
    rated = [c for c in checkpoints if c["self_assessment"]["before"]]
    assert rated, "the demo's learners rate themselves"
    for c in rated:
        for competency, before in c["self_assessment"]["before"].items():
            assert 1 <= before <= c["self_assessment"]["after"][competency] <= 5
    assert any(c["feedback_to_lead"] for c in checkpoints)
    shared = [r for c in checkpoints for r in c["shared_reflections"]]
    assert shared and all(r["text"] for r in shared)
    page = (demo_cohort.workspace / FACILITATOR / "pairs" / "pair-01.html").read_text()
    assert "Self-ratings, before and after" in page and "Feedback each lead received" in page
    assert "Sessions done: " in page
    programme = (demo_cohort.workspace / PROGRAMME / "data.json").read_text()
    for r in shared:
        assert r["text"] not in programme  # the programme report carries no free text


def test_a_damaged_check_in_is_listed_and_skipped(demo_cohort: DemoResult) -> None:
    assert len(demo_cohort.reports.checkin_problems) == 1
    [problem] = demo_cohort.reports.checkin_problems
    assert problem.path is not None and problem.path.name == "tandem_checkin.json"
    site = (demo_cohort.workspace / FACILITATOR / "index.html").read_text()
    assert "Check-ins skipped" in site and "Invalid JSON" in site


def _pairs_with_ratings(count: int) -> list[dict[str, object]]:
    return [
        {
            "checkpoints": [
                {
                    "module": "t1-social-media",
                    "track": "tech",
                    "learner": f"s{i}",
                    "status": "graded",
                    "auto_percent": 50.0 + i,
                    "manual_pending": False,
                    "self_assessment": {
                        "before": {"social-networking": 2},
                        "after": {"social-networking": 4},
                    },
                    "feedback_to_lead": {"clarity": 4, "relevance": 5, "pace": 3, "comment": "x"},
                    "shared_reflections": [],
                }
            ]
        }
        for i in range(count)
    ]


@pytest.mark.parametrize(("people", "suppressed"), [(4, True), (5, False)])
def test_growth_and_teaching_are_suppressed_below_five_people(
    demo_cohort: DemoResult, people: int, suppressed: bool
) -> None:
    from tandem.cohort.workspace import Workspace
    from tandem.reports.data import programme_data

    ws = Workspace(demo_cohort.workspace)
    cohort = ws.load()
    program = ws.program(cohort)
    module = program.module("t1-social-media")
    data = programme_data(cohort, program, [module], _pairs_with_ratings(people))
    [growth] = [g for g in data["growth"] if g["competency"] == "social-networking"]
    assert (growth["n"], growth["suppressed"]) == (
        "fewer than 5" if suppressed else people,
        suppressed,
    )
    assert growth["change"] == (None if suppressed else 2.0)
    [juniors] = [t for t in data["teaching"] if t["direction"] == "juniors teaching seniors"]
    assert juniors["clarity"] == (None if suppressed else 4.0)
    [row] = data["modules"]
    assert row["mean_percent"] == (None if suppressed else 52.0)


def test_the_check_in_list_gives_reasons(demo_cohort: DemoResult) -> None:
    data = json.loads((demo_cohort.workspace / FACILITATOR / "data" / "pairs.json").read_text())
    needed = {  # the safety pulse's flags are tested in test_outcomes_data.py
        c["pair"]: [r for r in c["reasons"] if ": safety pulse: " not in r]
        for c in data["checkins_needed"]
    }
    needed = {pair: reasons for pair, reasons in needed.items() if reasons}
    expected = {}
    for pair in data["pairs"]:
        reasons = []
        for c in pair["checkpoints"]:
            feedback = c["feedback_to_lead"] or {}
            scores = [feedback[a] for a in ("clarity", "relevance", "pace") if a in feedback]
            if scores and (min(scores) <= 1 or sum(scores) / len(scores) <= 2.5):
                reasons.append("low feedback")
        if reasons:
            expected[pair["id"]] = reasons
    assert set(needed) == set(expected)
    for pair_id, reasons in needed.items():
        assert len([r for r in reasons if r.startswith("low feedback")]) == len(expected[pair_id])
    page = (demo_cohort.workspace / FACILITATOR / "check-ins.html").read_text()
    for pair_id in needed:
        assert f"{pair_id}.html" in page
    programme = json.loads((demo_cohort.workspace / PROGRAMME / "data.json").read_text())
    assert programme["pairs_needing_checkin"] == "fewer than 5"  # 3 pairs: a small group


def test_check_in_reasons_from_known_data(tiny_cohort: Workspace) -> None:
    from datetime import datetime

    from tandem.cohort.release import set_due_date
    from tandem.reports.data import checkin_list

    ws = tiny_cohort
    cohort = ws.load()
    set_due_date(ws, cohort, "tiny-tech", datetime(2027, 3, 1, 23, 59, 59))

    def checkpoint(module: str, learner: str, status: str, **extra: object) -> dict[str, object]:
        return {
            "module": module,
            "title": module.title(),
            "learner": learner,
            "status": status,
            "feedback_to_lead": extra.get("feedback"),
            "self_assessment": extra.get("ratings", {"before": {}, "after": {}}),
        }

    pairs = [
        {
            "id": "pair-01",
            "junior": {"name": "Ada Junior"},
            "senior": {"name": "Sam Senior"},
            "checkpoints": [
                checkpoint("tiny-tech", "s1", "missing"),
                checkpoint(
                    "tiny-mgmt",
                    "j1",
                    "graded",
                    feedback={"clarity": 2, "relevance": 4, "pace": 1, "comment": ""},
                    ratings={"before": {"tiny-lead": 4}, "after": {"tiny-lead": 2}},
                ),
            ],
        },
        {
            "id": "pair-02",
            "junior": {"name": "Bo Junior"},
            "senior": {"name": "Kim Senior"},
            "checkpoints": [
                checkpoint(
                    "tiny-tech",
                    "s2",
                    "graded",
                    feedback={"clarity": 3, "relevance": 3, "pace": 3, "comment": ""},
                    ratings={"before": {"tiny-skill": 2}, "after": {"tiny-skill": 4}},
                ),
                checkpoint("tiny-mgmt", "j2", "missing"),
            ],
        },  # no due date: not yet missed
    ]
    before_due = checkin_list(
        ws, cohort, ws.program(cohort), pairs, now=datetime(2027, 3, 1, 12, 0)
    )
    after_due = checkin_list(ws, cohort, ws.program(cohort), pairs, now=datetime(2027, 3, 2, 9, 0))
    assert [c["pair"] for c in after_due] == ["pair-01"]
    assert after_due[0]["reasons"] == [
        "s1: Sam Senior has not submitted Tiny-Tech (due 01 Mar 2027)",
        "low feedback for the lead of Tiny-Mgmt: clarity 2, pace 1",
        "Ada Junior's self-ratings fell on Tiny-Mgmt: tiny-lead 4->2",
    ]
    assert len(before_due[0]["reasons"]) == 2  # nothing is missed before the due date


def test_teaching_ratings_are_suppressed_by_people_not_by_ratings() -> None:
    from tandem.reports.data import teaching_data

    many_ratings_few_people = [
        {
            "checkpoints": [
                {
                    "module": f"t{module}",
                    "track": "tech",
                    "learner": f"s{person}",
                    "feedback_to_lead": {"clarity": 5, "relevance": 5, "pace": 5},
                }
                for module in range(6)
            ]
        }
        for person in range(3)
    ]
    [juniors, _] = teaching_data([], many_ratings_few_people, 5)
    assert (juniors["n"], juniors["people"], juniors["suppressed"]) == (
        "fewer than 5 people",
        "fewer than 5",
        True,
    )
    assert juniors["clarity"] is None


@pytest.mark.slow  # real nbgrader autograding and papermill
def test_pair_pages_and_exports_show_autograded_plus_written_as_the_total(
    tiny_cohort: Workspace, tmp_path: Path
) -> None:
    """Once the written answer is graded by hand, its points count: autograded + written
    = total; until then it is "awaiting grading" and there is no total."""
    import csv

    from tandem.grading.checkpoints import grade_session
    from tandem.reports.build import build_reports
    from tandem.reports.export import export_cohort

    from ..factories import submit

    ws = tiny_cohort
    submit(ws, "s1", "tiny-tech", "full")  # pair-01's tech learner
    submit(ws, "s2", "tiny-tech", "full")  # pair-02's
    grade_session(ws.root, "s1")
    with ws.gradebook(ws.load()) as gradebook:  # what formgrader does with a grade by hand
        grade = gradebook.find_grade("explain", "checkpoint", "tiny-tech", "s1")
        grade.manual_score = 1
        grade.needs_manual_grade = False
        gradebook.db.commit()

    result = build_reports(ws.root)

    assert result.failed == []
    pages = ws.root / FACILITATOR / "pairs"
    graded = (pages / "pair-01.html").read_text(encoding="utf-8")
    assert "2 / 2 autograded + 1 / 1 written = 3 / 3 (100%)" in graded
    assert "awaiting grading" not in graded
    pending = (pages / "pair-02.html").read_text(encoding="utf-8")
    assert "2 / 2 (100%) autograded; written answer awaiting grading" in pending
    assert "written = " not in pending

    scores, *_ = export_cohort(ws.root, tmp_path / "out", "csv")
    with scores.open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["learner"]: r for r in csv.DictReader(handle) if r["module"] == "tiny-tech"}
    assert (float(rows["s1"]["total_score"]), float(rows["s1"]["total_max"])) == (3, 3)
    assert (rows["s2"]["total_score"], float(rows["s2"]["total_max"])) == ("", 3)
