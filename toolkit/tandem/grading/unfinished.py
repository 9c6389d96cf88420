"""Which submissions' grading started and has not finished.

nbgrader writes a submission's gradebook rows (every graded cell at no score yet) before
its notebooks run, and its scores only once they have run. A run killed in between, or a
report read while it runs, would see those rows as a score of 0. So Tandem leaves a
marker beside the autograded folder, ``autograded/<student>/.grading-<assignment>.json``,
before nbgrader touches the gradebook, and removes it only after nbgrader has saved the
scores: a grade is final only when no marker is left. A submission whose grading failed
keeps its marker with the reason (nbgrader leaves its rows too).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from tandem.fsutil import atomic_write_json

State = Literal["running", "interrupted", "failed"]


@dataclass(frozen=True)
class Unfinished:
    """A submission whose grade is not final, and why."""

    assignment: str
    student: str
    state: State
    reason: str | None = None


MARKER_PREFIX, MARKER_SUFFIX = ".grading-", ".json"


def marker(dest: Path) -> Path:
    """The marker of the autograded folder ``dest`` (``autograded/<student>/<assignment>``)."""
    return dest.parent / f"{MARKER_PREFIX}{dest.name}{MARKER_SUFFIX}"


def markers(autograded: Path) -> set[tuple[str, str]]:
    """(assignment, student) of every marker under ``autograded/``, in one listing."""
    if not autograded.is_dir():
        return set()
    return {
        (path.name[len(MARKER_PREFIX) : -len(MARKER_SUFFIX)], path.parent.name)
        for path in autograded.glob(f"*/{MARKER_PREFIX}*{MARKER_SUFFIX}")
    }


def mark_started(dest: Path) -> None:
    """Grading of ``dest``'s submission starts: until :func:`mark_finished`, not final."""
    record = {
        "state": "running",
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    marker(dest).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(marker(dest), record)


def mark_failed(dest: Path, reason: str) -> None:
    """Grading failed: the submission stays not graded, with the reason."""
    record = {"state": "failed", "reason": reason}
    marker(dest).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(marker(dest), record)


def mark_finished(dest: Path) -> None:
    """nbgrader has saved the scores: the grade is final."""
    marker(dest).unlink(missing_ok=True)


def _alive(pid: object, host: object) -> bool:
    if host != socket.gethostname():
        return True  # another machine's run: this one cannot tell, so assume it runs
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unfinished(dest: Path) -> Unfinished | None:
    """Why the grade of ``dest``'s submission is not final, or None if it is (or if it was
    never graded: then there is no grade to show at all)."""
    path = marker(dest)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        record = {}  # a marker cut short by a crash: the run did not finish
    if not isinstance(record, dict):
        record = {}
    assignment, student = dest.name, dest.parent.name
    if record.get("state") == "failed":
        return Unfinished(assignment, student, "failed", str(record.get("reason") or ""))
    if record.get("state") == "running" and _alive(record.get("pid"), record.get("host")):
        return Unfinished(assignment, student, "running")
    return Unfinished(assignment, student, "interrupted")


def unfinished_note(items: list[Unfinished]) -> list[str]:
    """One line per kind of unfinished grading, e.g. "2 submissions are still being graded;
    shown as not graded"."""
    lines = []
    for state, one, many, then in (
        ("running", "submission is still being graded", "submissions are still being graded", ""),
        (
            "interrupted",
            "submission's grading was interrupted",
            "submissions' grading was interrupted",
            " (run 'tandem grade' again)",
        ),
        ("failed", "submission failed grading", "submissions failed grading", ""),
    ):
        found = [f"{u.student} on {u.assignment}" for u in items if u.state == state]
        if found:
            what = one if len(found) == 1 else many
            lines.append(f"{len(found)} {what}; shown as not graded{then}: {', '.join(found)}")
    return lines
