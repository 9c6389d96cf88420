"""Collecting from the exchange: saved widget state is scrubbed even from a notebook too
damaged to read, and a damaged lesson notebook never costs the learner their grade."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from tandem.cohort.exchange import WIDGET_STATE, WIDGET_VIEW, collect_session, fetch, submit
from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import grade_session, quiet_nbgrader

from .. import factories

pytestmark = pytest.mark.slow  # real nbgrader exchange and autograding

PRIVATE = "PRIVATE: I doubt my manager"


def _with_widget_state(notebook: Path, text: str) -> None:
    """What JupyterLab's 'Save Widget State Automatically' writes: the widget models with
    their values in the metadata, a widget view (and its plain-text form) in an output."""
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {"abc123": {"model_name": "TextareaModel", "state": {"value": text}}},
        }
    }
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={WIDGET_VIEW: {"model_id": "abc123"}, "text/plain": text},
        )
    ]
    nbformat.write(nb, notebook)


def _truncate_after(path: Path, text: str) -> None:
    """Cut the file a little after the last place ``text`` appears: no longer JSON."""
    content = path.read_bytes()
    end = content.rindex(text.encode()) + len(text) + 3
    path.write_bytes(content[:end])


def _files_containing(roots: list[Path], needle: str) -> list[Path]:
    return [
        p
        for root in roots
        for p in root.rglob("*")
        if p.is_file() and needle.encode() in p.read_bytes()
    ]


def test_a_truncated_lesson_notebook_with_widget_state_leaks_nowhere_and_the_checkpoint_is_graded(
    tmp_path: Path, cohort_at: Callable[..., Workspace]
) -> None:
    ws = cohort_at("released")
    home = tmp_path / "j1-home"
    folder = fetch(ws, home, "tiny-mgmt", "j1")  # j1 (junior) learns the management module
    lesson = folder / "tiny-mgmt.ipynb"
    _with_widget_state(lesson, PRIVATE)
    _truncate_after(lesson, PRIVATE)
    assert PRIVATE.encode() in lesson.read_bytes()
    submit(ws, home, "tiny-mgmt", "j1")

    report = collect_session(ws.root, "s1")
    results = {(r.module, r.participant): r for r in grade_session(ws.root, "s1")}

    exchange = Path(ws.nbgrader_config()["Exchange"]["root"])
    assert _files_containing([ws.root, exchange], PRIVATE) == []
    assert _files_containing([ws.root, exchange], "I doubt my manager") == []
    submitted = ws.submission_dir("j1", "tiny-mgmt")
    assert any(p.name == "tiny-mgmt.ipynb" for p in report.scrubbed)
    note = (submitted / "tiny-mgmt.ipynb.removed.txt").read_text(encoding="utf-8")
    assert "saved widget state" in note
    checkpoint = results["tiny-mgmt", "j1"]
    assert checkpoint.status == "graded", checkpoint.error
    assert checkpoint.score is not None and checkpoint.score.auto_max == 2
    assert not ws.folder("quarantine").exists()


def test_a_damaged_lesson_notebook_is_set_aside_alone_and_the_checkpoint_is_graded(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("released")
    folder = factories.submit(ws, "j1", "tiny-mgmt", "full")
    lesson = folder / "tiny-mgmt.ipynb"
    lesson.write_bytes(lesson.read_bytes()[:200])  # truncated, no widget state in it
    damaged = factories.submit(ws, "j2", "tiny-mgmt", "full") / "checkpoint.ipynb"
    damaged.write_bytes(damaged.read_bytes()[:200])  # a damaged checkpoint cannot be graded

    results = {(r.module, r.participant): r for r in grade_session(ws.root, "s1")}

    checkpoint = results["tiny-mgmt", "j1"]
    assert checkpoint.status == "graded", checkpoint.error
    assert checkpoint.score is not None and checkpoint.score.auto_score == 2
    assert checkpoint.note and "tiny-mgmt.ipynb: not valid JSON" in checkpoint.note
    assert (folder / "checkpoint.ipynb").is_file() and not lesson.exists()
    (aside,) = (ws.folder("quarantine") / "j1").iterdir()
    assert sorted(p.name for p in aside.iterdir()) == ["QUARANTINED.txt", "tiny-mgmt.ipynb"]
    assert "not valid JSON" in (aside / "QUARANTINED.txt").read_text(encoding="utf-8")
    assert results["tiny-mgmt", "j2"].status == "quarantined"
    assert "checkpoint.ipynb: not valid JSON" in (results["tiny-mgmt", "j2"].error or "")


def _submit_as_login_name(ws: Workspace, home: Path, module: str, login: str = "root") -> Path:
    """A participant submits without --student: nbgrader files it under their login name,
    and the widgets, not knowing who they are, wrote the check-in under that name too."""
    from tandem.cohort.exchange import write_checkin
    from tandem.notebook.checkin import CheckIn

    folder = fetch(ws, home, module, login)
    write_checkin(folder, CheckIn(participant=login, cohort=ws.load().name, module=module))
    submit(ws, home, module, login)
    return folder


def _students(ws: Workspace) -> set[str]:
    """The students formgrader lists: the gradebook's, and every folder in submitted/."""
    return {s["id"] for s in ws.nbgrader_api().get_students()}


def test_a_submission_under_an_id_not_in_the_cohort_is_named_and_reassigned(
    tmp_path: Path, cohort_at: Callable[..., Workspace], capsys: pytest.CaptureFixture[str]
) -> None:
    from tandem.cohort.strays import Stray
    from tandem.reports.status import cohort_status

    ws = cohort_at("released")
    _submit_as_login_name(ws, tmp_path / "j1-home", "tiny-mgmt")  # j1 learns tiny-mgmt

    report = collect_session(ws.root, "s1")
    assert report.strays == [Stray("root", ["tiny-mgmt"])]
    assert "root" not in report.arrived["tiny-mgmt"]
    assert "root" in _students(ws)  # formgrader's 5th student
    assert [s.id for s in cohort_status(ws.root).strays] == ["root"]
    code, out, err = factories.run_cli(["collect", str(ws.root), "s1"], capsys)
    assert code == 0 and (
        f"submission from 'root' (tiny-mgmt), not in the cohort: run 'tandem submissions "
        f"reassign {ws.root} root PARTICIPANT'" in err
    )
    code, out, _ = factories.run_cli(["status", str(ws.root)], capsys)
    assert "submission from 'root'" in out.replace("\n  ", " ")
    assert "1 id not in the cohort to reassign or discard" in out.replace("\n  ", " ")
    with quiet_nbgrader():  # a grading run of everything in submitted/ adds the student
        ws.nbgrader_api().autograde("tiny-mgmt", "root")
    with ws.gradebook(ws.load()) as gradebook:
        assert "root" in {s.id for s in gradebook.students}

    code, out, err = factories.run_cli(
        ["submissions", "reassign", str(ws.root), "root", "j1"], capsys
    )
    assert code == 0, err
    assert "tiny-mgmt: the submission from 'root' is now j1's" in out

    assert not (ws.folder("submitted") / "root").exists()
    assert not (ws.folder("autograded") / "root").exists()
    assert _students(ws) == {"j1", "s1", "j2", "s2"}
    assert cohort_status(ws.root).strays == []
    again = collect_session(ws.root, "s1")  # the exchange's copy is j1's now, too
    assert again.strays == [] and again.arrived["tiny-mgmt"] == ["j1"]
    assert again.checkin_problems == []  # the check-in now says j1
    [result] = [r for r in grade_session(ws.root, "s1") if r.participant == "j1"]
    assert result.status == "graded" and result.score is not None
    assert result.score.auto_score == 0  # fetched and submitted unanswered


def test_reassigning_never_replaces_a_participants_own_submission_without_force(
    tmp_path: Path, cohort_at: Callable[..., Workspace]
) -> None:
    from tandem.cohort.strays import discard, reassign
    from tandem.errors import CohortError

    ws = cohort_at("released")
    for participant in ("j1", "s1"):
        home = tmp_path / participant
        fetch(ws, home, "tiny-mgmt", participant)
        submit(ws, home, "tiny-mgmt", participant)
    _submit_as_login_name(ws, tmp_path / "root-home", "tiny-mgmt")
    _submit_as_login_name(ws, tmp_path / "root-home", "tiny-tech", login="jovyan")
    collect_session(ws.root, "s1")
    own = ws.submission_dir("j1", "tiny-mgmt") / "timestamp.txt"
    stamp = own.read_text()

    with pytest.raises(CohortError, match="j1 already has a submission of tiny-mgmt: add --force"):
        reassign(ws.root, "root", "j1")
    assert own.read_text() == stamp and (ws.folder("submitted") / "root").is_dir()
    with pytest.raises(CohortError, match="'s1' is a participant of the cohort"):
        reassign(ws.root, "s1", "j1")
    with pytest.raises(CohortError, match="no participant 'nobody'"):
        reassign(ws.root, "root", "nobody")

    assert reassign(ws.root, "root", "j1", force=True) == ["tiny-mgmt"]
    assert own.read_text() != stamp  # the submission from root replaced it
    collect_session(ws.root, "s1")
    assert own.read_text() != stamp  # and collect did not bring the replaced one back

    assert discard(ws.root, "jovyan", module="tiny-tech") == ["tiny-tech"]
    assert not (ws.folder("submitted") / "jovyan").exists()
    inbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / ws.load().course_id / "inbound"
    assert not list(inbound.glob("jovyan+*"))
    assert collect_session(ws.root, "s1").strays == []
