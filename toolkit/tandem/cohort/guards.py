"""Guards of a cohort workspace: how long to wait for its lock and who holds it, and the
gradebook's integrity, checked before nbgrader opens it."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tandem.errors import CohortError

LOCK_TIMEOUT = 120.0
"""Seconds a command waits for the workspace lock; ``$TANDEM_LOCK_TIMEOUT`` overrides."""


def lock_timeout() -> float:
    """Seconds to wait for a workspace lock: ``$TANDEM_LOCK_TIMEOUT``, else 120."""
    value = os.environ.get("TANDEM_LOCK_TIMEOUT", "").strip()
    if not value:
        return LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise CohortError(f"TANDEM_LOCK_TIMEOUT={value!r} is not a number of seconds")
    return seconds


def holder_record() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def holder(path: Path) -> str:
    """Who holds the lock, as the holder wrote it, for a message."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        command, pid, host, since = data["command"], data["pid"], data["host"], data["since"]
    except (OSError, ValueError, TypeError, KeyError):
        return "another process (it did not say which)"
    return f"{command!r} (process {pid} on {host}, since {since})"


_SQLITE_MAGIC = b"SQLite format 3\x00"
_checked: dict[Path, tuple[int, int, int]] = {}


def check_gradebook(path: Path, *, existed: bool) -> None:
    """Refuse a damaged gradebook, or a missing one that ``existed``, before nbgrader
    opens it: nbgrader would answer garbage with SQLAlchemy tracebacks, and an empty or
    missing file by creating a new gradebook in which every grade is gone."""
    advice = "restore it from a backup; Tandem never replaces a gradebook that existed"
    try:
        stat = path.stat()
    except FileNotFoundError:
        if existed:
            raise CohortError(f"the gradebook is missing: {advice}", path=path) from None
        return
    key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if _checked.get(path) == key:
        return
    problem = _gradebook_problem(path, stat.st_size)
    if problem:
        raise CohortError(f"the gradebook is damaged ({problem}): {advice}", path=path)
    _checked[path] = key


def _gradebook_problem(path: Path, size: int) -> str | None:
    """What is wrong with the SQLite file at ``path``, or None (also when a writer holds
    it too long to look: that is a busy gradebook, not a damaged one)."""
    if size == 0:
        return "0 bytes"
    with path.open("rb") as handle:
        magic = handle.read(len(_SQLITE_MAGIC))
    if magic != _SQLITE_MAGIC:
        return "not an SQLite database"
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=10)
        try:
            # A read transaction: no writer can commit while the file is measured.
            connection.execute("BEGIN")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
            problem = _truncation(path)
            rows = [] if problem else connection.execute("PRAGMA quick_check").fetchall()
            connection.rollback()
        finally:
            connection.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None
        return str(exc)
    except sqlite3.Error as exc:
        return str(exc)
    if problem:
        return problem
    if rows != [("ok",)]:
        return str(rows[0][0]) if rows else "no answer from SQLite's check"
    return None


def _truncation(path: Path) -> str | None:
    """Whether the file is shorter than its header says (SQLite's own rule for when the
    header's page count holds: the change counter matches its version-valid-for)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(100)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96] and pages > 0
    if len(header) < 100 or page_size < 512 or size % page_size:
        return f"truncated: {size} bytes"
    if counted and size < pages * page_size:
        return f"truncated: {size} of {pages * page_size} bytes"
    return None
