"""Facilitator exports: a cohort's scores and check-ins as CSV or JSON tables.

:func:`export_cohort` writes two files into a folder, each a table in long format
(CSV: a header row, then rows; JSON: a list of objects with the same keys, in order).
A column that does not apply to a row is empty in CSV and ``null`` in JSON.

``scores.<fmt>``: one row per current pair and released module. Only the module's
learner is graded, as in the reports.

* ``pair``, ``module``, ``session``, ``track`` (tech or management)
* ``learner``, ``learner_name``, ``learner_role`` (junior or senior): who learns the module
* ``status``: graded, submitted (not graded yet) or missing; a submission whose grading
  run has not finished (running, killed, failed) is not graded: never a score of 0
  (:func:`grading_notes` says which)
* ``auto_score``, ``auto_max``: autograded points (empty unless graded)
* ``written_score``, ``written_max``: points for written answers; the score stays empty
  while ``written_pending`` is true (an answer awaits a grade by hand)
* ``total_score``, ``total_max``: autograded + written points; the score stays empty
  while ``written_pending`` is true (no total until every answer is graded)
* ``late``: submitted after the due date (booleans are ``True``/``False`` in CSV)

``checkins.<fmt>``: for each participant and released module with a check-in, with
``participant``, ``name``, ``module`` and ``role`` (lead or learner in that module):

* one row of ``kind`` ``checkin``; for the learner it holds their feedback to the lead:
  ``clarity``, ``relevance``, ``pace`` (1-5) and ``comment``
* a ``rating`` row per competency they rated themself on: ``competency``, ``before``,
  ``after`` (1-5)
* for the lead, a ``partner_rating`` row per competency on which they rated the learner
  (same columns); the learner is the pair's other member. The lead's feedback to the
  learner is never exported (its text is for the learner), nor anything of the safety
  pulse: exports hold no pulse answer, score or flag
* a ``reflection`` row per reflection they chose to share: ``prompt``, ``text``

``ideas.<fmt>``: every improvement idea of a current pair's member (shared data, as on
the pair pages): ``id``, ``title``, ``theme``, ``direction`` (from the junior or the
senior), ``pair``, ``module``, ``status`` (awaiting an outcome, trialled, adopted,
declined), the facilitator's ``note`` and its date ``updated``, and the idea's
``process``, ``benefit`` and ``owner``.

``outcomes.<fmt>``: the director page's figures, the programme report's own (aggregates
only, suppressed the same way): ``section`` (reaction, learning, behaviour), ``direction``,
``figure`` and ``value`` (a number, or "fewer than N" / "not shown").

Withdrawn participants and former pairs are left out, as in the reports (``tandem
privacy export`` gives one person's whole record). Malformed check-ins are skipped:
:func:`tandem.cohort.exchange.session_checkin_problems` lists them.

Spreadsheet formula injection: in CSV, every text cell beginning with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (OWASP's list) gets a leading ``'``, so that a
spreadsheet shows it as text instead of running it. Numbers are never altered: a
negative score stays a number. CSV files start with a UTF-8 byte order mark so that
Excel reads accented names correctly. JSON keeps every value exactly as held: it is read
by programs, not opened by spreadsheets, and a prefix would corrupt the data; whoever
turns it into a spreadsheet must neutralise it then.

Exports name people: every file is written with mode 0600 (owner only), whatever the
umask. Where each export was written is recorded in the workspace's export log
(``runs/export-log.json``: paths, dates and, for one person's export, their id; no data)
so that ``tandem privacy erase`` can list the copies outside the workspace that it cannot
reach, and drops their entries.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock

from tandem.cohort.exchange import read_checkins
from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Module, Program
from tandem.errors import ReportError, UsageError
from tandem.fsutil import atomic_write_json, atomic_write_text
from tandem.grading.checkpoints import unfinished_grading
from tandem.grading.scores import read_book
from tandem.grading.unfinished import unfinished_note
from tandem.notebook.checkin import CheckIn
from tandem.reports.data import checkpoint_status, released_modules, session_of

Format = Literal["csv", "json"]
Row = dict[str, Any]

FORMATS: tuple[Format, ...] = ("csv", "json")
SCORE_COLUMNS = (
    "pair",
    "module",
    "session",
    "track",
    "learner",
    "learner_name",
    "learner_role",
    "status",
    "auto_score",
    "auto_max",
    "written_score",
    "written_max",
    "written_pending",
    "total_score",
    "total_max",
    "late",
)
CHECKIN_COLUMNS = (
    "participant",
    "name",
    "module",
    "role",
    "kind",
    "competency",
    "before",
    "after",
    "clarity",
    "relevance",
    "pace",
    "comment",
    "prompt",
    "text",
)
FEEDBACK_FIELDS = ("clarity", "relevance", "pace", "comment")
#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Where exports were written, in a workspace: ``{"exports": [{"path", "kind",
#: "participant", "written"}]}`` (``kind`` is ``cohort`` or ``participant``).
EXPORT_LOG = ("runs", "export-log.json")


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell: text that a spreadsheet would run as a
    formula gets a leading ``'``; anything that is not text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: list[Row]) -> str:
    """A CSV table of ``rows`` (with a byte order mark), every text cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([neutralise(row.get(c)) for c in columns] for row in rows)
    return "\ufeff" + out.getvalue()


def json_text(columns: Sequence[str], rows: list[Row]) -> str:
    """A JSON list of ``rows``, each with every column in order; values as they are."""
    table = [{c: row.get(c) for c in columns} for row in rows]
    return json.dumps(table, indent=2, ensure_ascii=False) + "\n"


def score_rows(ws: Workspace, cohort: Cohort, program: Program, modules: list[Module]) -> list[Row]:
    """One row per current pair and released module: the learner's checkpoint."""
    sessions = session_of(program)
    book = read_book(ws, cohort, [m.id for m in modules])
    rows = []
    for pair in cohort.pairs:
        for module in modules:
            learner = pair.member(module.learner)
            status = checkpoint_status(ws, cohort, module, learner, book)
            rows.append(
                {
                    "pair": pair.id,
                    "module": module.id,
                    "session": sessions[module.id],
                    "track": module.track,
                    "learner": learner,
                    "learner_name": cohort.participant(learner).name,
                    "learner_role": module.learner,
                    "status": status["status"],
                    "auto_score": status["auto_score"],
                    "auto_max": status["auto_max"],
                    "written_score": status["manual_score"],
                    "written_max": status["manual_max"],
                    "written_pending": status["manual_pending"],
                    "total_score": status["total_score"],
                    "total_max": status["total_max"],
                    "late": status["late"],
                }
            )
    return rows


def checkin_rows(cohort: Cohort, module: Module, checkins: dict[str, CheckIn]) -> Iterator[Row]:
    """The rows of each participant's check-in on ``module`` (see the module docstring)."""
    for person in cohort.participants:
        checkin = checkins.get(person.id)
        if checkin is None or person.id in cohort.withdrawn:
            continue
        role = "lead" if person.role == module.lead else "learner"
        base = {"participant": person.id, "name": person.name, "module": module.id, "role": role}
        feedback = checkin.feedback.model_dump() if checkin.feedback and role == "learner" else {}
        yield {**base, "kind": "checkin", **{f: feedback.get(f) for f in FEEDBACK_FIELDS}}
        yield from _rating_rows(base, "rating", module, checkin.self_assessment)
        if role == "lead":
            yield from _rating_rows(base, "partner_rating", module, checkin.partner_rating)
        for prompt, text in checkin.shared_reflections.items():
            yield {**base, "kind": "reflection", "prompt": prompt, "text": text}


def _rating_rows(
    base: Row, kind: str, module: Module, ratings: dict[str, dict[str, int]]
) -> Iterator[Row]:
    before, after = ratings.get("before", {}), ratings.get("after", {})
    rated = {*before, *after}
    ordered = [c for c in module.competencies if c in rated]
    for competency in ordered + sorted(rated - set(ordered)):
        yield {
            **base,
            "kind": kind,
            "competency": competency,
            "before": before.get(competency),
            "after": after.get(competency),
        }


def grading_notes(root: Path | str) -> list[str]:
    """Why some submissions of the cohort at ``root`` are exported as not graded: e.g.
    "2 submissions are still being graded; shown as not graded: ..."."""
    ws = Workspace(root)
    cohort = ws.load()
    modules = released_modules(ws.program(cohort), cohort)
    return unfinished_note(unfinished_grading(ws, cohort, modules))


IDEA_COLUMNS = ("id", "title", "theme", "direction", "pair", "module", "status", "note",
                "updated", "process", "benefit", "owner")  # fmt: skip


def export_cohort(root: Path | str, out: Path, fmt: Format) -> list[Path]:
    """Write ``scores``, ``checkins``, ``ideas`` and ``outcomes`` (``.<fmt>``) of the cohort
    at ``root`` into the folder ``out`` (created if missing), each atomically; return the
    files written."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}: choose csv or json")
    ws = Workspace(root)
    cohort = ws.load()
    program = ws.program(cohort)
    modules = released_modules(program, cohort)
    checkins = [
        row
        for module in modules
        for row in checkin_rows(cohort, module, read_checkins(ws, cohort, module.id)[0])
    ]
    from tandem.reports.build import report_figures  # the report's own figures
    from tandem.reports.director import DIRECTOR_COLUMNS, director_data, director_rows

    figures = report_figures(ws)
    tables = {
        "scores": (SCORE_COLUMNS, score_rows(ws, cohort, program, modules)),
        "checkins": (CHECKIN_COLUMNS, checkins),
        "ideas": (IDEA_COLUMNS, figures.ideas),
        "outcomes": (DIRECTOR_COLUMNS, director_rows(director_data(figures.programme))),
    }
    render = csv_text if fmt == "csv" else json_text
    out = Path(out)
    paths = [out / f"{name}.{fmt}" for name in tables]
    # recorded before anything is written: an export the log misses could not be listed
    # when a participant is erased
    record_exports(ws, paths, "cohort")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, (columns, rows) in zip(paths, tables.values(), strict=True):
            atomic_write_text(path, render(columns, rows), private=True)
    except OSError as exc:
        raise ReportError(f"cannot write the export: {exc.strerror or exc}", path=out) from None
    return paths


def export_log_path(ws: Workspace) -> Path:
    return ws.root.joinpath(*EXPORT_LOG)


def read_export_log(ws: Workspace) -> list[dict[str, Any]]:
    """The workspace's record of where exports were written (oldest first)."""
    path = export_log_path(ws)
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("exports", [])
    except (ValueError, AttributeError) as exc:
        raise ReportError(f"the export log cannot be read: {exc}", path=path) from None
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]


def write_export_log(ws: Workspace, entries: list[dict[str, Any]]) -> None:
    atomic_write_json(export_log_path(ws), {"exports": entries})


def record_exports(
    ws: Workspace, paths: Sequence[Path], kind: str, participant: str | None = None
) -> None:
    """Add ``paths`` (absolute) to the workspace's export log, replacing older entries."""
    written = datetime.now(timezone.utc).isoformat(timespec="seconds")
    new = [str(Path(p).resolve()) for p in paths]
    log = export_log_path(ws)
    log.parent.mkdir(parents=True, exist_ok=True)
    # the log's own lock, not the workspace's: an export never waits for a grading run
    with FileLock(str(log) + ".lock", timeout=60):
        kept = [e for e in read_export_log(ws) if e["path"] not in new]
        entry = {"kind": kind, "participant": participant, "written": written}
        write_export_log(ws, kept + [{"path": p, **entry} for p in new])
