"""Where a cohort stands: one row per pair and released module, and what needs doing now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tandem.cohort.exchange import due_passed
from tandem.cohort.membership import PairingOutlook, outlook
from tandem.cohort.strays import Stray, find_strays
from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Module, Program
from tandem.grading.checkpoints import changed_after_grading, unfinished_grading
from tandem.grading.scores import ScoreBook, read_book
from tandem.grading.unfinished import unfinished_note
from tandem.notebook.checkin import CHECKIN_FILE


@dataclass
class StatusRow:
    pair: str
    session: str
    module: str
    learner: str
    lead: str
    learner_submission: str  # on time | late | missing | in exchange | not yet due
    lead_submission: str
    grading: str  # not graded | autograded, written answer pending | graded
    autograded: str  # "8/8" or "-"
    feedback: str  # released | not yet | -
    checkins: str  # e.g. "learner, lead" or "none"
    due: str | None = None  # the module's due date, ISO (UTC), or None: no date set


@dataclass
class CohortStatus:
    cohort: str
    rows: list[StatusRow] = field(default_factory=list)
    needs: dict[str, int] = field(default_factory=dict)
    unpaired: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    #: e.g. "2 submissions are still being graded; shown as not graded: ..."
    grading_unfinished: list[str] = field(default_factory=list)
    #: graded by hand, then changed: "s1 on t1-social-media" (the facilitator decides)
    changed_after_grading: list[str] = field(default_factory=list)
    #: submissions under an id that is not a participant (see tandem.cohort.strays)
    strays: list[Stray] = field(default_factory=list)
    #: sessions released so far, in programme order, with their due dates (ISO or None)
    sessions: dict[str, str | None] = field(default_factory=dict)
    #: the first session not released yet, if any
    next_session: str | None = None
    #: submissions not arrived whose due date has not come
    not_yet_due: int = 0
    #: each pair's members, junior first
    pairs: dict[str, list[str]] = field(default_factory=dict)

    #: what a repair would do now: why the unpaired wait; pairs kept against the rules
    pairing: PairingOutlook = field(default_factory=PairingOutlook)

    def summary(self) -> str:
        todo = [f"{n} {_singular(what) if n == 1 else what}" for what, n in self.needs.items() if n]
        if self.unpaired:
            todo += self.pairing.todo(self.unpaired)
        if self.strays:
            todo.append(
                f"{len(self.strays)} {'id' if len(self.strays) == 1 else 'ids'} not in the "
                "cohort to reassign or discard (tandem submissions)"
            )
        if self.changed_after_grading:
            todo.append(
                f"{len(self.changed_after_grading)} changed after grading, to confirm or "
                f"regrade by hand (formgrader): {', '.join(self.changed_after_grading)}"
            )
        if not self.sessions and self.next_session:
            todo.append(f"nothing released yet: release {self.next_session} (tandem release)")
        line = "Needs you now: " + ("; ".join(todo) if todo else "nothing")
        return "\n".join([line, *self.pairing.notes()])

    def as_json(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "rows": [asdict(r) for r in self.rows],
            "needs": self.needs,
            "unpaired": self.unpaired,
            "withdrawn": self.withdrawn,
            "grading_unfinished": self.grading_unfinished,
            "changed_after_grading": self.changed_after_grading,
            "summary": self.summary(),
            "pairing": _pairing_json(self.pairing),
            "sessions": self.sessions,
            "next_session": self.next_session,
            "not_yet_due": self.not_yet_due,
            "strays": [{"id": s.id, "modules": s.modules} for s in self.strays],
            "pairs": self.pairs,
        }


def _pairing_json(view: PairingOutlook) -> dict[str, Any]:
    return {
        "repairable": view.repairable,
        "waiting": [{"id": w.id, "reason": w.reason, "helps": w.helps} for w in view.waiting],
        "rules_unknown": view.unknown_rules,
        "rule_break": view.rule_break,
        "pairs_breaking_rules": view.broken_pairs,
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
        if participant in inbound:
            return "in exchange"
        return "not yet due" if due is not None and not due_passed(due) else "missing"
    stamp = folder / "timestamp.txt"
    if due is None or not stamp.is_file():
        return "submitted"
    submitted = parse_utc(stamp.read_text().strip()).replace(tzinfo=None)
    return "late" if submitted > due else "on time"


def _inbound(ws: Workspace, cohort: Cohort, module: str) -> set[str]:
    root = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "inbound"
    return {p.name.split("+")[0] for p in root.glob(f"*+{module}+*")} if root.is_dir() else set()


def _row(
    ws: Workspace,
    cohort: Cohort,
    session: str,
    module: Module,
    pair: Any,
    book: ScoreBook,
    inbound: set[str],
) -> StatusRow:
    learner, lead = pair.member(module.learner), pair.member(module.lead)
    due = book.due_date(module.id)
    score = book.score(module.id, learner)
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
        due.isoformat() if due is not None else None,
    )


def _changed_after_grading(
    ws: Workspace, cohort: Cohort, modules: list[Module], book: ScoreBook
) -> list[str]:
    """Submissions graded by hand that changed since, e.g. "s1 on t1-social-media"."""
    changed = changed_after_grading(ws, cohort, modules, book=book)
    return [f"{who} on {module}" for module, who in changed]


def cohort_status(root: Path | str) -> CohortStatus:
    ws = Workspace(root)
    cohort = ws.load()
    program: Program = ws.program(cohort)
    status = CohortStatus(
        cohort.name, unpaired=list(cohort.unpaired), withdrawn=list(cohort.withdrawn)
    )
    status.pairing = outlook(cohort, program)
    released = [m for s in program.sessions if s.id in cohort.released for m in s.modules]
    status.grading_unfinished = unfinished_note(unfinished_grading(ws, cohort, released))
    book = read_book(ws, cohort, [m.id for m in released], cells=True)  # one read for all
    status.changed_after_grading = _changed_after_grading(ws, cohort, released, book)
    status.strays = find_strays(ws, cohort, [m.id for m in released])
    status.pairs = {p.id: [p.junior, p.senior] for p in cohort.pairs}
    status.next_session = next(
        (s.id for s in program.sessions if s.id not in cohort.released), None
    )
    for session in program.sessions:
        if session.id in cohort.released:
            due = book.due_date(session.modules[0].id)
            status.sessions[session.id] = due.isoformat() if due is not None else None
    for session in program.sessions:
        if session.id not in cohort.released:
            continue
        for module in session.modules:
            inbound = _inbound(ws, cohort, module.id)  # listed once per module, not per row
            for pair in cohort.pairs:
                status.rows.append(_row(ws, cohort, session.id, module, pair, book, inbound))
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
    status.not_yet_due = sum(
        (r.learner_submission == "not yet due") + (r.lead_submission == "not yet due") for r in rows
    )
    return status
