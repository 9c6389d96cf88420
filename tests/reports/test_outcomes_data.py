"""Two-way outcome data on known data: partner growth and agreement on the pair page,
reciprocity (a pair where only one side gained), pulse flags in the check-in list, and
the suppression of each new programme figure at 4 vs 5 people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tandem.cohort.exchange import write_checkin
from tandem.cohort.workspace import Workspace
from tandem.curriculum.manifest import load_program
from tandem.notebook.checkin import CheckIn, LeadFeedback
from tandem.notebook.pulse import PULSE_FILE, Pulse
from tandem.reports.build import build_report_data
from tandem.reports.outcomes_data import (
    SafetyScores,
    module_outcomes,
    reciprocity_bands,
    reciprocity_data,
    safety_by_role,
    two_way_growth,
)
from tandem.reports.suppression import Disclosure

from ..factories import synthetic_cohort

PROGRAM = load_program(Path(__file__).resolve().parents[2] / "curriculum" / "program.yml")
MODULE = PROGRAM.module("t1-social-media")
SAFE = {"could-say": 5, "taken-seriously": 5, "held-back": 1}  # score 5.0
UNSAFE = {"could-say": 2, "taken-seriously": 2, "held-back": 4}  # score 2.0
MIDDLING = {"could-say": 3, "taken-seriously": 3, "held-back": 3}  # score 3.0


def _checkin(participant: str, module: str, **fields: Any) -> CheckIn:
    return CheckIn(participant=participant, cohort="cohort", module=module, **fields)


FEEDBACK = LeadFeedback(
    situation="In the demo", behaviour="you paused", impact="I followed", try_next="ask more"
)


# Pair data ----------------------------------------------------------------------------
def test_partner_growth_and_agreement_sit_beside_the_self_ratings() -> None:
    learner = _checkin(
        "s1",
        "t1",
        self_assessment={"before": {"a": 2, "b": 3}, "after": {"a": 4, "b": 4}},
        feedback_consent=True,
    )
    lead = _checkin(
        "j1",
        "t1",
        partner_rating={"before": {"a": 1, "b": 2}, "after": {"a": 3, "b": 2}},
        lead_feedback=FEEDBACK,
    )
    out = module_outcomes(learner, lead)
    assert out["self_growth"] == 1.5
    assert out["partner_growth"] == 1.0  # (3 + 2) / 2 - (1 + 2) / 2
    assert out["agreement"] == 0.5  # a: 4 vs 3 agree; b: 4 vs 2 do not
    assert out["partner_rating"] == {"before": {"a": 1, "b": 2}, "after": {"a": 3, "b": 2}}
    assert out["partner_rating_pending"] is False
    # given, but not offered to the facilitator: "given", no text
    assert out["lead_feedback"] == {"given": True, "shared": False, "text": None}


def test_the_leads_rating_waits_for_the_end_of_module_rating() -> None:
    learner = _checkin("s1", "t1", self_assessment={"before": {"a": 2}})
    lead = _checkin("j1", "t1", partner_rating={"before": {"a": 1}})
    out = module_outcomes(learner, lead)
    assert out["partner_rating"] == {"before": {}, "after": {}}
    assert out["partner_rating_pending"] is True
    assert (out["partner_growth"], out["agreement"]) == (None, None)
    assert out["lead_feedback"] == {"given": False, "shared": False, "text": None}
    nothing = module_outcomes(None, None)
    assert nothing["partner_rating_pending"] is False and nothing["self_growth"] is None


@pytest.mark.parametrize(
    ("offered", "consent", "shown"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_lead_feedback_text_only_when_offered_and_consented(
    offered: bool, consent: bool, shown: bool
) -> None:
    learner = _checkin("s1", "t1", feedback_consent=consent)
    lead = _checkin(
        "j1", "t1", lead_feedback=FEEDBACK.model_copy(update={"share_with_facilitator": offered})
    )
    feedback = module_outcomes(learner, lead)["lead_feedback"]
    assert (feedback["given"], feedback["shared"]) == (True, shown)
    assert (feedback["text"] is not None) == shown
    if shown:
        assert feedback["text"]["try_next"] == "ask more"


def test_reciprocity_is_low_when_only_one_side_gained() -> None:
    # the senior gained in tech (self +1.5, lead's rating +2, 90%); the junior did not in
    # management (self 0, lead's rating -0.5, 40%): the worked example of docs/outcomes.md
    checkpoints = [
        {
            "track": "tech",
            "status": "graded",
            "auto_percent": 90.0,
            "self_growth": 1.5,
            "partner_growth": 2.0,
        },
        {
            "track": "management",
            "status": "graded",
            "auto_percent": 40.0,
            "self_growth": 0.0,
            "partner_growth": -0.5,
        },
    ]
    out = reciprocity_data(checkpoints)
    tech, management = out["directions"]
    assert tech["direction"] == "seniors learning tech"
    assert tech["parts"] == {"self growth": 0.75, "partner growth": 1.0, "mastery": 0.9}
    assert tech["gain"] == pytest.approx(2.65 / 3)
    assert management["parts"] == {"self growth": 0.0, "partner growth": 0.0, "mastery": 0.4}
    assert out["value"] == pytest.approx(0.4 / 3)  # the smaller side decides
    both = reciprocity_data(
        [
            {**c, "auto_percent": 90.0, "self_growth": 1.5, "partner_growth": 2.0}
            for c in checkpoints
        ]
    )
    assert both["value"] == pytest.approx(2.65 / 3)
    # a direction with nothing yet: no reciprocity, but the other side's parts are shown
    half = reciprocity_data(checkpoints[:1])
    assert half["value"] is None and half["directions"][0]["gain"] == pytest.approx(2.65 / 3)


# Pulses in the check-in list ----------------------------------------------------------
def _pulse(ws: Workspace, person: str, answers: dict[str, int], session: str = "s1") -> Path:
    folder = ws.submission_dir(person, "tiny-mgmt")
    folder.mkdir(parents=True, exist_ok=True)
    pulse = Pulse(participant=person, cohort="cohort", session=session, answers=answers)
    (folder / PULSE_FILE).write_text(pulse.model_dump_json(), "utf-8")
    return folder / PULSE_FILE


def test_pulse_flags_reach_the_check_in_list_with_their_kind_only(tiny_cohort: Workspace) -> None:
    ws = tiny_cohort
    _pulse(ws, "j1", UNSAFE)  # pair-01: low, and divergent from s1
    _pulse(ws, "s1", SAFE)
    _pulse(ws, "j2", MIDDLING)  # pair-02: 3.0 and 4.0: neither low nor divergent
    _pulse(ws, "s2", {"could-say": 4, "taken-seriously": 4, "held-back": 2})
    data = build_report_data(ws)
    assert data.checkins_needed == [
        {
            "pair": "pair-01",
            "junior": "Ada Junior",
            "senior": "Sam Senior",
            "reasons": [
                "s1: safety pulse: one partner reports low safety",
                "s1: safety pulse: the two partners' views diverge",
            ],
        }
    ]
    assert data.checkin_problems == []
    pairs = json.loads(data.sites.pairs_file.read_text("utf-8"))
    for pair in pairs["pairs"]:  # the pair pages' data: nothing of the pulse
        assert "pulse" not in json.dumps(pair) and "safety" not in json.dumps(pair)


def test_divergent_views_alone_are_flagged(tiny_cohort: Workspace) -> None:
    _pulse(tiny_cohort, "j2", MIDDLING)  # 3.0 against 5.0: not low, but 2 points apart
    _pulse(tiny_cohort, "s2", SAFE)
    needed = build_report_data(tiny_cohort).checkins_needed
    assert [(c["pair"], c["reasons"]) for c in needed] == [
        ("pair-02", ["s1: safety pulse: the two partners' views diverge"])
    ]


def test_a_bad_pulse_is_skipped_and_named_without_its_answers(tiny_cohort: Workspace) -> None:
    path = _pulse(tiny_cohort, "j1", UNSAFE)
    raw = json.loads(path.read_text("utf-8"))
    raw["answers"]["could-say"] = 9  # out of range
    path.write_text(json.dumps(raw), "utf-8")
    _pulse(tiny_cohort, "s1", UNSAFE, session="s9")  # filed under the wrong session
    data = build_report_data(tiny_cohort)
    assert data.checkins_needed == []  # neither pulse counts
    assert sorted(str(p.path) for p in data.checkin_problems) == [
        str(path),
        str(tiny_cohort.submission_dir("s1", "tiny-mgmt") / PULSE_FILE),
    ]
    assert [p.message for p in data.checkin_problems] == [  # no answer quoted
        "invalid pulse file",
        "pulse file is not for session s1",
    ]
    assert data.checkin_problems[0].where == "answers"
    site = json.loads(data.sites.pairs_file.read_text("utf-8"))
    assert site["checkins_needed"] == []


def test_a_partners_rating_reaches_the_pair_data_from_the_leads_check_in(
    tiny_cohort: Workspace,
) -> None:
    ws = tiny_cohort
    for checkin in (
        _checkin(
            "s1",
            "tiny-tech",
            self_assessment={"before": {"tiny-skill": 1}, "after": {"tiny-skill": 3}},
        ),
        _checkin(
            "j1",
            "tiny-tech",
            partner_rating={"before": {"tiny-skill": 2}, "after": {"tiny-skill": 4}},
            lead_feedback=FEEDBACK,
        ),
    ):
        write_checkin(ws.submission_dir(checkin.participant, checkin.module), checkin)
    data = build_report_data(ws)
    pairs = json.loads(data.sites.pairs_file.read_text("utf-8"))["pairs"]
    [tech] = [c for c in pairs[0]["checkpoints"] if c["module"] == "tiny-tech"]
    assert (tech["self_growth"], tech["partner_growth"], tech["agreement"]) == (2.0, 2.0, 1.0)
    assert tech["lead_feedback"] == {"given": True, "shared": False, "text": None}
    assert "you paused" not in data.sites.pairs_file.read_text("utf-8")
    assert pairs[0]["reciprocity"]["directions"][0]["parts"]["partner growth"] == 1.0
    assert data.checkins_needed == []  # no lead feedback is not a reason for a check-in


# Programme figures: suppression at 4 vs 5 people ---------------------------------------


def _rated_pairs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"pair-{i:02d}",
            "checkpoints": [
                {
                    "module": MODULE.id,
                    "learner": f"s{i}",
                    "self_assessment": {
                        "before": {"social-networking": 2},
                        "after": {"social-networking": 4},
                    },
                    "partner_rating": {
                        "before": {"social-networking": 1},
                        "after": {"social-networking": 2 + i % 2},
                    },
                }
            ],
        }
        for i in range(count)
    ]


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_growth_two_ways_and_agreement_are_suppressed_below_five(people: int, shown: bool) -> None:
    [row, *_] = two_way_growth(PROGRAM, [MODULE], _rated_pairs(people), Disclosure(5))
    assert row["competency"] == "social-networking"
    assert row["direction"] == "seniors learning tech"
    if shown:  # partner ratings after: 2, 3, 2, 3, 2 -> growth 1.4; within a point of 4: 2
        assert (row["self_n"], row["self_change"]) == (5, 2.0)
        assert (row["partner_n"], row["partner_change"]) == (5, 1.4)
        assert (row["agreement_n"], row["agreement"]) == (5, 0.4)
    else:
        assert row["self_n"] == row["partner_n"] == row["agreement_n"] == "fewer than 5"
        assert row["self_change"] is row["partner_change"] is row["agreement"] is None


def _pairs_with_reciprocity(values: list[float | None]) -> list[dict[str, Any]]:
    return [{"id": f"pair-{i:02d}", "reciprocity": {"value": v}} for i, v in enumerate(values)]


def _bands(values: list[float | None]) -> dict[str, Any]:
    return {
        r["band"]: r["pairs"]
        for r in reciprocity_bands(_pairs_with_reciprocity(values), Disclosure(5))
    }


def test_reciprocity_bands_are_suppressed_below_five_pairs() -> None:
    # 4 pairs, all in one band: that band is small, and an empty band beside a total of
    # 4 would tell where the 4 are
    assert _bands([0.8] * 4) == {
        "0 to 0.25": "not shown",
        "0.25 to 0.5": "not shown",
        "0.5 to 0.75": "not shown",
        "0.75 to 1": "fewer than 5",
        "not known yet": "not shown",
    }
    assert _bands([0.8] * 4 + [1.0]) == {
        "0 to 0.25": 0,
        "0.25 to 0.5": 0,
        "0.5 to 0.75": 0,
        "0.75 to 1": 5,
        "not known yet": 0,
    }
    assert _bands([0.1] * 5 + [0.6] * 5)["0.5 to 0.75"] == 5


def test_a_small_reciprocity_band_cannot_be_worked_out_by_subtraction() -> None:
    # 9 pairs, 6 in one band and 3 in another: "6" would tell the other 3 by subtraction
    bands = _bands([0.3] * 6 + [0.9] * 3)
    assert bands["0.75 to 1"] == "fewer than 5"
    assert bands["0.25 to 0.5"] == "not shown"
    # 5 + 1 + 4: the two small bands together are 5: the large band can be shown
    bands = _bands([0.3] * 5 + [0.9] + [None] * 4)
    assert bands["0.25 to 0.5"] == 5
    assert bands["0.75 to 1"] == bands["not known yet"] == "fewer than 5"
    # 6 + 1 + 5: withholding the 1 leaves the 5 and the 6; the smaller (5) goes with it
    bands = _bands([0.3] * 6 + [0.9] + [None] * 5)
    assert bands == {
        "0 to 0.25": 0,
        "0.25 to 0.5": 6,
        "0.5 to 0.75": 0,
        "0.75 to 1": "fewer than 5",
        "not known yet": "not shown",
    }


@pytest.mark.parametrize(("people", "shown"), [(4, False), (5, True)])
def test_mean_safety_by_role_is_suppressed_below_five_people(people: int, shown: bool) -> None:
    cohort = synthetic_cohort(people)
    juniors = {f"j{i}": 2.0 + i * 0.5 for i in range(people)}  # 2.0, 2.5, ... 4.0
    seniors = {f"s{i}": 4.0 for i in range(people)}
    safety = SafetyScores({"session-01": {**juniors, **seniors}})
    junior, senior = safety_by_role(cohort, safety, Disclosure(5))
    if shown:
        assert junior == {"role": "junior", "people": 5, "mean": 3.0}
        assert senior == {"role": "senior", "people": 5, "mean": 4.0}
    else:
        assert junior == {"role": "junior", "people": "fewer than 5", "mean": None}
        assert senior["mean"] is None


def test_safety_by_role_counts_people_not_pulses_and_hides_one_missing() -> None:
    cohort = synthetic_cohort(6)
    sessions = {f"session-0{s}": {f"j{i}": 1.0 + s for i in range(5)} | {"s0": 5.0} for s in (1, 2)}
    junior, senior = safety_by_role(cohort, SafetyScores(sessions), Disclosure(5))
    # each junior's mean over two sessions is 2.5; one junior of six did not answer
    assert junior == {"role": "junior", "people": "not shown", "mean": 2.5}
    assert senior == {"role": "senior", "people": "fewer than 5", "mean": None}
