"""The demo: what it says about the check-in it damages on purpose, the facilitator's
site naming that file as the facilitator finds it in the workspace, the two-way
outcomes it exercises (partner ratings, lead feedback, the pulse and its flags) and the
behaviour (ideas and what became of them, the follow-up three months on)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tandem.cohort.exchange import read_checkins
from tandem.cohort.ideas import list_ideas, load_records
from tandem.cohort.workspace import Workspace
from tandem.demo import DemoResult, run_demo
from tandem.demo_behaviour import idea_plan
from tandem.grading.scores import read_scores
from tandem.notebook.checkin import CHECKIN_FILE
from tandem.notebook.pulse import PULSE_FILE, read_pulse
from tandem.reports.outcomes import Gain, growth, pulse_flags, reciprocity, safety_score

from .conftest import MANIFEST


def test_the_deliberately_damaged_check_in_is_reported_as_deliberate_and_relative(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    result = run_demo(
        tmp_path / "demo", pairs=1, sessions=1, curriculum=MANIFEST, progress=said.append
    )

    [skipped] = [line for line in said if "check-in skipped" in line]
    assert skipped.startswith(
        "  check-in skipped, as intended (the demo damaged this file on purpose, to show "
        "that a bad check-in is reported and the rest still counts): "
    )
    [problem] = result.reports.checkin_problems
    assert problem.path is not None
    relative = problem.path.resolve().relative_to(result.workspace.resolve()).as_posix()
    site = (result.workspace / "reports" / "facilitator" / "index.html").read_text()
    section = site[site.index("Check-ins skipped") :]
    assert f"<li>{relative}: Invalid JSON" in section
    assert str(result.workspace.resolve()) not in section
    assert str(tmp_path) not in section


@pytest.fixture(scope="module")
def three_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, list[str]]:
    """The demo with three pairs and one session (built once), and what it said."""
    said: list[str] = []
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = run_demo(out, pairs=3, sessions=1, curriculum=MANIFEST, progress=said.append)
    return result, said


def test_the_demo_exercises_partner_ratings_lead_feedback_and_the_pulse(
    three_pairs: tuple[DemoResult, list[str]],
) -> None:
    """Three pairs, one session: every lead rates and (mostly) gives feedback, the last
    pair shares it; everyone answers the pulse in the management module; the first pair
    is flagged low, the second divergent, and in the third only the senior gained."""
    result, _ = three_pairs
    ws = Workspace(result.workspace)
    cohort = ws.load()
    program = ws.program(cohort)
    session = program.sessions[0]
    checkins = {m.track: read_checkins(ws, cohort, m.id)[0] for m in session.modules}
    modules = {m.track: m for m in session.modules}
    gains: dict[str, dict[str, Gain]] = {}
    scores = read_scores(ws, cohort, [m.id for m in session.modules])
    flags = {}
    given: list[bool] = []  # per feedback given: shared with the facilitator by both?
    for index, pair in enumerate(cohort.pairs):
        gains[pair.id] = {}
        for track, module in modules.items():
            lead, learner = pair.member(module.lead), pair.member(module.learner)
            led = checkins[track].get(lead)
            if led is not None:  # the demo damages one lead's check-in on purpose
                assert set(led.partner_rating) == {"before", "after"}
                assert set(led.partner_rating["before"]) == set(module.competencies)
            own = checkins[track][learner]
            assert own.self_assessment and own.lead_feedback is None
            if led is not None and led.lead_feedback is not None:
                given.append(led.lead_feedback.share_with_facilitator and own.feedback_consent)
            score = scores.get((module.id, learner))
            gains[pair.id][module.learner] = Gain(
                growth(own.self_assessment["before"], own.self_assessment["after"]),
                growth(led.partner_rating["before"], led.partner_rating["after"]) if led else None,
                score.auto_percent if score else None,
            )
        pulses = []
        for member in pair.members:
            tech, management = (
                ws.submission_dir(member, modules[t].id) for t in ("tech", "management")
            )
            assert not (tech / PULSE_FILE).exists()  # one pulse per session, in management
            pulse = read_pulse(management / PULSE_FILE, participant=member)
            assert pulse.session == session.id and pulse.complete
            assert "answers" not in (management / CHECKIN_FILE).read_text("utf-8")
            pulses.append(safety_score(pulse.answers))
        flags[index] = pulse_flags(*pulses)
    assert len(given) >= 3 and 0 < sum(given) < len(given)  # some shared, most not
    assert "one partner reports low safety" in flags[0]
    assert flags[1] == ["the two partners' views diverge"]
    assert flags[2] == []
    one_sided = gains[cohort.pairs[2].id]
    assert one_sided["junior"].value == 0.0  # no rise in ratings, a blank checkpoint
    assert (one_sided["senior"].value or 0) > 0
    assert reciprocity([one_sided["junior"], one_sided["senior"]]) == 0.0
    # the first session's feedback reaches each learner with the lead's page beside it
    module = modules["management"]
    learner = cohort.pairs[0].member(module.learner)
    fetched = result.workspace.parent / "participants" / learner / module.id / "feedback"
    pages = {p.name for p in fetched.glob("*/*.html")}
    assert pages == {"checkpoint.html", f"{module.id}.html"}
    lead_page = next(fetched.glob(f"*/{module.id}.html")).read_text("utf-8")
    lead = checkins["management"][cohort.pairs[0].member(module.lead)]
    assert lead.lead_feedback is not None
    assert html.escape(lead.lead_feedback.try_next) in lead_page


def test_the_demo_records_ideas_their_outcomes_and_the_follow_up_and_reports_them(
    three_pairs: tuple[DemoResult, list[str]],
) -> None:
    """Three pairs, one session: a junior records ideas in the tech module they lead, a
    senior in the management one, under reproducible ids; the facilitator records one
    adopted, one trialled and one declined, each with a note; everyone answers the
    follow-up, which is collected; the pair pages list the pair's ideas and answers, and
    the director's page has both behaviour sections (suppressed: 3 pairs are under 5)."""
    result, said = three_pairs
    ws = Workspace(result.workspace)
    cohort = ws.load()
    program = ws.program(cohort)
    tracks = {m.id: m.track for m in program.sessions[0].modules}
    ideas = list_ideas(ws)
    assert {(r.role, tracks[r.module_id]) for r in ideas} == {
        ("junior", "tech"),
        ("senior", "management"),
    }
    assert sum(r.role == "junior" for r in ideas) > sum(r.role == "senior" for r in ideas)
    planned = idea_plan(cohort, program).ideas.items()  # the whole programme's
    assert {r.idea.id for r in ideas} == {i.id for (_, m), f in planned if m in tracks for i in f}
    assert all(re.fullmatch(r"idea-[0-9a-f]{8}", r.idea.id) for r in ideas)
    assert sorted(r.status for r in ideas) == ["adopted", "declined", "trialled"]
    records = load_records(ws)
    assert all(records[r.idea.id].note == r.note != "" for r in ideas)
    assert "ideas: 3 recorded (2 from juniors, 1 from seniors); 1 adopted, 1 trialled" in (
        "\n".join(said)
    )
    # the follow-up three months on: released, answered by everyone, collected
    followup = program.followup
    assert followup is not None and cohort.followup_released is not None
    answers, problems = read_checkins(ws, cohort, followup.id)
    members = [m for pair in cohort.pairs for m in pair.members]
    assert not problems and sorted(answers) == sorted(members)
    given = [a.followup for a in answers.values() if a.followup is not None]
    assert len(given) == len(members)
    assert all(g.still_use is not None and g.partner_uses is not None for g in given)
    assert sum(g.still_use or 0 for g in given) / len(given) >= 3  # mostly positive
    assert len({g.example for g in given}) > 2
    assert (
        f"follow-up three months on ({followup.id}): released, answered by 6 of 6, collected"
        in said
    )
    # the reports: each pair page lists the pair's ideas and follow-up answers
    reports = result.workspace / "reports"
    for pair in cohort.pairs:
        page = (reports / "facilitator" / "pairs" / f"{pair.id}.html").read_text("utf-8")
        own = [r for r in ideas if r.pair_id == pair.id]
        assert ("No idea recorded yet." in page) == (not own)
        for row in own:
            assert html.escape(row.idea.title) in page and html.escape(row.note) in page
        assert "Three months on" in page
        for member in pair.members:
            example = answers[member].followup.example  # type: ignore[union-attr]
            assert not example or html.escape(example) in page
    listing = (reports / "facilitator" / "ideas.html").read_text("utf-8")
    assert all(r.idea.id in listing for r in ideas)
    # the director's page, linked from the programme report: every figure is suppressed
    # with 3 pairs (fewer than 5), but both behaviour sections are there
    programme = (reports / "programme" / "index.html").read_text("utf-8")
    assert 'href="director.html"' in programme
    director = (reports / "programme" / "director.html").read_text("utf-8")
    data = json.loads((reports / "programme" / "director.json").read_text("utf-8"))
    assert "Behaviour: ideas from fresh eyes" in director
    assert "Behaviour: three months on" in director and "No follow-up yet" not in director
    assert [r["direction"] for r in data["followup"]] == [
        "seniors learning tech",
        "juniors learning management",
    ]
    assert all(r["still_use"] is None for r in data["followup"])  # 3 people per direction
    assert data["ideas_total"]["raised"] == data["ideas_total"]["adopted"] == "fewer than 5"
    assert "<tr><td>all</td><td>fewer than 5</td>" in director  # ideas raised, all of them
    assert director.count("<td>fewer than 5</td>") >= 8
