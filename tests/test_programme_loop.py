"""The facilitator's loop on a real nbgrader exchange, each participant its own nbgrader user:
release, fetch, reflect, submit (one late), collect, grade, manual grade, feedback, status;
then roster changes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tandem.cohort.exchange import collect_session, fetch, fetch_feedback, submit
from tandem.cohort.membership import add_participants, repair, withdraw
from tandem.cohort.release import set_due_date
from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import grade_session
from tandem.grading.feedback import FeedbackPending, release_feedback
from tandem.notebook.checkin import load_context
from tandem.notebook.store import Store
from tandem.notebook.widgets import Where, reflection
from tandem.reports.status import StatusRow, cohort_status

from .conftest import FIXTURES

MODULES = ("tiny-tech", "tiny-mgmt")


def _work(ws: Workspace, homes: Path, participant: str, module: str) -> None:
    """One participant in their own JupyterLab: fetch, answer, reflect, submit."""
    import nbformat

    from tandem.demo import submission

    home = homes / participant
    folder = fetch(ws, home, module, participant)
    source = nbformat.read(ws.folder("source") / module / "checkpoint.ipynb", as_version=4)
    released = nbformat.read(folder / "checkpoint.ipynb", as_version=4)
    nbformat.write(submission(source, released, "full"), folder / "checkpoint.ipynb")
    where = Where(participant, load_context(folder), Store(home / ".tandem"))
    for prompt, text, share in (
        (f"{module}-private", f"SECRET of {participant}", False),
        (f"{module}-shared", f"Shared by {participant}", True),
    ):
        box = reflection(prompt, "Prompt", where=where)
        box.children[1].value = text
        box.children[2].children[1].value = share
        box.children[2].children[0].click()


def _rows(ws: Workspace) -> dict[tuple[str, str], StatusRow]:
    return {(r.pair, r.module): r for r in cohort_status(ws.root).rows}


def test_the_whole_loop_with_one_late_submission(tiny_cohort: Workspace, tmp_path: Path) -> None:
    ws, homes = tiny_cohort, tmp_path / "homes"
    rows = _rows(ws)
    assert len(rows) == 4
    assert {r.learner_submission for r in rows.values()} == {"missing"}
    assert cohort_status(ws.root).needs["missing submissions"] == 4

    for participant in ("j1", "s1", "j2"):
        for module in MODULES:
            _work(ws, homes, participant, module)
            submit(ws, homes / participant, module, participant)
    cohort = ws.load()
    for module in MODULES:  # the due date passes before s2 submits
        set_due_date(ws, cohort, module, datetime.now(timezone.utc))
    for module in MODULES:
        _work(ws, homes, "s2", module)
        submit(ws, homes / "s2", module, "s2")
    assert _rows(ws)["pair-01", "tiny-tech"].learner_submission == "in exchange"

    collected = collect_session(ws.root, "s1")
    assert collected.late == {"tiny-tech": ["s2"], "tiny-mgmt": ["s2"]}
    rows = _rows(ws)
    assert rows["pair-01", "tiny-tech"].learner_submission == "on time"  # s1 learns tech
    assert rows["pair-02", "tiny-tech"].learner_submission == "late"  # s2 learns tech
    assert rows["pair-02", "tiny-mgmt"].lead_submission == "late"
    assert rows["pair-01", "tiny-tech"].checkins == "learner, lead"

    results = grade_session(ws.root, "s1")
    assert [r.status for r in results] == ["graded"] * 4
    rows = _rows(ws)
    assert rows["pair-02", "tiny-tech"].grading == "autograded, written answer pending"
    assert rows["pair-02", "tiny-tech"].autograded == "2/2"  # late, but no penalty by default
    assert cohort_status(ws.root).needs["written answers to grade"] == 4
    with pytest.raises(FeedbackPending, match="s1 on tiny-tech"):
        release_feedback(ws.root, "s1")

    with ws.gradebook(cohort) as gradebook:  # what formgrader does with a manual grade
        for module in MODULES:
            for learner in ("s1", "s2") if module == "tiny-tech" else ("j1", "j2"):
                grade = gradebook.find_grade("explain", "checkpoint", module, learner)
                grade.manual_score = 1
                grade.needs_manual_grade = False  # as formgrader's grade handler sets it
        gradebook.db.commit()
        assert gradebook.find_submission("tiny-tech", "s2").total_seconds_late > 0
        assert gradebook.find_submission("tiny-tech", "s1").total_seconds_late == 0
    rows = _rows(ws)
    assert rows["pair-01", "tiny-tech"].grading == "graded"
    assert rows["pair-01", "tiny-tech"].feedback == "not yet"
    assert cohort_status(ws.root).needs["feedback to release"] == 4

    released = release_feedback(ws.root, "s1")
    assert sorted(released.released) == sorted(
        [("tiny-tech", "s1"), ("tiny-tech", "s2"), ("tiny-mgmt", "j1"), ("tiny-mgmt", "j2")]
    )
    assert {r.feedback for r in _rows(ws).values()} == {"released"}
    for module, learner in released.released:  # each learner fetches their feedback
        [page] = fetch_feedback(ws, homes / learner, module, learner)
        assert "checkpoint" in page.name
    status = cohort_status(ws.root)
    assert status.summary() == "Needs you now: 2 late submissions"
    json.dumps(status.as_json())

    course_files = [p for p in ws.root.rglob("*") if p.is_file()]
    assert not [p for p in course_files if b"SECRET of" in p.read_bytes()]
    checkin = json.loads((ws.submission_dir("j2", "tiny-mgmt") / "tandem_checkin.json").read_text())
    assert checkin["shared_reflections"] == {"tiny-mgmt-shared": "Shared by j2"}


def test_withdraw_add_and_repair(
    tiny_cohort: Workspace, tmp_path: Path, write_roster: Callable[..., Path]
) -> None:
    ws = tiny_cohort
    assert withdraw(ws.root, "j2") == "s2"
    cohort = ws.load()
    assert [p.id for p in cohort.pairs] == ["pair-01"] and cohort.unpaired == ["s2"]
    assert "re-pair s2" in cohort_status(ws.root).summary()
    context = json.loads((ws.folder("release") / "tiny-tech" / "tandem_context.json").read_text())
    assert "j2" not in context["participants"]  # no further releases reach them
    outbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "outbound"
    for folder in (ws.folder("release"), outbound):  # still readable by every participant
        assert (folder / "tiny-tech" / "tandem_context.json").stat().st_mode & 0o777 == 0o644
    assert {r.pair for r in cohort_status(ws.root).rows} == {"pair-01"}  # nor report rows
    with ws.gradebook(cohort) as gradebook:  # history kept
        assert "j2" in {s.id for s in gradebook.students}

    left = repair(ws.root)
    assert left.pairs == [] and left.unpaired == ["s2"]

    added = add_participants(
        ws.root,
        write_roster("id,name,email,role\nj3,Jo New,jo@example.org,junior\n", "newcomers.csv"),
    )
    [pair] = added.pairs
    assert (pair.id, pair.junior, pair.senior) == ("pair-03", "j3", "s2")  # pair-02 retired
    assert "pair-03: j3 & s2" in added.explanations[0]
    assert ws.load().unpaired == []
    context = json.loads((ws.folder("release") / "tiny-tech" / "tandem_context.json").read_text())
    assert context["participants"]["j3"]["partner"] == "s2"


def test_collect_reports_bad_notebooks_and_check_ins_and_carries_on(
    tiny_cohort: Workspace, tmp_path: Path
) -> None:
    ws, homes = tiny_cohort, tmp_path / "homes"
    for participant in ("s1", "s2"):
        _work(ws, homes, participant, "tiny-tech")
    shutil.copy(
        FIXTURES / "notebooks" / "not_json.ipynb", homes / "s1" / "tiny-tech" / "checkpoint.ipynb"
    )
    (homes / "s2" / "tiny-tech" / "tandem_checkin.json").write_text("{not json")
    for participant in ("s1", "s2"):
        submit(ws, homes / participant, "tiny-tech", participant)
    report = collect_session(ws.root, "s1")
    assert report.arrived["tiny-tech"] == ["s1", "s2"]
    [invalid] = report.invalid
    assert invalid.path == ws.submission_dir("s1", "tiny-tech") / "checkpoint.ipynb"
    [bad_checkin] = report.checkin_problems
    assert bad_checkin.path == ws.submission_dir("s2", "tiny-tech") / "tandem_checkin.json"
    results = {r.participant: r.status for r in grade_session(ws.root, "s1")}
    assert results["s1"] == "quarantined" and results["s2"] == "graded"


def test_a_cohort_can_choose_nbgraders_late_penalty(tiny_cohort: Workspace, tmp_path: Path) -> None:
    from tandem.grading.checkpoints import read_score

    ws, homes = tiny_cohort, tmp_path / "homes"
    cohort = ws.load()
    cohort.schedule.late_penalty = "zero"
    ws.save(cohort)
    set_due_date(ws, cohort, "tiny-tech", datetime(2020, 1, 1))
    _work(ws, homes, "s1", "tiny-tech")
    submit(ws, homes / "s1", "tiny-tech", "s1")
    collect_session(ws.root, "s1")
    grade_session(ws.root, "s1")
    score = read_score(ws, cohort, "tiny-tech", "s1")
    assert score is not None and score.late
    assert (score.auto_score, score.penalty) == (2, 2)  # 'zero': the whole score is taken
    assert _rows(ws)["pair-01", "tiny-tech"].learner_submission == "late"
