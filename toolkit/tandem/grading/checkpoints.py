"""Autograding checkpoints with nbgrader's own API, and reading scores back.

Only a module's *learner* is graded on its checkpoint; the lead's copy is never
counted. Submissions are scrubbed of saved widget state and validated first, each notebook
on its own: a checkpoint notebook that is not valid nbformat sends the submission to
``quarantine/`` with the reason, never graded silently; any other damaged notebook (the
lesson) is moved to ``quarantine/`` alone, and the checkpoint is graded.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from tandem.cohort.exchange import REMOVED_NOTE, scrub_submission
from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Module
from tandem.engine.batch import RunOptions
from tandem.engine.executors import Executor
from tandem.fsutil import atomic_write_json, atomic_write_text, check_id
from tandem.grading.unfinished import Unfinished, unfinished

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
    note: str | None = None  # e.g. a kernel that died once and was run again


@contextmanager
def quiet_nbgrader() -> Iterator[None]:
    """Hide SQLAlchemy's autoflush warnings that nbgrader's own code triggers."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def grading_unfinished(ws: Workspace, module_id: str, participant_id: str) -> Unfinished | None:
    """Why one learner's grade on one module is not final (grading is running, was
    interrupted or failed: :mod:`tandem.grading.unfinished`), or None."""
    return unfinished(ws.folder("autograded") / check_id(participant_id) / check_id(module_id))


def unfinished_grading(ws: Workspace, cohort: Cohort, modules: list[Module]) -> list[Unfinished]:
    """The learners' submissions of ``modules`` whose grades are not final."""
    found = (
        grading_unfinished(ws, m.id, learner) for m in modules for _, learner in cohort.learners(m)
    )
    return [u for u in found if u is not None]


def read_score(ws: Workspace, cohort: Cohort, module_id: str, participant_id: str) -> Score | None:
    """The score for one learner on one module, or None if not graded. A grade counts only
    once its grading run finished: rows of an unfinished run are never read as a score."""
    if grading_unfinished(ws, module_id, participant_id) is not None:
        return None
    score = _gradebook_score(ws, cohort, module_id, participant_id)
    # Checked again: a run that started while the gradebook was read leaves its marker.
    return None if grading_unfinished(ws, module_id, participant_id) else score


def _gradebook_score(
    ws: Workspace, cohort: Cohort, module_id: str, participant_id: str
) -> Score | None:
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
    """Each graded cell's (autograded score, maximum) by grade id; empty if not graded
    (or if its grading has not finished)."""
    from nbgrader.api import MissingEntry

    if grading_unfinished(ws, module_id, participant_id) is not None:
        return {}

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


def quarantine(ws: Workspace, folder: Path, participant: str, module: str, reason: str) -> Path:
    """Move a refused submission aside, with a README saying why. Nothing is deleted."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = ws.folder("quarantine") / participant / f"{module}-{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), str(target))
    atomic_write_text(target / "QUARANTINED.txt", reason + "\n")
    return target


def quarantine_file(ws: Workspace, path: Path, participant: str, module: str, reason: str) -> Path:
    """Move one refused notebook aside (the rest of its submission stays), with the reason."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = ws.folder("quarantine") / participant / f"{module}-{stamp}-{path.stem}"
    target.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target / path.name))
    atomic_write_text(target / "QUARANTINED.txt", reason + "\n")
    return target


def _checkpoint_problems(
    ws: Workspace, folder: Path, participant: str, module: str
) -> tuple[list[str], list[str]]:
    """Why the submission's checkpoint cannot be graded (empty if it can), and the other
    notebooks set aside. Each notebook is judged on its own: a damaged notebook that is
    not a checkpoint (the lesson) is moved to quarantine alone, and the checkpoint beside
    it is still graded."""
    from tandem.grading.autograde import check_notebook

    checkpoints = {p.name for p in (ws.folder("source") / module).glob("*.ipynb")}
    problems: list[str] = []
    aside: list[str] = []
    for path in sorted(folder.glob("*.ipynb")):
        problem = check_notebook(path)
        if problem is None:
            continue
        if path.name in checkpoints:
            problems.append(problem)
        else:
            target = quarantine_file(ws, path, participant, module, f"{path}: {problem}")
            aside.append(f"{problem} (moved to {target})")
    for name in sorted(checkpoints):
        note = folder / (name + REMOVED_NOTE)
        if not (folder / name).exists() and note.is_file():
            problems.append(note.read_text(encoding="utf-8").strip())
    return problems, aside


def grade_modules(
    ws: Workspace,
    cohort: Cohort,
    modules: list[Module],
    options: RunOptions | None = None,
    executor: Executor | None = None,
) -> list[CheckpointResult]:
    """Autograde every learner's submission of ``modules`` in parallel, isolated kernels.

    Invalid notebooks are quarantined with the reason; one failure never stops the rest.
    """
    from tandem.grading.autograde import grade

    results: dict[tuple[str, str], CheckpointResult] = {}
    todo: list[tuple[str, str]] = []
    pairs: dict[tuple[str, str], str] = {}
    set_aside: dict[tuple[str, str], list[str]] = {}
    for module in modules:
        for pair, learner in cohort.learners(module):
            key = (module.id, learner)
            pairs[key] = pair.id
            folder = ws.submission_dir(learner, module.id)
            if not folder.is_dir():
                results[key] = CheckpointResult(module.id, learner, pair.id, "missing")
                continue
            scrub_submission(folder)  # never let saved widget state reach quarantine/ or grades
            problems, set_aside[key] = _checkpoint_problems(ws, folder, learner, module.id)
            if problems:
                reason = f"{folder}: " + "; ".join(problems)
                quarantine(ws, folder, learner, module.id, reason)
                results[key] = CheckpointResult(
                    module.id, learner, pair.id, "quarantined", error=reason
                )
                continue
            todo.append(key)
    if todo:
        with quiet_nbgrader():
            outcomes = grade(ws.nbgrader_api(), todo, options=options, executor=executor)
        for key, outcome in zip(todo, outcomes, strict=True):
            graded = outcome.status == "graded"
            results[key] = CheckpointResult(
                key[0],
                key[1],
                pairs[key],
                "graded" if graded else "failed",
                score=read_score(ws, cohort, key[0], key[1]) if graded else None,
                error=None if graded else outcome.reason,
                seconds=outcome.seconds,
                note="; ".join(filter(None, [outcome.note, *set_aside.get(key, [])])) or None,
            )
    order = [(m.id, learner) for m in modules for _, learner in cohort.learners(m)]
    return [results[key] for key in order]


def grade_module(
    ws: Workspace, cohort: Cohort, module: Module, options: RunOptions | None = None
) -> list[CheckpointResult]:
    """Autograde every learner's submission of one module."""
    return grade_modules(ws, cohort, [module], options)


def grade_session(
    root: Path | str,
    session_id: str,
    options: RunOptions | None = None,
    *,
    executor: Executor | None = None,
) -> list[CheckpointResult]:
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
        results = grade_modules(ws, cohort, list(session.modules), options, executor)
        atomic_write_json(
            ws.folder("runs") / f"grade-{session_id}.json",
            {
                "session": session_id,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "results": [asdict(r) for r in results],
            },
        )
    return results
