"""`tandem status` laid out for the terminal: one row per pair, a mark per module.

The compact layout never cuts an id and never writes a line wider than the terminal
(``$COLUMNS``, else the terminal's width, else 80) unless one id alone is wider. When the
columns do not fit, the pair's two members are stacked on two lines, then the earliest
sessions are left out (and the output says so: ``--wide`` and ``--json`` show them all).
"""

from __future__ import annotations

import shutil
import textwrap
from datetime import datetime
from pathlib import Path

from rich.table import Table

from tandem.cohort.exchange import due_text
from tandem.reports.status import CohortStatus, StatusRow

GAP = "  "
#: What each mark says about a module's checkpoint, for a pair's learner.
LEGEND = (
    (".", "not yet due"),
    ("-", "missing"),
    (">", "in the exchange (run collect)"),
    ("s", "submitted"),
    ("a", "autograded, written answer to grade"),
    ("g", "graded"),
    ("f", "feedback released"),
)


def terminal_width() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def mark(row: StatusRow) -> str:
    """One character for where a pair's learner stands on a module (see LEGEND)."""
    submission = row.learner_submission
    if submission in ("not yet due", "missing", "in exchange"):
        return {"not yet due": ".", "missing": "-", "in exchange": ">"}[submission]
    if row.feedback == "released":
        letter = "f"
    elif row.grading == "graded":
        letter = "g"
    elif row.grading.endswith("pending"):
        letter = "a"
    else:
        letter = "s"
    return letter.upper() if submission == "late" else letter


def _due(iso: str | None) -> str:
    return due_text(datetime.fromisoformat(iso) if iso else None)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Lines of at most ``width`` characters, never breaking a word (ids stay whole)."""
    return textwrap.wrap(
        text,
        width=width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [""]


def _table(status: CohortStatus, sessions: list[str], stacked: bool) -> list[list[str]]:
    """The table's lines as cells: a header, then one row (two if stacked) per pair."""
    labels = {s: f"S{i}" for i, s in enumerate(status.sessions, 1)}
    marks: dict[tuple[str, str], str] = {}
    for row in status.rows:
        key = (row.pair, row.session)
        marks[key] = marks.get(key, "") + mark(row)
    header = ["pair", "junior / senior" if stacked else "junior"]
    header += [] if stacked else ["senior"]
    lines = [header + [labels[s] for s in sessions]]
    for pair, (junior, senior) in status.pairs.items():
        cells = [marks.get((pair, s), "") for s in sessions]
        if stacked:
            lines.append([pair, junior, *cells])
            lines.append(["", senior, *["" for _ in sessions]])
        else:
            lines.append([pair, junior, senior, *cells])
    return lines


def _fit(lines: list[list[str]]) -> tuple[list[int], int]:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return widths, sum(widths) + len(GAP) * (len(widths) - 1)


def compact_lines(status: CohortStatus, directory: Path | str, width: int) -> list[str]:
    """The compact status: a title, the pairs table, its legend and what needs doing."""
    out = _wrap(status.cohort, width)
    sessions = list(status.sessions)
    shown = sessions
    table: list[list[str]] = []
    for stacked in (False, True):
        shown = sessions
        while True:
            table = _table(status, shown, stacked)
            if _fit(table)[1] <= width or not shown:
                break
            shown = shown[1:]  # leave out the earliest session
        if shown == sessions:
            break
    widths, _ = _fit(table)
    for cells in table:
        out.append(GAP.join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    labels = {s: f"S{i}" for i, s in enumerate(sessions, 1)}
    left_out = sessions[: len(sessions) - len(shown)]
    if left_out:
        names = ", ".join(labels[s] for s in left_out)
        out += _wrap(
            f"Not shown at this width: {names}; 'tandem status {directory} --wide' or "
            "--json shows every session.",
            width,
        )
    for session in shown:
        modules = list(dict.fromkeys(r.module for r in status.rows if r.session == session))
        due = _due(status.sessions[session])
        out += _wrap(f"{labels[session]} {session}: {', '.join(modules)}; due {due}", width, "   ")
    if sessions:
        items = [f"{symbol} {meaning}" for symbol, meaning in LEGEND]
        out += _wrap(
            "Marks (the learner's checkpoint, one per module): "
            + "; ".join(items)
            + "; a capital letter: submitted late.",
            width,
            "  ",
        )
    return out


def notes_lines(status: CohortStatus, directory: Path | str, width: int) -> list[str]:
    """What follows the table in every layout: not yet due, strays, withdrawn, summary."""
    out: list[str] = []
    if not status.sessions and status.next_session:
        out += _wrap(
            f"No session is released yet: run 'tandem release {directory} "
            f"{status.next_session}' first.",
            width,
        )
    if status.not_yet_due:
        dues = sorted(
            {
                r.due
                for r in status.rows
                if "not yet due" in (r.learner_submission, r.lead_submission)
            },
            key=str,
        )
        when = ", ".join(_due(d) for d in dues)
        n = status.not_yet_due
        out += _wrap(f"Not yet due: {n} submission{'s' if n != 1 else ''} (due {when}).", width)
    for stray in status.strays:
        out += _wrap(stray.message(directory), width, "  ")
    if status.withdrawn:
        out += _wrap(f"Withdrawn: {', '.join(status.withdrawn)}", width)
    for note in status.grading_unfinished:
        out += _wrap(note, width, "  ")
    for line in status.summary().splitlines():  # each of the summary's lines on its own
        out += _wrap(line, width, "  ")
    return out


def wide_table(status: CohortStatus) -> Table:
    """Every detail: one row per pair and module (``tandem status --wide``)."""
    table = Table(
        "pair",
        "module",
        "learner",
        "submitted",
        "lead",
        "submitted ",
        "grading",
        "auto",
        "feedback",
        "check-ins",
        title=f"{status.cohort}",
    )
    for r in status.rows:
        table.add_row(
            r.pair,
            r.module,
            r.learner,
            _with_due(r.learner_submission, r.due),
            r.lead,
            _with_due(r.lead_submission, r.due),
            r.grading,
            r.autograded,
            r.feedback,
            r.checkins,
        )
    return table


def _with_due(submission: str, due: str | None) -> str:
    return f"{submission} (due {_due(due)})" if submission == "not yet due" else submission
