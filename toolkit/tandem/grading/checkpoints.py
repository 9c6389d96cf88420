"""Autograding checkpoints with nbgrader's own API, and reading scores back.

Only a module's *learner* is graded on its checkpoint; the lead's copy is never
counted. Submissions are scrubbed of saved widget state and validated first, each notebook
on its own: a checkpoint notebook that is not valid nbformat sends the submission to
``quarantine/`` with the reason, never graded silently; any other damaged notebook (the
lesson) is moved to ``quarantine/`` alone, and the checkpoint is graded.

Grading again never throws a grader's work away: only submissions new or changed since
their last autograde are graded (their checksum is kept in
``autograded/<participant>/.graded-<module>.json``); an unchanged one keeps its grade and
its grades by hand, even when regraded with ``force``. A submission that changed after it
was graded by hand is listed by :func:`changed_after_grading`.
"""

from __future__ import annotations

import hashlib
import json
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
from tandem.grading.scores import Key, Score, ScoreBook, read_book, read_scores
from tandem.grading.unfinished import Unfinished, unfinished

Status = Literal["graded", "missing", "failed", "quarantined"]
#: a submission since its last autograde: never graded, changed, or the same
Change = Literal["new", "changed", "unchanged"]


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
    #: graded before and not changed since: its grade (and any grade by hand) kept as it
    #: was, not graded again (``force`` regrades it)
    unchanged: bool = False


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
    once its grading run finished: rows of an unfinished run are never read as a score.

    One checkpoint through nbgrader's ORM (about a dozen statements): a command over a
    cohort reads every score at once with :func:`tandem.grading.scores.read_book`, which
    gives the same values (``tests/grading/test_scores.py`` holds them to it)."""
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


def graded_record(ws: Workspace, participant_id: str, module_id: str) -> Path:
    """What Tandem last autograded of a submission (its checksum), beside its autograded
    folder as the marker of :mod:`tandem.grading.unfinished` is:
    ``autograded/<participant>/.graded-<module>.json``."""
    folder = ws.folder("autograded") / check_id(participant_id)
    return folder / f".graded-{check_id(module_id)}.json"


def submission_checksum(folder: Path) -> str:
    """sha256 over a submission's notebooks and nbgrader's ``timestamp.txt``, by name."""
    digest = hashlib.sha256()
    for path in sorted([*folder.glob("*.ipynb"), folder / "timestamp.txt"]):
        if path.is_file():
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _recorded_checksum(path: Path) -> str | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    checksum = record.get("checksum") if isinstance(record, dict) else None
    return checksum if isinstance(checksum, str) else None


def _write_record(path: Path, checksum: str) -> None:
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atomic_write_json(path, {"checksum": checksum, "graded": stamp})


def _graded_after_submitted(ws: Workspace, folder: Path, dest: Path, module_id: str) -> bool:
    """For a submission autograded before Tandem kept checksums: every checkpoint's
    autograded notebook is newer than the submission (its files and its timestamp)."""
    from nbgrader.utils import parse_utc

    names = [p.name for p in (ws.folder("source") / module_id).glob("*.ipynb")]
    graded = [dest / name for name in names]
    if not graded or not all(p.is_file() for p in graded):
        return False
    oldest = min(p.stat().st_mtime for p in graded)
    files = [*folder.glob("*.ipynb"), folder / "timestamp.txt"]
    newest = max((p.stat().st_mtime for p in files if p.is_file()), default=0.0)
    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        try:
            newest = max(newest, parse_utc(stamp.read_text().strip()).timestamp())
        except (ValueError, OverflowError):
            return False
    return oldest > newest


def submission_change(ws: Workspace, module_id: str, participant_id: str) -> Change:
    """Whether a learner's submission is new, changed or unchanged since Tandem last
    autograded it (by its checksum; for one graded before checksums were kept, by time)."""
    folder = ws.submission_dir(participant_id, module_id)
    recorded = _recorded_checksum(graded_record(ws, participant_id, module_id))
    if recorded is not None:
        return "unchanged" if recorded == submission_checksum(folder) else "changed"
    dest = ws.folder("autograded") / check_id(participant_id) / check_id(module_id)
    if not dest.is_dir():
        return "new"
    return "unchanged" if _graded_after_submitted(ws, folder, dest, module_id) else "changed"


def _hand_grades(book: ScoreBook, key: Key) -> dict[tuple[str, str], float]:
    """A submission's grades given by hand: (notebook, cell) -> points."""
    return {
        (c.notebook, c.cell): c.manual_score
        for c in book.cells.get(key, [])
        if c.manual_score is not None and not c.needs_manual_grade
    }


def _keep_hand_grades(
    ws: Workspace, cohort: Cohort, kept: dict[Key, dict[tuple[str, str], float]]
) -> None:
    """nbgrader asks for a grade by hand again on every cell it re-autogrades that had one;
    for a submission that did not change, the grade given stands."""
    if not kept:
        return
    from nbgrader.api import MissingEntry

    with ws.gradebook(cohort) as gradebook:
        for (module_id, participant_id), cells in kept.items():
            for (notebook, cell), points in cells.items():
                try:
                    grade = gradebook.find_grade(cell, notebook, module_id, participant_id)
                except MissingEntry:  # the regraded notebook lost the cell: nothing to keep
                    continue
                if grade.manual_score == points and grade.needs_manual_grade:
                    grade.needs_manual_grade = False
        gradebook.db.commit()


def changed_after_grading(
    ws: Workspace, cohort: Cohort, modules: list[Module], *, book: ScoreBook | None = None
) -> list[Key]:
    """Learners' submissions graded by hand that changed since: not autograded again yet
    (their checksum is not the one autograded), or autograded again with the grade by hand
    kept by nbgrader for the facilitator to confirm or change in formgrader. ``book``: the
    gradebook already read with its cells (else it is read here)."""
    if book is None or not book.with_cells:
        book = read_book(ws, cohort, [m.id for m in modules], cells=True)
    found = []
    for module in modules:
        for _, learner in cohort.learners(module):
            key = (module.id, learner)
            by_hand = [c for c in book.cells.get(key, []) if c.manual_score is not None]
            if not by_hand or key in book.unfinished:
                continue
            if any(c.needs_manual_grade for c in by_hand) or (
                ws.submission_dir(learner, module.id).is_dir()
                and submission_change(ws, module.id, learner) == "changed"
            ):
                found.append(key)
    return found


def grade_modules(
    ws: Workspace,
    cohort: Cohort,
    modules: list[Module],
    options: RunOptions | None = None,
    executor: Executor | None = None,
    *,
    force: bool = False,
) -> list[CheckpointResult]:
    """Autograde every learner's submission of ``modules`` that is new or changed since
    its last autograde (``force``: every one) in parallel, isolated kernels.

    An unchanged submission keeps its grade, and every grade given by hand stands, even
    with ``force``. Invalid notebooks are quarantined with the reason; one failure never
    stops the rest.
    """
    from tandem.grading.autograde import grade

    results: dict[tuple[str, str], CheckpointResult] = {}
    todo: list[tuple[str, str]] = []
    pairs: dict[tuple[str, str], str] = {}
    set_aside: dict[tuple[str, str], list[str]] = {}
    checksums: dict[Key, str] = {}
    kept: dict[Key, dict[tuple[str, str], float]] = {}
    before = read_book(ws, cohort, [m.id for m in modules], cells=True)
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
                graded_record(ws, learner, module.id).unlink(missing_ok=True)
                results[key] = CheckpointResult(
                    module.id, learner, pair.id, "quarantined", error=reason
                )
                continue
            same = submission_change(ws, module.id, learner) == "unchanged"
            score = before.score(module.id, learner)
            autograded = (ws.folder("autograded") / learner / module.id).is_dir()
            if same and score is not None and autograded and not force:
                record = graded_record(ws, learner, module.id)
                if not record.is_file():  # graded before checksums were kept: keep one now
                    _write_record(record, submission_checksum(folder))
                results[key] = CheckpointResult(
                    module.id, learner, pair.id, "graded", score=score, unchanged=True
                )
                continue
            if same:
                kept[key] = _hand_grades(before, key)
            checksums[key] = submission_checksum(folder)
            todo.append(key)
    if todo:
        with quiet_nbgrader():
            outcomes = grade(ws.nbgrader_api(), todo, options=options, executor=executor)
        done = {k for k, o in zip(todo, outcomes, strict=True) if o.status == "graded"}
        _keep_hand_grades(ws, cohort, {k: v for k, v in kept.items() if k in done and v})
        for key in todo:
            record = graded_record(ws, key[1], key[0])
            if key in done:
                _write_record(record, checksums[key])
            else:
                record.unlink(missing_ok=True)
        scores = read_scores(ws, cohort, {module for module, _ in todo})
        for key, outcome in zip(todo, outcomes, strict=True):
            graded = outcome.status == "graded"
            results[key] = CheckpointResult(
                key[0],
                key[1],
                pairs[key],
                "graded" if graded else "failed",
                score=scores.get(key) if graded else None,
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
    force: bool = False,
) -> list[CheckpointResult]:
    """Autograde both modules of a released session and record the run in ``runs/``: the
    submissions new or changed since their last autograde, or with ``force`` every one
    (:func:`grade_modules`)."""
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
        results = grade_modules(ws, cohort, list(session.modules), options, executor, force=force)
        atomic_write_json(
            ws.folder("runs") / f"grade-{session_id}.json",
            {
                "session": session_id,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "results": [asdict(r) for r in results],
            },
        )
    return results
