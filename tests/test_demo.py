"""The demo: what it says about the check-in it damages on purpose, the facilitator's
site naming that file as the facilitator finds it in the workspace, and the two-way
outcomes it exercises (partner ratings, lead feedback, the pulse and its flags)."""

from __future__ import annotations

import html
from pathlib import Path

from tandem.cohort.exchange import read_checkins
from tandem.cohort.workspace import Workspace
from tandem.demo import run_demo
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


def test_the_demo_exercises_partner_ratings_lead_feedback_and_the_pulse(tmp_path: Path) -> None:
    """Three pairs, one session: every lead rates and (mostly) gives feedback, the last
    pair shares it; everyone answers the pulse in the management module; the first pair
    is flagged low, the second divergent, and in the third only the senior gained."""
    result = run_demo(tmp_path / "demo", pairs=3, sessions=1, curriculum=MANIFEST)
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
