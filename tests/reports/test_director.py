"""The director's one-page summary: its figures are the programme report's (the data they
are rendered from, and the numbers printed on both pages); ideas reach the pair pages and
the facilitator's site, every typed value escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tandem.cohort.workspace import Workspace
from tandem.notebook.checkin import CHECKIN_FILE, CheckIn, Feedback, Idea, LeadFeedback
from tandem.reports.build import build_reports
from tandem.reports.director import director_data, shown

from ..factories import submit

HOSTILE = "<script>alert(1)</script> & co"
FEEDBACK = LeadFeedback(situation="s", behaviour="b", impact="i", try_next="t")


def _write(ws: Workspace, person: str, module: str, **fields: object) -> None:
    checkin = CheckIn.model_validate(
        {"participant": person, "cohort": "c", "module": module, **fields}
    )
    (ws.submission_dir(person, module) / CHECKIN_FILE).write_text(checkin.model_dump_json())


@pytest.fixture
def reported(tiny_cohort: Workspace) -> Workspace:
    """The tiny cohort (two pairs) with min_group_size 2, every check-in written, an idea
    from each junior (one with a hostile title) and one adopted; reports built."""
    ws = tiny_cohort
    data = yaml.safe_load(ws.cohort_file.read_text(encoding="utf-8"))
    data["min_group_size"] = 2
    ws.cohort_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    for module, learners in (("tiny-tech", ("s1", "s2")), ("tiny-mgmt", ("j1", "j2"))):
        competency = "tiny-skill" if module == "tiny-tech" else "tiny-lead"
        for i, learner in enumerate(learners):
            lead = {"s1": "j1", "s2": "j2", "j1": "s1", "j2": "s2"}[learner]
            submit(ws, learner, module, "full")
            submit(ws, lead, module, "blank")
            _write(
                ws,
                learner,
                module,
                self_assessment={"before": {competency: 2}, "after": {competency: 3 + i}},
                feedback=Feedback(clarity=4 + i, relevance=4, pace=3),
            )
            ideas = []
            if module == "tiny-tech":
                title = HOSTILE if lead == "j1" else "Shared calendar for rotas"
                ideas = [Idea(id=f"idea-0000000{i}", title=title, benefit="fewer clashes")]
            _write(
                ws,
                lead,
                module,
                partner_rating={"before": {competency: 1}, "after": {competency: 3}},
                lead_feedback=FEEDBACK if module == "tiny-tech" else None,
                ideas=ideas,
            )
    (ws.root / "ideas.yml").write_text(
        "idea-00000000: {status: adopted, note: 'In use since May', updated: '2025-05-01'}\n"
    )
    result = build_reports(ws.root)
    assert result.failed == []
    return ws


def test_director_figures_are_the_programme_reports(reported: Workspace) -> None:
    programme_dir = reported.root / "reports" / "programme"
    programme = json.loads((programme_dir / "data.json").read_text())
    director = json.loads((programme_dir / "director.json").read_text())
    assert director == {**director_data(programme), "generated_at": programme["generated_at"]}
    summary = {r["direction"]: r for r in programme["summary"]}
    teaching = {r["direction"]: r for r in programme["teaching"]}
    tech = summary["seniors learning tech"]
    # known data: two senior learners, self growth 1 and 2, lead's-rating growth 2 and 2,
    # both leads gave feedback
    assert (tech["self_growth"], tech["partner_growth"], tech["feedback_given_percent"]) == (
        1.5,
        2.0,
        100,
    )
    [reaction, _] = director["reaction"]
    assert reaction["clarity"] == teaching["juniors teaching seniors"]["clarity"] == 4.5
    assert reaction["feedback_given_percent"] == 100
    assert director["learning"][0]["self_growth"] == 1.5
    assert director["ideas_total"] == programme["ideas_total"]
    # two ideas from two pairs; one adopted (one pair: fewer than 2), one awaiting (the same)
    assert director["ideas_total"] == {
        "raised": 2,
        "awaiting": "fewer than 2",
        "trialled": 0,
        "adopted": "fewer than 2",
        "declined": 0,
    }
    assert director["ideas_by_direction"] == programme["ideas_by_direction"]
    # and the numbers printed on the director page are printed on the programme report too
    director_page = (programme_dir / "director.html").read_text()
    report_page = (programme_dir / "index.html").read_text()
    assert 'href="director.html"' in report_page
    printed = [
        shown(reaction["clarity"], "", 1),
        shown(tech["self_growth"], "", 2),
        shown(tech["partner_growth"], "", 2),
        f"{tech['feedback_given_percent']}% of modules",
    ]
    for text in printed:
        assert text in director_page, text
        assert text in report_page, text


def test_ideas_reach_the_pair_pages_and_the_facilitators_list_escaped(reported: Workspace) -> None:
    site = reported.root / "reports" / "facilitator"
    ideas = (site / "ideas.html").read_text()
    assert HOSTILE not in ideas and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in ideas
    assert "Shared calendar for rotas" in ideas and "In use since May" in ideas
    assert 'href="ideas.html"' in (site / "index.html").read_text()
    pair1 = (site / "pairs" / "pair-01.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pair1 and "<script>alert(1)" not in pair1
    assert "adopted" in pair1 and "In use since May" in pair1
    pair2 = (site / "pairs" / "pair-02.html").read_text()
    assert "Shared calendar for rotas" in pair2 and "awaiting" in pair2
    assert "alert(1)" not in pair2  # a pair sees only its own ideas
    programme = (reported.root / "reports" / "programme").rglob("*")
    for path in programme:
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "alert(1)" not in text and "Shared calendar" not in text, path


def test_the_director_page_escapes_the_cohort_name(reported: Workspace) -> None:
    page = Path(reported.root / "reports" / "programme" / "director.html").read_text()
    assert "outcomes at a glance" in page and "<script" not in page
