"""No raw pulse value appears anywhere under ``reports/`` or in any export, and the lead's
feedback text appears on no page unless the lead offered it and the learner consented.

The cohort's pulses carry values a leak would show: distinctive safety scores (4/3, 13/3,
8/3, 10/3; the seniors' mean 23/6), found at any number of decimals; a marker in a field
of the pulse file; the items' ids and statements. The reports are built for real
(papermill), and every file under ``reports/``, the facilitator's exports and each
person's privacy export are read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tandem.cohort.exchange import write_checkin
from tandem.cohort.workspace import Workspace
from tandem.notebook.checkin import CheckIn, LeadFeedback
from tandem.notebook.pulse import PULSE_FILE, PULSE_ITEMS, Pulse
from tandem.reports.build import build_reports

from ..factories import run_cli

# answers -> safety scores 4/3 (j1), 13/3 (s1), 8/3 (j2), 10/3 (s2); by role 23/6 (seniors)
PULSES = {
    "j1": {"could-say": 1, "taken-seriously": 2, "held-back": 5},
    "s1": {"could-say": 5, "taken-seriously": 4, "held-back": 2},
    "j2": {"could-say": 2, "taken-seriously": 3, "held-back": 3},
    "s2": {"could-say": 3, "taken-seriously": 4, "held-back": 3},
}
SCORES = (4 / 3, 13 / 3, 8 / 3, 10 / 3, 23 / 6)
NUMBER = re.compile(r"(?<![\d.])\d\.(\d+)")
PRIVATE = "zq-private-sbi"  # lead feedback not offered to the facilitator
NO_CONSENT = "zq-no-consent-sbi"  # offered, but the learner did not consent
SHARED = "zq-shared-sbi"  # offered and consented: on pair-02's page only


def marker(person: str) -> str:
    return f"zq-pulse-marker-{person}"


def pulse_leaks(text: str, others_of: str | None = None) -> list[str]:
    """What of the cohort's pulses ``text`` shows (leaving out ``others_of``'s own)."""
    found = [marker(p) for p in PULSES if p != others_of and marker(p) in text]
    if others_of is None:
        found += [
            number.group()  # a score, however many decimals it is shown with
            for number in NUMBER.finditer(text)
            if any(round(s, len(number.group(1))) == float(number.group()) for s in SCORES)
        ]
        found += [item for item in PULSE_ITEMS if item in text]
        found += [statement for statement, _ in PULSE_ITEMS.values() if statement in text]
    return found


def _cohort(ws: Workspace) -> None:
    for person, answers in PULSES.items():
        pulse = Pulse(
            participant=person, cohort="c", session="s1", updated=marker(person), answers=answers
        )
        folder = ws.submission_dir(person, "tiny-mgmt")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PULSE_FILE).write_text(pulse.model_dump_json(), "utf-8")

    def feedback(text: str, offered: bool) -> LeadFeedback:
        return LeadFeedback(
            situation=f"{text} situation",
            behaviour=f"{text} behaviour",
            impact=f"{text} impact",
            try_next=f"{text} next",
            share_with_facilitator=offered,
        )

    checkins = [
        # pair-01: the junior leads tech and keeps the feedback to the learner; the senior
        # offers theirs, but the junior does not consent
        CheckIn(
            participant="s1",
            cohort="c",
            module="tiny-tech",
            self_assessment={"before": {"tiny-skill": 1}, "after": {"tiny-skill": 4}},
            feedback_consent=True,
        ),
        CheckIn(
            participant="j1",
            cohort="c",
            module="tiny-tech",
            partner_rating={"before": {"tiny-skill": 1}, "after": {"tiny-skill": 3}},
            lead_feedback=feedback(PRIVATE, offered=False),
        ),
        CheckIn(
            participant="j1",
            cohort="c",
            module="tiny-mgmt",
            self_assessment={"before": {"tiny-lead": 3}, "after": {"tiny-lead": 3}},
        ),
        CheckIn(
            participant="s1",
            cohort="c",
            module="tiny-mgmt",
            partner_rating={"before": {"tiny-lead": 2}, "after": {"tiny-lead": 2}},
            lead_feedback=feedback(NO_CONSENT, offered=True),
        ),
        # pair-02: offered and consented
        CheckIn(participant="s2", cohort="c", module="tiny-tech", feedback_consent=True),
        CheckIn(
            participant="j2",
            cohort="c",
            module="tiny-tech",
            partner_rating={"before": {"tiny-skill": 2}},  # no end rating yet
            lead_feedback=feedback(SHARED, offered=True),
        ),
    ]
    for checkin in checkins:
        write_checkin(ws.submission_dir(checkin.participant, checkin.module), checkin)


@pytest.mark.slow  # the report notebooks run in real kernels
def test_no_pulse_value_or_unshared_feedback_reaches_reports_or_exports(
    tiny_cohort: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pulse_leaks("a mean of 1.3, or 4.33, or 2.6666666666666665") == [
        "1.3",
        "4.33",
        "2.6666666666666665",
    ]
    assert pulse_leaks("growth +3.0, 1.00, 2.5, 3.5 and 4.0") == []
    ws = tiny_cohort
    _cohort(ws)
    result = build_reports(ws.root)
    assert not result.failed, [r.error for r in result.failed]
    code, _, err = run_cli(
        ["export", str(ws.root), "--format", "csv", "--out", str(tmp_path / "csv")], capsys
    )
    assert code == 0, err
    code, _, err = run_cli(
        ["export", str(ws.root), "--format", "json", "--out", str(tmp_path / "json")], capsys
    )
    assert code == 0, err
    exports = sorted((tmp_path / "csv").iterdir()) + sorted((tmp_path / "json").iterdir())
    assert len(exports) == 8  # scores, checkins, ideas, outcomes; CSV and JSON
    rows = json.loads((tmp_path / "json" / "checkins.json").read_text("utf-8"))
    given = [  # each lead's ratings of their learner, as rows of the lead
        (r["participant"], r["module"], r["role"], r["before"], r["after"])
        for r in rows
        if r["kind"] == "partner_rating"
    ]
    assert given == [
        ("j1", "tiny-tech", "lead", 1, 3),
        ("j2", "tiny-tech", "lead", 2, None),
        ("s1", "tiny-mgmt", "lead", 2, 2),
    ]

    reports = sorted(p for p in (ws.root / "reports").rglob("*") if p.is_file())
    assert len(reports) >= 6  # index, two sites' pages, two pair pages, data
    for path in reports + exports:
        text = path.read_text("utf-8", errors="replace")
        assert pulse_leaks(text) == [], path
        assert PRIVATE not in text and NO_CONSENT not in text, path
        if path.name != "pair-02.html" and path.name != "pairs.json":
            assert SHARED not in text, path

    for person in PULSES:  # a person's own export holds no one else's pulse
        out = tmp_path / f"{person}.json"
        code, _, err = run_cli(
            ["privacy", "export", person, "--workspace", str(ws.root), "--out", str(out)], capsys
        )
        assert code == 0, err
        assert pulse_leaks(out.read_text("utf-8"), others_of=person) == [], person

    facilitator = ws.root / "reports" / "facilitator"
    pair_01 = (facilitator / "pairs" / "pair-01.html").read_text("utf-8")
    pair_02 = (facilitator / "pairs" / "pair-02.html").read_text("utf-8")
    for page in (pair_01, pair_02):  # nothing of the pulse on a pair page
        assert "safety" not in page.lower() and "pulse" not in page.lower()
    assert "Lead&#x27;s rating after" in pair_01 or "Lead's rating after" in pair_01
    assert "<td>given</td>" in pair_02 and "<td>not yet</td>" in pair_02  # tech; management
    assert f"{SHARED} next" in pair_02
    assert "after the module" in pair_02  # j2 has not given the end rating yet
    checkins = (facilitator / "check-ins.html").read_text("utf-8")
    assert "s1: safety pulse: one partner reports low safety" in checkins
    assert "s1: safety pulse: the two partners&#x27; views diverge" in checkins
    programme = (ws.root / "reports" / "programme" / "index.html").read_text("utf-8")
    assert "Psychological safety, by role" in programme and "fewer than 5" in programme
    assert "Reciprocity across pairs" in programme and "Growth two ways" in programme
