"""Where a cohort stands: one row per pair and released module, and what needs doing now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tandem.cohort.workspace import Cohort, Workspace, due_date
from tandem.curriculum.manifest import Module, Program
from tandem.grading.checkpoints import read_score, unfinished_grading
from tandem.grading.unfinished import unfinished_note
from tandem.notebook.checkin import CHECKIN_FILE


@dataclass
class StatusRow:
    pair: str
    session: str
    module: str
    learner: str
    lead: str
    learner_submission: str  # on time | late | missing | in exchange
    lead_submission: str
    grading: str  # not graded | autograded, written answer pending | graded
    autograded: str  # "8/8" or "-"
    feedback: str  # released | not yet | -
    checkins: str  # e.g. "learner, lead" or "none"


@dataclass
class CohortStatus:
    cohort: str
    rows: list[StatusRow] = field(default_factory=list)
    needs: dict[str, int] = field(default_factory=dict)
    unpaired: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    #: e.g. "2 submissions are still being graded; shown as not graded: ..."
    grading_unfinished: list[str] = field(default_factory=list)

    def summary(self) -> str:
        todo = [f"{n} {_singular(what) if n == 1 else what}" for what, n in self.needs.items() if n]
        if self.unpaired:
            todo.append(f"re-pair {', '.join(self.unpaired)} (tandem cohort repair)")
        return "Needs you now: " + ("; ".join(todo) if todo else "nothing")

    def as_json(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "rows": [asdict(r) for r in self.rows],
            "needs": self.needs,
            "unpaired": self.unpaired,
            "withdrawn": self.withdrawn,
            "grading_unfinished": self.grading_unfinished,
            "summary": self.summary(),
        }


SINGULAR = {
    "submissions to collect": "submission to collect",
    "checkpoints to autograde": "checkpoint to autograde",
    "written answers to grade": "written answer to grade",
    "late submissions": "late submission",
    "missing submissions": "missing submission",
}


def _singular(what: str) -> str:
    return SINGULAR.get(what, what)


def _submission(
    ws: Workspace, participant: str, module: str, due: datetime | None, inbound: set[str]
) -> str:
    from nbgrader.utils import parse_utc

    folder = ws.submission_dir(participant, module)
    if not folder.is_dir():
        return "in exchange" if participant in inbound else "missing"
    stamp = folder / "timestamp.txt"
    if due is None or not stamp.is_file():
        return "submitted"
    submitted = parse_utc(stamp.read_text().strip()).replace(tzinfo=None)
    return "late" if submitted > due else "on time"


def _inbound(ws: Workspace, cohort: Cohort, module: str) -> set[str]:
    root = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "inbound"
    return {p.name.split("+")[0] for p in root.glob(f"*+{module}+*")} if root.is_dir() else set()


def _row(ws: Workspace, cohort: Cohort, session: str, module: Module, pair: Any) -> StatusRow:
    learner, lead = pair.member(module.learner), pair.member(module.lead)
    due = due_date(ws, cohort, module.id)
    inbound = _inbound(ws, cohort, module.id)
    score = read_score(ws, cohort, module.id, learner)
    if score is None:
        grading, auto = "not graded", "-"
    else:
        grading = "autograded, written answer pending" if score.manual_pending else "graded"
        auto = f"{score.auto_score:g}/{score.auto_max:g}"
    feedback = (
        "released"
        if (ws.folder("feedback") / learner / module.id).is_dir()
        else "not yet"
        if score is not None
        else "-"
    )
    checkins = [
        role
        for role, who in (("learner", learner), ("lead", lead))
        if (ws.submission_dir(who, module.id) / CHECKIN_FILE).is_file()
    ]
    return StatusRow(
        pair.id,
        session,
        module.id,
        learner,
        lead,
        _submission(ws, learner, module.id, due, inbound),
        _submission(ws, lead, module.id, due, inbound),
        grading,
        auto,
        feedback,
        ", ".join(checkins) or "none",
    )


def cohort_status(root: Path | str) -> CohortStatus:
    ws = Workspace(root)
    cohort = ws.load()
    program: Program = ws.program(cohort)
    status = CohortStatus(
        cohort.name, unpaired=list(cohort.unpaired), withdrawn=list(cohort.withdrawn)
    )
    released = [m for s in program.sessions if s.id in cohort.released for m in s.modules]
    status.grading_unfinished = unfinished_note(unfinished_grading(ws, cohort, released))
    for session in program.sessions:
        if session.id not in cohort.released:
            continue
        for module in session.modules:
            for pair in cohort.pairs:
                status.rows.append(_row(ws, cohort, session.id, module, pair))
    rows = status.rows
    status.needs = {
        "submissions to collect": sum(
            (r.learner_submission == "in exchange") + (r.lead_submission == "in exchange")
            for r in rows
        ),
        "checkpoints to autograde": sum(
            r.grading == "not graded" and r.learner_submission in ("on time", "late", "submitted")
            for r in rows
        ),
        "written answers to grade": sum(r.grading.endswith("pending") for r in rows),
        "feedback to release": sum(r.grading == "graded" and r.feedback == "not yet" for r in rows),
        "late submissions": sum(
            (r.learner_submission == "late") + (r.lead_submission == "late") for r in rows
        ),
        "missing submissions": sum(r.learner_submission == "missing" for r in rows),
    }
    return status
