"""Privacy end to end: private text never reaches the course; data export and erasure."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tandem.cohort.exchange import (
    WIDGET_STATE,
    WIDGET_VIEW,
    collect_session,
    fetch,
    submit,
    write_checkin,
)
from tandem.cohort.workspace import Workspace
from tandem.grading.checkpoints import grade_session
from tandem.grading.feedback import release_feedback
from tandem.notebook.checkin import (
    CONTEXT_FILE,
    CheckIn,
    Feedback,
    LeadFeedback,
    load_context,
    read_checkin,
)
from tandem.notebook.pulse import PULSE_FILE, Pulse, write_pulse
from tandem.notebook.store import Key, Store
from tandem.notebook.widgets import Where, reflection
from tandem.privacy import NOT_REACHED, erase_participant, export_participant, write_export
from tandem.reports.build import build_reports
from tandem.reports.export import export_cohort

ROSTER = """id,name,email,role,department
zeb-junior,Zebedee Quillfeather,zeb@example.org,junior,IT
sam-senior,Samantha Okonkwo,sam@example.org,senior,Operations
"""
PRIVATE = "PRIVATE: my manager's plan worries me"
SHARED = "SHARED: I will post weekly"


def _answer(where: Where, prompt: str, text: str, *, share: bool = False) -> Any:
    """What a participant does in JupyterLab: type into a reflection, maybe tick Share."""
    box = reflection(prompt, "A prompt", where=where)
    textarea, buttons = box.children[1], box.children[2]
    textarea.value = text
    buttons.children[1].value = share  # the Share checkbox saves at once
    buttons.children[0].click()  # Save
    assert "Saved" in box.children[3].value, box.children[3].value
    return box


def _save_widget_state_like_jupyterlab(notebook: Path, text: str) -> None:
    """JupyterLab's 'Save Widget State Automatically' writes widget models (with their
    values) into the notebook's metadata and widget views into outputs."""
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                "abc123": {
                    "model_name": "TextareaModel",
                    "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {"value": text},
                }
            },
        }
    }
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "abc123"},
                "text/plain": text,
            },
        )
    ]
    nbformat.write(nb, notebook)


@pytest.fixture
def programme_run(tmp_path: Path, cohort_at: Callable[..., Workspace]) -> tuple[Workspace, Store]:
    """Zebedee (junior) learns the tiny management module: fetch, reflect, submit, collect."""
    ws = cohort_at("released", roster=ROSTER)
    store = Store(tmp_path / "zeb-home" / "store")
    home = tmp_path / "zeb-home"
    folder = fetch(ws, home, "tiny-mgmt", "zeb-junior")
    where = Where("zeb-junior", load_context(folder), store)
    _answer(where, "tiny-mgmt-private", PRIVATE)
    _answer(where, "tiny-mgmt-shared", SHARED, share=True)
    _save_widget_state_like_jupyterlab(folder / "tiny-mgmt.ipynb", PRIVATE)
    submit(ws, home, "tiny-mgmt", "zeb-junior")
    collect_session(ws.root, "s1")
    return ws, store


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_private_text_never_reaches_the_course_but_shared_text_does(
    programme_run: tuple[Workspace, Store],
) -> None:
    ws, store = programme_run
    assert (
        store.latest(Key("zeb-junior", ws.load().course_id, "tiny-mgmt", "tiny-mgmt-private")).text
        == PRIVATE
    )  # type: ignore[union-attr]
    assert _files_containing(ws.root, "PRIVATE:") == []
    checkin = json.loads(
        (ws.submission_dir("zeb-junior", "tiny-mgmt") / "tandem_checkin.json").read_text()
    )
    assert checkin["shared_reflections"] == {"tiny-mgmt-shared": SHARED}
    assert sorted(checkin["answered"]) == ["tiny-mgmt-private", "tiny-mgmt-shared"]
    lesson = nbformat.read(
        ws.submission_dir("zeb-junior", "tiny-mgmt") / "tiny-mgmt.ipynb", as_version=4
    )
    assert "widgets" not in lesson.metadata


def test_export_then_erase_everywhere(programme_run: tuple[Workspace, Store]) -> None:
    ws, store = programme_run
    grade_session(ws.root, "s1")
    build_reports(ws.root)
    assert _files_containing(ws.root, "Zebedee")  # the pair page names them

    exported = export_participant("zeb-junior", workspace=ws.root, store=store)
    texts = [r["text"] for a in exported["private_store"]["answers"] for r in a["revisions"]]
    assert PRIVATE in texts and SHARED in texts
    cohort_part = exported["cohort"]
    assert cohort_part["profile"]["name"] == "Zebedee Quillfeather"
    assert cohort_part["check_ins"]["tiny-mgmt"]["shared_reflections"] == {
        "tiny-mgmt-shared": SHARED
    }
    assert cohort_part["checkpoint_scores"]["tiny-mgmt"]["autograded_max"] == 2
    json.dumps(exported)  # plain JSON

    removed = erase_participant("zeb-junior", workspace=ws.root, store=store)
    assert any(r.startswith("private store") for r in removed)
    assert "gradebook: student and submissions" in removed
    assert "submitted/zeb-junior/" in removed
    assert any(r.startswith("exchange inbound") for r in removed)
    for needle in ("zeb-junior", "Zebedee", "zeb@example.org", SHARED):
        assert _files_containing(ws.root, needle) == [], needle
        assert _files_containing(store.root, needle) == [], needle
    cohort = ws.load()
    assert cohort.pairs == [] and cohort.unpaired == ["sam-senior"]
    assert (ws.folder("reports") / "index.html").exists()  # rebuilt without them


def test_erasing_someone_unknown_says_so(programme_run: tuple[Workspace, Store]) -> None:
    ws, _ = programme_run
    with pytest.raises(Exception, match="no participant 'nobody'"):
        erase_participant("nobody", workspace=ws.root)


ROSTER_TWO_PAIRS = """id,name,email,role,department
zeb-junior,Zebedee Quillfeather,zeb@example.org,junior,IT
sam-senior,Samantha Okonkwo,sam@example.org,senior,Operations
ida-junior,Idalia Brightwater,ida@example.org,junior,Sales
kim-senior,Kimberly Ashdown,kim@example.org,senior,Finance
"""
ZEB = ("zeb-junior", "Zebedee Quillfeather", "zeb@example.org")


@pytest.fixture
def graded_two_pairs(tmp_path: Path, cohort_at: Callable[..., Workspace]) -> Workspace:
    """Two pairs through session s1 as in the demo: every participant fetches and submits
    both modules through the exchange (with check-ins), collect, grade, a comment by
    hand, feedback released."""
    ws = cohort_at("released", roster=ROSTER_TWO_PAIRS)
    course = ws.load().name
    for person in ("zeb-junior", "sam-senior", "ida-junior", "kim-senior"):
        home = tmp_path / f"{person}-home"
        for module in ("tiny-tech", "tiny-mgmt"):
            folder = fetch(ws, home, module, person)
            feedback = Feedback(clarity=4, comment="clear") if person == "sam-senior" else None
            shared = {f"{module}-shared": SHARED} if person == "zeb-junior" else {}
            write_checkin(
                folder,
                CheckIn(
                    participant=person,
                    cohort=course,
                    module=module,
                    feedback=feedback,
                    shared_reflections=shared,
                ),
            )
            submit(ws, home, module, person)
    collect_session(ws.root, "s1")
    grade_session(ws.root, "s1")
    cohort = ws.load()
    with ws.gradebook(cohort) as gradebook:  # what formgrader does: a grade and a comment
        grade = gradebook.find_grade("explain", "checkpoint", "tiny-mgmt", "zeb-junior")
        grade.manual_score = 1
        grade.needs_manual_grade = False
        comment = gradebook.find_comment("explain", "checkpoint", "tiny-mgmt", "zeb-junior")
        comment.manual_comment = "Good reasoning, Zebedee"
        gradebook.db.commit()
    release_feedback(ws.root, "s1", force=True)
    return ws


def test_privacy_export_has_comments_cell_grades_and_feedback_received_as_lead(
    graded_two_pairs: Workspace, tmp_path: Path
) -> None:
    ws = graded_two_pairs
    data = export_participant("zeb-junior", workspace=ws.root)["cohort"]
    grades = data["checkpoint_grades"]["tiny-mgmt"]
    comments = {c["cell"]: c for c in grades["comments"]}
    assert comments["explain"]["manual_comment"] == "Good reasoning, Zebedee"
    assert comments["explain"]["auto_comment"] == "No response."
    cells = {c["cell"]: c for c in grades["cells"]}
    assert (cells["explain"]["manual_score"], cells["explain"]["max_score"]) == (1, 1)
    assert (cells["test_double"]["auto_score"], cells["test_double"]["max_score"]) == (0, 2)
    # zeb (junior) leads the tech module; sam, its learner, gave feedback on the lead
    received = data["feedback_received_as_lead"]
    assert received == {
        "tiny-tech": {
            "from": "sam-senior",
            "clarity": 4,
            "relevance": None,
            "pace": None,
            "comment": "clear",
        }
    }
    json.dumps(data)


def test_erase_leaves_no_trace_in_workspace_or_exchange_and_lists_exports_elsewhere(
    graded_two_pairs: Workspace, tmp_path: Path
) -> None:
    ws = graded_two_pairs
    exchange = Path(ws.nbgrader_config()["Exchange"]["root"])
    outside = tmp_path / "elsewhere"
    scores_csv, checkins_csv, *_ = export_cohort(ws.root, outside, "csv")
    export_cohort(ws.root, ws.folder("exports"), "json")
    mine = write_export(export_participant("zeb-junior", workspace=ws.root), outside / "z.json")
    theirs = write_export(export_participant("ida-junior", workspace=ws.root), outside / "i.json")
    # `tandem report` interrupted after its data and the pairs' inputs were written
    pair = {"id": "pair-01", "junior": {"id": ZEB[0], "name": ZEB[1]}, "shared": [SHARED]}
    for path in (
        ws.folder("reports") / "facilitator" / "data" / "pairs.json",
        ws.folder("runs") / "report-inputs" / "pair-01.json",
    ):
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"cohort": "cohort", "pairs": [pair]}), encoding="utf-8")
    assert (ws.folder("reports") / "facilitator" / "data" / "pairs.json").is_file()
    assert not (ws.folder("reports") / "index.html").exists()
    everywhere = [ws.root, exchange]
    assert list(exchange.glob("*/feedback/*.html"))  # released feedback in the exchange
    for needle in ZEB:
        assert _files_in(everywhere, needle), needle
    assert [
        p
        for p in _files_in(everywhere, "zeb-junior")
        if p.name == CONTEXT_FILE and "zeb-junior" not in str(p)
    ]  # other participants' copies name zeb

    removed = erase_participant("zeb-junior", workspace=ws.root)

    for needle in (*ZEB, SHARED):
        assert _files_in(everywhere, needle) == [], needle
    not_reached = [r.removeprefix(NOT_REACHED) for r in removed if r.startswith(NOT_REACHED)]
    listed = {r.split(" (")[0] for r in not_reached}
    assert listed == {str(scores_csv), str(checkins_csv), str(mine)}, removed
    assert str(theirs) not in listed and theirs.exists()  # left alone: not about zeb
    assert any("unfinished report" in r for r in removed)
    context = json.loads((ws.submission_dir("sam-senior", "tiny-mgmt") / CONTEXT_FILE).read_text())
    assert context["participants"]["sam-senior"]["partner"] == "(erased)"
    assert set(context["participants"]) == {"sam-senior", "ida-junior", "kim-senior"}


def _files_in(roots: list[Path], needle: str) -> list[Path]:
    return [
        p for r in roots for p in r.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()
    ]


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask-022", "umask-077"])
def test_a_privacy_export_is_readable_by_its_owner_only(
    programme_run: tuple[Workspace, Store], tmp_path: Path, umask: int
) -> None:
    ws, store = programme_run
    data = export_participant("zeb-junior", workspace=ws.root, store=store)
    before = os.umask(umask)
    try:
        out = write_export(data, tmp_path / "zeb.json")
    finally:
        os.umask(before)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_erase_matches_whole_ids_and_names_only(tmp_path: Path) -> None:
    """Erasing p1 must not list or remove an export that names only p10, nor one where
    a short name ("Li") appears only inside another word."""
    from tandem.privacy import _mentions

    other = tmp_path / "other.csv"
    other.write_text("pair,participant\npair-10,p10\nLisbon office,li.wei@example.org.uk\n")
    assert not _mentions(other, [b"p1", b"Li", b"li.wei@example.org"])
    mine = tmp_path / "mine.json"
    mine.write_text('{"participant": "p1", "name": "Li", "email": "li.wei@example.org"}')
    for needle in (b"p1", b"Li", b"li.wei@example.org"):
        assert _mentions(mine, [needle]), needle


def test_an_export_is_in_the_log_even_when_writing_it_fails(
    cohort_at: Callable[..., Workspace], tmp_path: Path
) -> None:
    """The log is written first: an export cut short is still listed on erase."""
    from tandem.errors import ReportError
    from tandem.reports.export import export_cohort, read_export_log

    ws = cohort_at("released")
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    with pytest.raises(ReportError):
        export_cohort(ws.root, taken, "csv")
    logged = {Path(e["path"]) for e in read_export_log(ws)}
    assert taken.resolve() / "scores.csv" in logged


GIVEN_TEXT = "SAM-TO-ZEB: you asked the question nobody else would"
ZEB_PULSE = {"could-say": 2, "taken-seriously": 1, "held-back": 5}
SAM_PULSE = {"could-say": 4, "taken-seriously": 5, "held-back": 2}


def _outcome_checkin(course: str, person: str, module: str) -> CheckIn:
    checkin = CheckIn(participant=person, cohort=course, module=module)
    if (person, module) == ("sam-senior", "tiny-mgmt"):  # sam leads zeb
        checkin.partner_rating = {"before": {"tiny-lead": 2}, "after": {"tiny-lead": 4}}
        checkin.lead_feedback = LeadFeedback(situation="Tuesday", behaviour=GIVEN_TEXT)
    if (person, module) == ("zeb-junior", "tiny-tech"):  # zeb leads sam
        checkin.partner_rating = {"before": {"tiny-skill": 1}, "after": {"tiny-skill": 3}}
        checkin.lead_feedback = LeadFeedback(
            try_next="Try the shortcut", share_with_facilitator=True
        )
    if (person, module) == ("zeb-junior", "tiny-mgmt"):
        checkin.self_assessment = {"before": {"tiny-lead": 1}, "after": {"tiny-lead": 3}}
        checkin.feedback_consent = True
    return checkin


@pytest.fixture
def outcomes_run(tmp_path: Path, cohort_at: Callable[..., Workspace]) -> tuple[Workspace, Store]:
    """Two pairs through s1 with partner ratings, lead feedback and both partners' pulse
    (written by the management lesson into its folder and into each author's store);
    collected, graded, feedback released."""
    ws = cohort_at("released", roster=ROSTER_TWO_PAIRS)
    course = ws.load().course_id
    store = Store(tmp_path / "zeb-home" / "store")
    for person in ("zeb-junior", "sam-senior", "ida-junior", "kim-senior"):
        home = tmp_path / f"{person}-home"
        for module in ("tiny-tech", "tiny-mgmt"):
            folder = fetch(ws, home, module, person)
            write_checkin(folder, _outcome_checkin(course, person, module))
            answers = {"zeb-junior": ZEB_PULSE, "sam-senior": SAM_PULSE}.get(person)
            if module == "tiny-mgmt" and answers:
                write_pulse(
                    folder, Pulse(participant=person, cohort=course, session="s1", answers=answers)
                )
            submit(ws, home, module, person)
    store.save(Key("zeb-junior", course, "s1", "safety-pulse"), "", data=ZEB_PULSE)
    collect_session(ws.root, "s1")
    grade_session(ws.root, "s1")
    released = release_feedback(ws.root, "s1", force=True)
    assert ("tiny-mgmt", "zeb-junior") in released.partner_pages
    return ws, store


def test_privacy_export_has_ratings_and_feedback_given_and_received_and_own_pulse_only(
    outcomes_run: tuple[Workspace, Store],
) -> None:
    ws, store = outcomes_run
    exported = export_participant("zeb-junior", workspace=ws.root, store=store)
    data = exported["cohort"]
    given = data["partner_ratings_and_feedback_given_as_lead"]
    assert given["tiny-tech"]["to"] == "sam-senior"
    assert given["tiny-tech"]["partner_rating"] == {
        "before": {"tiny-skill": 1},
        "after": {"tiny-skill": 3},
    }
    assert given["tiny-tech"]["lead_feedback"]["try_next"] == "Try the shortcut"
    received = data["partner_ratings_and_feedback_received_as_learner"]
    assert received["tiny-mgmt"]["from"] == "sam-senior"
    assert received["tiny-mgmt"]["partner_rating"]["after"] == {"tiny-lead": 4}
    assert received["tiny-mgmt"]["lead_feedback"]["behaviour"] == GIVEN_TEXT
    assert data["check_ins"]["tiny-mgmt"]["feedback_consent"] is True
    assert data["safety_pulse"]["s1"]["answers"] == ZEB_PULSE  # their own, as submitted
    assert data["safety_pulse"]["s1"]["module"] == "tiny-mgmt"
    stored = [r["data"] for a in exported["private_store"]["answers"] for r in a["revisions"]]
    assert ZEB_PULSE in stored  # and as kept in their store
    # never the partner's pulse: sam's answers appear nowhere in zeb's export
    assert SAM_PULSE not in stored
    assert json.dumps(SAM_PULSE) not in json.dumps(exported)
    sam = export_participant("sam-senior", workspace=ws.root)["cohort"]
    assert sam["safety_pulse"]["s1"]["answers"] == SAM_PULSE
    assert json.dumps(ZEB_PULSE) not in json.dumps(sam)
    assert sam["partner_ratings_and_feedback_given_as_lead"]["tiny-mgmt"]["to"] == "zeb-junior"


def test_erase_removes_pulse_files_ratings_of_them_and_their_released_pages(
    outcomes_run: tuple[Workspace, Store],
) -> None:
    ws, store = outcomes_run
    exchange = Path(ws.nbgrader_config()["Exchange"]["root"])
    everywhere = [ws.root, exchange]
    pulses = [p for r in everywhere for p in r.rglob(PULSE_FILE)]
    assert [p for p in pulses if "zeb-junior" in p.read_text("utf-8")]
    assert _files_in(everywhere, GIVEN_TEXT)  # sam's check-in copies and zeb's released page

    removed = erase_participant("zeb-junior", workspace=ws.root, store=store)

    assert any(r.startswith("safety pulse: ") for r in removed), removed
    assert any(r.startswith("exchange feedback: ") for r in removed), removed
    assert any("ratings of and feedback to them removed" in r for r in removed), removed
    left = [p for r in everywhere for p in r.rglob(PULSE_FILE)]
    assert left and all("sam-senior" in p.read_text("utf-8") for p in left)  # sam's own stays
    assert _files_in(everywhere, GIVEN_TEXT) == []
    assert _files_containing(store.root, "safety-pulse") == []
    for copy in ws.root.rglob("tandem_checkin.json"):
        checkin = json.loads(copy.read_text("utf-8"))
        if checkin["module"] == "tiny-mgmt" and checkin["participant"] == "sam-senior":
            assert checkin["partner_rating"] == {} and checkin["lead_feedback"] is None
    # the collected check-in is still valid: reports read it as before
    read_checkin(
        ws.submission_dir("sam-senior", "tiny-mgmt") / "tandem_checkin.json",
        participant="sam-senior",
        module="tiny-mgmt",
    )


def test_privacy_export_has_the_persons_ideas_with_their_outcome(tiny_cohort: Workspace) -> None:
    from tandem.notebook.checkin import Idea

    from .factories import submit

    ws = tiny_cohort
    folder = submit(ws, "j1", "tiny-tech", "blank")
    idea = Idea(id="idea-00c0ffee", title="Share the rota online", theme="operations and logistics")
    checkin = CheckIn(participant="j1", cohort="c", module="tiny-tech", ideas=[idea])
    (folder / "tandem_checkin.json").write_text(checkin.model_dump_json())
    (ws.root / "ideas.yml").write_text("idea-00c0ffee: {status: trialled, note: In March}\n")
    data = export_participant("j1", workspace=ws.root)["cohort"]
    [exported] = data["ideas"]
    assert (exported["id"], exported["title"], exported["module"]) == (
        "idea-00c0ffee",
        "Share the rota online",
        "tiny-tech",
    )
    assert (exported["status"], exported["note"]) == ("trialled", "In March")
    assert data["followup"] is None  # no follow-up released yet
    assert export_participant("s1", workspace=ws.root)["cohort"]["ideas"] == []


def test_erase_drops_the_outcome_records_of_the_persons_ideas_only(tiny_cohort: Workspace) -> None:
    from tandem.cohort.ideas import load_records
    from tandem.notebook.checkin import Idea

    from .factories import submit

    ws = tiny_cohort
    for who, idea_id in (("j1", "idea-00c0ffee"), ("s1", "idea-0000beef")):
        folder = submit(ws, who, "tiny-tech", "blank")
        idea = Idea(id=idea_id, title=f"{who}'s idea", theme="operations and logistics")
        checkin = CheckIn(participant=who, cohort="c", module="tiny-tech", ideas=[idea])
        (folder / "tandem_checkin.json").write_text(checkin.model_dump_json())
    (ws.root / "ideas.yml").write_text(
        "idea-00c0ffee: {status: trialled, note: In March}\n"
        "idea-0000beef: {status: adopted, note: Since May}\n"
    )
    removed = erase_participant("j1", workspace=ws.root)
    assert "ideas.yml: the outcome records of 1 of their ideas" in removed
    assert set(load_records(ws)) == {"idea-0000beef"}  # the partner's record stands
