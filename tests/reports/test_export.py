"""Facilitator exports of a graded tiny cohort: exact scores and check-ins, CSV cells made
safe for spreadsheets (numbers left numeric), JSON kept as is."""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tandem.cohort.exchange import write_checkin
from tandem.cohort.membership import withdraw
from tandem.cohort.release import set_due_date
from tandem.cohort.workspace import Workspace
from tandem.errors import CohortError, ReportError, UsageError
from tandem.fsutil import atomic_write_json, atomic_write_text
from tandem.grading.checkpoints import grade_session
from tandem.notebook.checkin import CheckIn, Feedback
from tandem.reports.export import (
    CHECKIN_COLUMNS,
    SCORE_COLUMNS,
    csv_text,
    export_cohort,
    export_log_path,
    neutralise,
    read_export_log,
)

from ..factories import submit

pytestmark = pytest.mark.slow  # real nbgrader autograding

HYPERLINK = '=HYPERLINK("http://x")'


def _checkin(participant: str, module: str, **fields: Any) -> CheckIn:
    return CheckIn(participant=participant, cohort="cohort", module=module, **fields)


@pytest.fixture
def cohort_root(cohort_at: Callable[..., Workspace]) -> Path:
    """Pairs (j1, s1) and (j2, s2) after session s1: graded, partly graded by hand, late,
    one submission not yet graded, one missing; check-ins with formula-like text."""
    ws = cohort_at("released")
    root = ws.root
    cohort = ws.load()
    set_due_date(ws, cohort, "tiny-tech", datetime(2020, 1, 1))
    submit(
        ws, "s1", "tiny-tech", "full", stamp="2019-12-31 12:00:00.000000 UTC", checkpoint_only=True
    )
    submit(
        ws, "s2", "tiny-tech", "blank", stamp="2020-01-02 12:00:00.000000 UTC", checkpoint_only=True
    )
    submit(
        ws, "j1", "tiny-mgmt", "full", stamp="2019-12-31 12:00:00.000000 UTC", checkpoint_only=True
    )
    grade_session(root, "s1")
    with ws.gradebook(cohort) as gradebook:  # what formgrader does with a manual grade
        grade = gradebook.find_grade("explain", "checkpoint", "tiny-tech", "s1")
        grade.manual_score = 1
        grade.needs_manual_grade = False
        gradebook.db.commit()
    submit(
        ws, "j2", "tiny-mgmt", "full", stamp="2019-12-31 13:00:00.000000 UTC", checkpoint_only=True
    )  # after grading

    checkins = [
        _checkin(
            "s1",
            "tiny-tech",
            self_assessment={"before": {"tiny-skill": 2}, "after": {"tiny-skill": 4}},
            feedback=Feedback(clarity=5, relevance=4, pace=3, comment="+44 20 7946 0000"),
            shared_reflections={"tiny-tech-takeaway": HYPERLINK},
        ),
        _checkin("j1", "tiny-tech", shared_reflections={"tiny-tech-lead": "-cmd"}),
        _checkin(
            "j1",
            "tiny-mgmt",
            self_assessment={"before": {"tiny-lead": 1}, "after": {"tiny-lead": 3}},
            feedback=Feedback(clarity=4, pace=2, comment="@SUM(A1)"),
            shared_reflections={"tab": "\tindented", "cr": "\rreturn", "plain": "a - b"},
        ),
        _checkin("s2", "tiny-tech", self_assessment={"before": {"tiny-skill": 1}}),
    ]
    for checkin in checkins:
        write_checkin(ws.submission_dir(checkin.participant, checkin.module), checkin)
    return root


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_scores_csv_holds_each_pair_and_module_exactly(cohort_root: Path, tmp_path: Path) -> None:
    scores, checkins, *_ = export_cohort(cohort_root, tmp_path / "out", "csv")
    assert (scores, checkins) == (tmp_path / "out/scores.csv", tmp_path / "out/checkins.csv")
    with scores.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(SCORE_COLUMNS)
    rows = {(r["pair"], r["module"]): r for r in _read_csv(scores)}
    assert list(rows) == [
        ("pair-01", "tiny-tech"),
        ("pair-01", "tiny-mgmt"),
        ("pair-02", "tiny-tech"),
        ("pair-02", "tiny-mgmt"),
    ]
    s1 = rows["pair-01", "tiny-tech"]
    assert (s1["session"], s1["track"], s1["learner"], s1["learner_name"]) == (
        "s1",
        "tech",
        "s1",
        "Sam Senior",
    )
    assert (s1["learner_role"], s1["status"], s1["late"]) == ("senior", "graded", "False")
    numbers = ("auto_score", "auto_max", "written_score", "written_max")
    assert [float(s1[c]) for c in numbers] == [2, 2, 1, 1]
    assert s1["written_pending"] == "False"
    j1 = rows["pair-01", "tiny-mgmt"]
    assert (j1["learner"], j1["learner_role"], j1["status"]) == ("j1", "junior", "graded")
    assert [float(j1["auto_score"]), float(j1["auto_max"]), float(j1["written_max"])] == [2, 2, 1]
    assert (j1["written_score"], j1["written_pending"]) == ("", "True")
    s2 = rows["pair-02", "tiny-tech"]
    assert (s2["status"], s2["late"], float(s2["auto_score"]), float(s2["auto_max"])) == (
        "graded",
        "True",
        0,
        2,
    )
    j2 = rows["pair-02", "tiny-mgmt"]
    assert (j2["status"], j2["auto_score"], j2["written_pending"]) == ("submitted", "", "False")


def test_checkins_csv_neutralises_formulas_and_keeps_numbers(
    cohort_root: Path, tmp_path: Path
) -> None:
    _, path, *_ = export_cohort(cohort_root, tmp_path, "csv")
    rows = _read_csv(path)
    assert list(rows[0]) == list(CHECKIN_COLUMNS)
    by_kind = {(r["participant"], r["module"], r["kind"], r["prompt"]): r for r in rows}
    assert len(by_kind) == len(rows) == 12
    s1 = by_kind["s1", "tiny-tech", "checkin", ""]
    assert (s1["name"], s1["role"]) == ("Sam Senior", "learner")
    assert [int(s1[a]) for a in ("clarity", "relevance", "pace")] == [5, 4, 3]
    assert s1["comment"] == "'+44 20 7946 0000"
    rating = by_kind["s1", "tiny-tech", "rating", ""]
    assert (rating["competency"], int(rating["before"]), int(rating["after"])) == (
        "tiny-skill",
        2,
        4,
    )
    assert by_kind["s1", "tiny-tech", "reflection", "tiny-tech-takeaway"]["text"] == "'" + HYPERLINK
    lead = by_kind["j1", "tiny-tech", "checkin", ""]
    assert (lead["role"], lead["clarity"], lead["comment"]) == ("lead", "", "")
    assert by_kind["j1", "tiny-tech", "reflection", "tiny-tech-lead"]["text"] == "'-cmd"
    j1 = by_kind["j1", "tiny-mgmt", "checkin", ""]
    assert (j1["clarity"], j1["relevance"], j1["pace"], j1["comment"]) == (
        "4",
        "",
        "2",
        "'@SUM(A1)",
    )
    texts = {p: by_kind["j1", "tiny-mgmt", "reflection", p]["text"] for p in ("tab", "cr", "plain")}
    assert texts == {"tab": "'\tindented", "cr": "'\rreturn", "plain": "a - b"}
    s2 = by_kind["s2", "tiny-tech", "rating", ""]
    assert (s2["before"], s2["after"]) == ("1", "")
    assert not [r for r in rows if r["participant"] == "j2"]  # submitted, but no check-in
    assert [r["kind"] for r in rows if r["participant"] == "s1"] == [
        "checkin",
        "rating",
        "reflection",
    ]


def test_json_keeps_values_as_they_are(cohort_root: Path, tmp_path: Path) -> None:
    scores, checkins, *_ = export_cohort(cohort_root, tmp_path / "json", "json")
    assert scores.name == "scores.json" and checkins.name == "checkins.json"
    score_rows = json.loads(scores.read_text("utf-8"))
    assert [list(r) for r in score_rows] == [list(SCORE_COLUMNS)] * 4
    s1 = score_rows[0]
    assert (s1["auto_score"], s1["auto_max"], s1["written_score"], s1["late"]) == (2, 2, 1, False)
    assert score_rows[3]["status"] == "submitted" and score_rows[3]["auto_score"] is None
    rows = json.loads(checkins.read_text("utf-8"))
    texts = {r["text"] for r in rows if r["kind"] == "reflection"}
    assert {HYPERLINK, "-cmd", "\tindented", "\rreturn"} <= texts
    feedback = [r for r in rows if r["kind"] == "checkin" and r["participant"] == "s1"]
    assert [(r["clarity"], r["comment"]) for r in feedback] == [(5, "+44 20 7946 0000")]
    assert not [r for r in rows if r["participant"] == "j2"]


def test_withdrawn_participants_and_former_pairs_are_left_out(
    cohort_root: Path, tmp_path: Path
) -> None:
    withdraw(cohort_root, "s2")
    scores, checkins, *_ = export_cohort(cohort_root, tmp_path, "json")
    assert {r["pair"] for r in json.loads(scores.read_text("utf-8"))} == {"pair-01"}
    assert {r["participant"] for r in json.loads(checkins.read_text("utf-8"))} == {"s1", "j1"}


def test_only_text_is_neutralised() -> None:
    assert [neutralise(v) for v in (-1.5, -2, 0, None, True)] == [-1.5, -2, 0, None, True]
    assert neutralise("-1.5") == "'-1.5"  # text that looks like a number is still text
    assert neutralise("Sam = senior") == "Sam = senior"
    text = csv_text(["name", "score"], [{"name": "=1+1", "score": -3.5}])
    assert text == "\ufeffname,score\r\n'=1+1,-3.5\r\n"


def test_a_folder_that_is_not_a_cohort_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CohortError, match="not a cohort workspace"):
        export_cohort(tmp_path, tmp_path / "exports", "csv")
    assert not (tmp_path / "exports").exists()


def test_out_must_be_a_folder(tmp_path: Path, cohort_at: Callable[..., Workspace]) -> None:
    ws = cohort_at("initialised")
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(ReportError, match="cannot write the export"):
        export_cohort(ws.root, tmp_path / "taken", "csv")
    assert (tmp_path / "taken").read_text() == "a file"


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="choose csv or json"):
        export_cohort(tmp_path, tmp_path / "out", "xlsx")  # type: ignore[arg-type]


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask-022", "umask-077"])
def test_exports_are_owner_only_and_other_files_follow_the_umask(
    tmp_path: Path, cohort_at: Callable[..., Workspace], umask: int
) -> None:
    ws = cohort_at("released")
    before = os.umask(umask)
    try:
        written = export_cohort(ws.root, tmp_path / "out", "csv")
        atomic_write_text(tmp_path / "ordinary.txt", "not personal")
        atomic_write_json(tmp_path / "ordinary.json", {})
    finally:
        os.umask(before)
    assert [stat.S_IMODE(p.stat().st_mode) for p in written] == [0o600] * 4
    for name in ("ordinary.txt", "ordinary.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


def test_where_exports_were_written_is_logged_in_the_workspace(
    tmp_path: Path, cohort_at: Callable[..., Workspace]
) -> None:
    ws = cohort_at("released")
    written = export_cohort(ws.root, tmp_path / "elsewhere", "json")
    export_cohort(ws.root, tmp_path / "elsewhere", "json")  # again: one entry per file
    log = read_export_log(ws)
    assert [e["path"] for e in log] == [str(p.resolve()) for p in written]
    assert {e["kind"] for e in log} == {"cohort"}
    assert stat.S_IMODE(export_log_path(ws).stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_ideas_and_the_directors_figures_are_exported(cohort_root: Path, tmp_path: Path) -> None:
    """Ideas as the pair pages list them (formula-like text neutralised in CSV), and the
    director page's figures as the programme report computes them, suppressed the same."""
    from tandem.notebook.checkin import Idea
    from tandem.reports.build import build_report_data
    from tandem.reports.director import DIRECTOR_COLUMNS

    ws = Workspace(cohort_root)
    folder = ws.submission_dir("j1", "tiny-tech")
    idea = Idea(id="idea-0badcafe", title="=HYPERLINK(1)", theme="operations and logistics")
    write_checkin(folder, _checkin("j1", "tiny-tech", ideas=[idea]))
    atomic_write_text(ws.root / "ideas.yml", "idea-0badcafe: {status: adopted, note: In May}\n")

    paths = export_cohort(cohort_root, tmp_path / "csv", "csv")
    assert [p.name for p in paths] == ["scores.csv", "checkins.csv", "ideas.csv", "outcomes.csv"]
    [row] = _read_csv(paths[2])
    assert (row["id"], row["title"], row["direction"], row["pair"]) == (
        "idea-0badcafe", "'=HYPERLINK(1)", "from the junior", "pair-01"
    )  # fmt: skip
    assert (row["status"], row["note"]) == ("adopted", "In May")

    json_paths = export_cohort(cohort_root, tmp_path / "json", "json")
    outcomes = json.loads(json_paths[3].read_text("utf-8"))
    assert outcomes and all(list(r) == list(DIRECTOR_COLUMNS) for r in outcomes)
    build_report_data(ws)
    director = json.loads((ws.folder("reports") / "programme" / "director.json").read_text())
    adopted = [
        r for r in outcomes if r["section"] == "behaviour: ideas" and r["direction"] == "all"
    ]
    shown = {r["figure"]: r["value"] for r in adopted}
    fewer = f"fewer than {director['min_group_size']}"
    for status in ("raised", "adopted"):
        expected = director["ideas_total"].get(status)
        assert shown[status] == (fewer if expected is None else expected)
    assert shown["adopted"] == fewer  # one idea from one pair: suppressed, as on the page
