"""Moving modules between facilitator and participants through nbgrader's exchange.

The facilitator side publishes released modules and collects submissions with
:class:`nbgrader.apps.NbGraderAPI`; the participant side (what `nbgrader fetch_assignment`
and `nbgrader submit`, or JupyterLab's Assignments tab, do) is wrapped here too so that
the demo and the tests use the very same exchange code paths.

Collecting scrubs every submitted notebook of saved widget state: JupyterLab's *Save
Widget State Automatically* setting would otherwise carry the text of private
reflections inside the notebook's metadata. A notebook too damaged to read (e.g. truncated
JSON) that holds saved widget state is removed, unread, with a note saying why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tandem.cohort.forged import refuse_forged
from tandem.cohort.strays import Stray, find_strays
from tandem.cohort.workspace import Cohort, Workspace, due_date
from tandem.curriculum.manifest import Program
from tandem.errors import CohortError, TandemError
from tandem.fsutil import atomic_write_text
from tandem.notebook.checkin import CHECKIN_FILE, CheckIn, read_checkin
from tandem.notebook.widgetstate import WIDGET_STATE as WIDGET_STATE
from tandem.notebook.widgetstate import WIDGET_VIEW as WIDGET_VIEW
from tandem.notebook.widgetstate import scrub_widgets


def _participant_config(
    ws_config: dict[str, Any], home: Path, module: str, participant: str
) -> Any:
    from traitlets.config import Config

    config = Config(ws_config)
    config.CourseDirectory.assignment_id = module
    config.CourseDirectory.student_id = participant
    config.Exchange.assignment_dir = str(home)
    config.Exchange.cache = str(home / ".nbgrader-cache")
    return config


def _run_exchange(kind: str, config: Any) -> None:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeError, ExchangeFactory

    factory = ExchangeFactory(config=config)
    app = getattr(factory, kind)(
        coursedir=CourseDirectory(config=config),
        authenticator=Authenticator(config=config),
        config=config,
    )
    try:
        app.start()
    except ExchangeError as exc:
        raise CohortError(f"nbgrader exchange {kind} failed: {exc}") from None


def fetch(ws: Workspace, home: Path, module: str, participant: str) -> Path:
    """As ``participant``: fetch a released module into ``home`` (like JupyterLab does)."""
    home.mkdir(parents=True, exist_ok=True)
    _run_exchange(
        "FetchAssignment", _participant_config(ws.nbgrader_config(), home, module, participant)
    )
    return home / module


def submit(ws: Workspace, home: Path, module: str, participant: str) -> None:
    """As ``participant``: submit their copy of a module from ``home``."""
    _run_exchange("Submit", _participant_config(ws.nbgrader_config(), home, module, participant))


def fetch_feedback(ws: Workspace, home: Path, module: str, participant: str) -> list[Path]:
    """As ``participant``: fetch released feedback into ``home/<module>/feedback/``."""
    _run_exchange(
        "FetchFeedback", _participant_config(ws.nbgrader_config(), home, module, participant)
    )
    return sorted((home / module / "feedback").rglob("*.html"))


def publish(ws: Workspace, module: str) -> None:
    """Put a released module into the exchange's outbound folder."""
    result = ws.nbgrader_api().release_assignment(module)
    if not result.get("success"):
        text = (result.get("error") or result.get("log") or "").strip().splitlines()
        raise CohortError(
            f"nbgrader could not publish {module} to the exchange: "
            f"{text[-1] if text else 'no output'}",
            path=ws.folder("exchange"),
        )


#: Bytes that only saved widget state (or a widget's output) puts into a notebook file.
WIDGET_MARKERS = (b"application/vnd.jupyter.widget", b'"widgets"')
#: Beside a notebook removed because it could not be read and held widget state.
REMOVED_NOTE = ".removed.txt"


def scrub_widget_state(path: Path) -> bool:
    """Remove saved widget state from a notebook; return whether anything was removed.

    A notebook that cannot be read as a notebook (e.g. truncated JSON) cannot be scrubbed
    field by field. If its bytes hold no widget marker it is left as it is (grading sets
    it aside, unread). If they do, it is removed, unread, and a note
    ``<name>.ipynb.removed.txt`` says why: saved widget state can carry the text of
    private reflections, and no part of a damaged file can be trusted not to.
    """
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # unreadable JSON or an unknown format: scrub by bytes
        return _drop_if_widget_state(path)
    changed = scrub_widgets(notebook)  # all widget state and widget outputs
    if changed:
        atomic_write_text(path, nbformat.writes(notebook))
    return changed


def _drop_if_widget_state(path: Path) -> bool:
    try:
        content = path.read_bytes()
    except OSError:  # unreadable to us, so unreadable to grading too: it is set aside
        return False
    if not any(marker in content for marker in WIDGET_MARKERS):
        return False
    note = path.with_name(path.name + REMOVED_NOTE)
    atomic_write_text(
        note,
        f"{path.name} ({len(content)} bytes) was removed unread when it was collected: it "
        "is not a readable notebook and it held saved widget state, which can carry the "
        "text of private reflections.\n",
    )
    path.unlink()
    return True


def scrub_submission(folder: Path) -> list[Path]:
    """Scrub every notebook of a submission folder; return the notebooks changed (or
    removed: see :func:`scrub_widget_state`)."""
    return [p for p in sorted(folder.rglob("*.ipynb")) if scrub_widget_state(p)]


def due_passed(due: datetime) -> bool:
    """Whether a due date (naive UTC, as the gradebook holds it) has passed."""
    return datetime.now(timezone.utc).replace(tzinfo=None) > due.replace(tzinfo=None)


def due_text(due: datetime | None) -> str:
    """A due date as people read it: "18 Jan" this year, "18 Jan 2027" another year."""
    if due is None:
        return "no due date"
    this_year = due.year == datetime.now(timezone.utc).year
    return f"{due.day} {due:%b}" + ("" if this_year else f" {due.year}")


def require_released(root: Path | str, cohort: Cohort, program: Program, session_id: str) -> None:
    """A CohortError saying which command comes first if ``session_id`` is not released."""
    program.session(session_id)  # an unknown session id is refused, naming the manifest
    if session_id not in cohort.released:
        raise CohortError(
            f"session {session_id} is not released yet: run "
            f"'tandem release {root} {session_id}' first"
        )


def modules_to_collect(
    root: Path | str, cohort: Cohort, program: Program, session_id: str
) -> list[str]:
    """The module ids collected for ``session_id``: a released session's two modules, or
    the follow-up's id (``session_id`` may name it) once ``tandem followup`` released it."""
    followup = program.followup
    if followup is not None and session_id == followup.id:
        if cohort.followup_released is None:
            raise CohortError(
                f"the follow-up {followup.id} is not released yet: run "
                f"'tandem followup {root}' first"
            )
        return [followup.id]
    require_released(root, cohort, program, session_id)
    return [m.id for m in program.session(session_id).modules]


def sessions_to_collect(root: Path | str, session_id: str | None) -> list[str]:
    """The sessions ``tandem collect`` works on: ``session_id`` (a session or the
    follow-up) if it is released, else every released session and the follow-up if it is
    released; a CohortError saying what comes first if there are none."""
    ws = Workspace(root)
    cohort = ws.load()
    program = ws.program(cohort)
    if session_id is not None:
        modules_to_collect(root, cohort, program, session_id)
        return [session_id]
    if program.followup is not None and cohort.followup_released is not None:
        return [*cohort.released, program.followup.id]
    if not cohort.released:
        first = program.sessions[0].id
        raise CohortError(
            f"no session is released yet, so there is nothing to collect: run "
            f"'tandem release {root} {first}' first"
        )
    return list(cohort.released)


@dataclass
class CollectReport:
    arrived: dict[str, list[str]] = field(default_factory=dict)
    #: not arrived, and due (the due date passed, or the module has none)
    missing: dict[str, list[str]] = field(default_factory=dict)
    #: not arrived, due later
    not_yet_due: dict[str, list[str]] = field(default_factory=dict)
    due: dict[str, datetime | None] = field(default_factory=dict)
    #: ids not in the cohort with a submission of one of the session's modules
    strays: list[Stray] = field(default_factory=list)
    late: dict[str, list[str]] = field(default_factory=dict)
    scrubbed: list[Path] = field(default_factory=list)
    invalid: list[TandemError] = field(default_factory=list)
    #: on a hub: submissions made from another account than their id's
    refused: list[TandemError] = field(default_factory=list)
    checkin_problems: list[TandemError] = field(default_factory=list)


def read_checkins(
    ws: Workspace, cohort: Cohort, module: str
) -> tuple[dict[str, CheckIn], list[TandemError]]:
    """Validated check-ins of a module from ``submitted/``; malformed ones are reported."""
    found: dict[str, CheckIn] = {}
    problems: list[TandemError] = []
    for person in cohort.participants:
        path = ws.submission_dir(person.id, module) / CHECKIN_FILE
        if not path.is_file():
            continue
        try:
            found[person.id] = read_checkin(path, participant=person.id, module=module)
        except TandemError as exc:
            problems.append(exc)
    return found, problems


def session_checkin_problems(root: Path | str, session_id: str) -> list[TandemError]:
    """The malformed check-ins among a session's submissions (each is skipped, not fatal)."""
    ws = Workspace(root)
    cohort = ws.load()
    problems: list[TandemError] = []
    for module in ws.program(cohort).session(session_id).modules:
        problems += read_checkins(ws, cohort, module.id)[1]
    return problems


def collect_session(root: Path | str, session_id: str) -> CollectReport:
    """Collect a session's submissions (or the follow-up's, when ``session_id`` names it)
    from the exchange, scrub them, check the check-ins."""
    ws = Workspace(root)
    report = CollectReport()
    with ws.locked():
        cohort = ws.load()
        program = ws.program(cohort)
        modules = modules_to_collect(root, cohort, program, session_id)
        api = ws.nbgrader_api()
        for module_id in modules:
            result = api.collect(module_id, update=True)
            if not result.get("success"):
                raise CohortError(
                    f"nbgrader collect failed for {module_id}", path=ws.folder("exchange")
                )
            report.refused += refuse_forged(ws, cohort, module_id, api)
            inbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id
            for copy in sorted((inbound / "inbound").glob(f"*+{module_id}+*")):
                report.scrubbed += scrub_submission(copy)  # the exchange keeps its own copy
            paired = [m for p in cohort.pairs for m in p.members]
            report.arrived[module_id] = [
                p for p in paired if ws.submission_dir(p, module_id).is_dir()
            ]
            due = due_date(ws, cohort, module_id)
            absent = [p for p in paired if p not in report.arrived[module_id]]
            later = due is not None and not due_passed(due)
            report.missing[module_id] = [] if later else absent
            report.not_yet_due[module_id] = absent if later else []
            report.due[module_id] = due
            report.late[module_id] = []
            for participant in report.arrived[module_id]:
                folder = ws.submission_dir(participant, module_id)
                report.scrubbed += scrub_submission(folder)
                report.invalid += _invalid_notebooks(folder)
                if due is not None and _submitted_after(folder, due):
                    report.late[module_id].append(participant)
            report.checkin_problems += read_checkins(ws, cohort, module_id)[1]
        report.strays = find_strays(ws, cohort, modules)
        for stray in report.strays:
            for module_id in stray.modules:
                folder = ws.folder("submitted") / stray.id / module_id
                if folder.is_dir():  # scrubbed like any submission, though not graded
                    report.scrubbed += scrub_submission(folder)
    return report


def _invalid_notebooks(folder: Path) -> list[TandemError]:
    from tandem.curriculum.manifest import read_valid_notebook

    problems: list[TandemError] = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            read_valid_notebook(path)
        except TandemError as exc:
            problems.append(exc)
    return problems


def _submitted_after(folder: Path, due: datetime) -> bool:
    from nbgrader.utils import parse_utc

    stamp = folder / "timestamp.txt"
    if not stamp.is_file():
        return False
    submitted: datetime = parse_utc(stamp.read_text().strip())  # naive, in UTC
    return submitted > due  # the gradebook's due date is naive UTC too


def write_checkin(folder: Path, checkin: CheckIn) -> None:
    """Write a check-in as the widgets would (used by the demo)."""
    atomic_write_text(folder / CHECKIN_FILE, json.dumps(checkin.model_dump(), indent=2))
