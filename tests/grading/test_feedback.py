"""The released feedback carries the lead's ratings and feedback to the learner, and to no
one else: real nbgrader submit, collect, autograde, generate/release and fetch_feedback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tandem.cohort.exchange import collect_session, fetch, fetch_feedback, submit, write_checkin
from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import grade_session
from tandem.grading.feedback import release_feedback
from tandem.notebook.checkin import CheckIn, LeadFeedback

HOSTILE = "<script>alert('x')</script> & you <b>listened</b>"


def _checkin(ws: Workspace, person: str, module: str) -> CheckIn:
    course = ws.load().course_id
    checkin = CheckIn(participant=person, cohort=course, module=module)
    if (person, module) == ("s1", "tiny-mgmt"):  # s1 leads j1 on management
        checkin.partner_rating = {"before": {"tiny-lead": 2}, "after": {"tiny-lead": 4}}
        checkin.lead_feedback = LeadFeedback(
            situation="In our Tuesday meeting",
            behaviour=HOSTILE,
            impact="The team followed the plan.\nNobody was lost.",
            try_next="Ask one more question before deciding.",
        )
    if (person, module) == ("j1", "tiny-mgmt"):
        checkin.self_assessment = {"before": {"tiny-lead": 1}, "after": {"tiny-lead": 3}}
    if (person, module) == ("j1", "tiny-tech"):  # j1 leads s1 on tech: ratings only
        checkin.partner_rating = {"before": {"tiny-skill": 1}, "after": {"tiny-skill": 2}}
    return checkin


@pytest.fixture
def released(cohort_at: Callable[..., Workspace], tmp_path: Path) -> tuple[Workspace, Path]:
    """Two pairs through s1; only pair-01's leads rated and wrote feedback; graded and
    feedback released."""
    ws = cohort_at("released")
    homes = tmp_path / "homes"
    for person in ("j1", "s1", "j2", "s2"):
        for module in ("tiny-tech", "tiny-mgmt"):
            folder = fetch(ws, homes / person, module, person)
            write_checkin(folder, _checkin(ws, person, module))
            submit(ws, homes / person, module, person)
    collect_session(ws.root, "s1")
    grade_session(ws.root, "s1")
    result = release_feedback(ws.root, "s1", force=True)
    assert sorted(result.partner_pages) == [("tiny-mgmt", "j1"), ("tiny-tech", "s1")]
    assert result.unreachable == []
    return ws, homes


def test_the_learner_fetches_the_leads_feedback_and_ratings_beside_their_own(
    released: tuple[Workspace, Path],
) -> None:
    ws, homes = released
    pages = {p.name: p for p in fetch_feedback(ws, homes / "j1", "tiny-mgmt", "j1")}
    assert set(pages) == {"checkpoint.html", "tiny-mgmt.html"}
    page = pages["tiny-mgmt.html"].read_text("utf-8")
    assert "Feedback from your partner: Tiny management" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; you &lt;b&gt;listened" in page
    assert "<script>" not in page and "<b>listened" not in page
    assert "The team followed the plan.<br>Nobody was lost." in page
    assert "One thing to try next" in page and "Ask one more question" in page
    # competency | you before | you after | partner before | partner after
    assert "<td>A tiny management skill</td><td>1</td><td>3</td><td>2</td><td>4</td>" in page


def test_ratings_without_written_feedback_still_reach_the_learner(
    released: tuple[Workspace, Path],
) -> None:
    ws, homes = released
    pages = {p.name: p for p in fetch_feedback(ws, homes / "s1", "tiny-tech", "s1")}
    page = pages["tiny-tech.html"].read_text("utf-8")
    assert "<td>A tiny tech skill</td><td>-</td><td>-</td><td>1</td><td>2</td>" in page
    assert "did not write feedback" in page


def test_no_other_learner_receives_a_partners_page(released: tuple[Workspace, Path]) -> None:
    ws, homes = released
    fetch_feedback(ws, homes / "j1", "tiny-mgmt", "j1")
    for learner, module in (("j2", "tiny-mgmt"), ("s2", "tiny-tech")):  # their leads gave none
        names = [p.name for p in fetch_feedback(ws, homes / learner, module, learner)]
        assert names == ["checkpoint.html"], (learner, names)
    fetched = [p for p in homes.rglob("*.html") if "Tuesday meeting" in p.read_text("utf-8")]
    assert [p.relative_to(homes).parts[0] for p in fetched] == ["j1"]
    # in the facilitator's workspace the text sits only in j1's feedback folder (and the
    # lead's own submission), never in anyone else's
    holders = {
        "/".join(p.relative_to(ws.root).parts[:4])
        for p in ws.root.rglob("*")
        if p.is_file() and b"Tuesday meeting" in p.read_bytes()
    }
    released_page = {h for h in holders if h.startswith("exchange/cohort/feedback/")}
    assert len(released_page) == 1  # the published copy, named by nbgrader's secret hash
    lead_copies = {h for h in holders if h.startswith("exchange/cohort/inbound/s1+tiny-mgmt+")}
    assert holders - released_page - lead_copies == {
        "feedback/j1/tiny-mgmt/tiny-mgmt.html",
        "submitted/s1/tiny-mgmt/tandem_checkin.json",
    }, holders
