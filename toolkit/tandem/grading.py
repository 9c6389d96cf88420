"""Autograding checkpoints with nbgrader's own API, and reading scores back.

Only a module's *learner* is graded on its checkpoint; the lead's copy is never
counted. Submissions are validated first: a notebook that is not valid nbformat is
moved to ``quarantine/`` with the reason, never graded silently.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from tandem.cohort import Cohort, Workspace
from tandem.curriculum import Module, read_valid_notebook
from tandem.errors import NotebookError
from tandem.exchange import scrub_submission
from tandem.fsutil import atomic_write_json, atomic_write_text

Status = Literal["graded", "missing", "failed", "quarantined"]


@dataclass(frozen=True)
class Score:
    """A learner's checkpoint score as the gradebook holds it."""

    auto_score: float
    auto_max: float
    manual_score: float | None
    manual_max: float
    manual_pending: bool
    late: bool = False
    #: nbgrader's late penalty (points taken off the total), when the cohort chose one.
    #: Mastery in reports uses the scores before it: the penalty is about punctuality.
    penalty: float = 0.0

    @property
    def auto_percent(self) -> float:
        return 100.0 * self.auto_score / self.auto_max if self.auto_max else 0.0


@dataclass(frozen=True)
class CheckpointResult:
    module: str
    participant: str
    pair: str
    status: Status
    score: Score | None = None
    error: str | None = None
    seconds: float = 0.0


@contextmanager
def quiet_nbgrader() -> Iterator[None]:
    """Hide SQLAlchemy's autoflush warnings that nbgrader's own code triggers."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def read_score(ws: Workspace, cohort: Cohort, module_id: str, participant_id: str) -> Score | None:
    """The gradebook's score for one learner on one module, or None if not graded."""
    from nbgrader.api import MissingEntry

    with ws.gradebook(cohort) as gradebook:
        try:
            submission = gradebook.find_submission(module_id, participant_id)
        except MissingEntry:
            return None
        auto = auto_max = manual_max = 0.0
        manual: float | None = None
        pending = False
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.cell_type == "code":
                    auto += grade.auto_score or 0.0
                    auto_max += grade.max_score
                else:
                    manual_max += grade.max_score
                    if grade.needs_manual_grade:
                        pending = True
                    elif grade.manual_score is not None or grade.auto_score is not None:
                        manual = (manual or 0.0) + grade.score
        return Score(
            auto,
            auto_max,
            manual,
            manual_max,
            pending,
            late=submission.total_seconds_late > 0,
            penalty=float(submission.late_submission_penalty or 0.0),
        )


def read_grades(
    ws: Workspace, cohort: Cohort, module_id: str, participant_id: str
) -> dict[str, tuple[float | None, float]]:
    """Each graded cell's (autograded score, maximum) by grade id; empty if not graded."""
    from nbgrader.api import MissingEntry

    with ws.gradebook(cohort) as gradebook:
        try:
            submission = gradebook.find_submission(module_id, participant_id)
        except MissingEntry:
            return {}
        return {
            grade.name: (grade.auto_score, grade.max_score)
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def check_submission(folder: Path) -> None:
    """Raise :class:`NotebookError` if a notebook in ``folder`` is not valid nbformat."""
    for path in sorted(folder.glob("*.ipynb")):
        read_valid_notebook(path)


def quarantine(ws: Workspace, folder: Path, participant: str, module: str, reason: str) -> Path:
    """Move a refused submission aside, with a README saying why. Nothing is deleted."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = ws.folder("quarantine") / participant / f"{module}-{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), str(target))
    atomic_write_text(target / "QUARANTINED.txt", reason + "\n")
    return target


def grade_module(ws: Workspace, cohort: Cohort, module: Module) -> list[CheckpointResult]:
    """Autograde every learner's submission of ``module``; one failure never stops the rest."""
    api = ws.nbgrader_api()
    results = []
    for pair, learner in cohort.learners(module):
        started = time.perf_counter()
        folder = ws.submission_dir(learner, module.id)
        if not folder.is_dir():
            results.append(CheckpointResult(module.id, learner, pair.id, "missing"))
            continue
        try:
            check_submission(folder)
        except NotebookError as exc:
            quarantine(ws, folder, learner, module.id, str(exc))
            results.append(
                CheckpointResult(module.id, learner, pair.id, "quarantined", error=str(exc))
            )
            continue
        scrub_submission(folder)  # never let saved widget state reach the gradebook
        with quiet_nbgrader():
            outcome = api.autograde(module.id, learner, force=True, create=False)
        elapsed = time.perf_counter() - started
        if not outcome.get("success"):
            results.append(
                CheckpointResult(
                    module.id,
                    learner,
                    pair.id,
                    "failed",
                    error=_error_line(outcome),
                    seconds=elapsed,
                )
            )
            continue
        results.append(
            CheckpointResult(
                module.id,
                learner,
                pair.id,
                "graded",
                score=read_score(ws, cohort, module.id, learner),
                seconds=elapsed,
            )
        )
    return results


def grade_session(root: Path | str, session_id: str) -> list[CheckpointResult]:
    """Autograde both modules of a released session and record the run in ``runs/``."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        program = ws.program(cohort)
        session = program.session(session_id)
        if session_id not in cohort.released:
            from tandem.errors import GradingError

            raise GradingError(
                f"{session_id} has not been released; run 'tandem release' first", path=ws.root
            )
        results = [r for m in session.modules for r in grade_module(ws, cohort, m)]
        atomic_write_json(
            ws.folder("runs") / f"grade-{session_id}.json",
            {
                "session": session_id,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "results": [asdict(r) for r in results],
            },
        )
    return results


def _error_line(outcome: dict[str, str]) -> str:
    text = (outcome.get("error") or outcome.get("log") or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "nbgrader autograde failed"
