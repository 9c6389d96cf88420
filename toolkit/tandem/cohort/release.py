"""Releasing a session: nbgrader's generate_assignment and release of its two modules'
exercises, with the lesson notebooks, data and each module's context file beside them,
and the due date in the gradebook. Every released folder also gets the programme file
(:func:`programme_record`): the sessions, modules, due dates and what is released, for the
participant's "My programme" page."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tandem.cohort.exchange import publish
from tandem.cohort.workspace import Cohort, Workspace, _last_line, context_for
from tandem.curriculum.manifest import Module, Program
from tandem.errors import CohortError
from tandem.fsutil import atomic_write_json, replace_tree
from tandem.notebook.checkin import CONTEXT_FILE, PROGRAMME_FILE

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI


def release_session(root: Path | str, session_id: str) -> list[Path]:
    """Release a session's two modules; return the release folders written."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        program = ws.program(cohort)
        session = program.session(session_id)
        api = ws.nbgrader_api()
        written = []
        due = cohort.schedule.due(program, session_id)
        for module in session.modules:
            written.append(_release_module(ws, cohort, program, module, api))
            set_due_date(ws, cohort, module.id, due)
        if session_id not in cohort.released:
            cohort.released.append(session_id)
        record = programme_record(ws, cohort, program)
        for module in session.modules:
            atomic_write_json(ws.folder("release") / module.id / PROGRAMME_FILE, record)
            _publish(ws, module.id, api)
        ws.save(cohort)
    return written


def programme_record(ws: Workspace, cohort: Cohort, program: Program) -> dict[str, Any]:
    """The programme file's contents: the cohort, every session with its date and its
    modules (title, track, lead and learner roles, due date from the gradebook: UTC,
    ISO 8601), what is released (``cohort.released``, ``cohort.followup_released``), and
    the follow-up. Cohort-wide only: no participant is named in it."""
    with ws.gradebook(cohort) as gradebook:
        dues = {a.name: a.duedate for a in gradebook.assignments}

    def iso(due: datetime | None) -> str | None:
        return due.replace(tzinfo=timezone.utc).isoformat() if due else None

    def day(session_id: str) -> str | None:
        date = cohort.schedule.session_date(program, session_id)
        return date.isoformat() if date else None

    followup = program.followup
    return {
        "schema_version": 1,
        "cohort": cohort.name,
        "course_id": cohort.course_id,
        "programme": program.title,
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "sessions": [
            {
                "id": session.id,
                "title": session.title,
                "date": day(session.id),
                "released": session.id in cohort.released,
                "modules": [
                    {
                        "id": m.id,
                        "title": m.title,
                        "track": m.track,
                        "lead": m.lead,
                        "learner": m.learner,
                        "due": iso(dues.get(m.id)),
                    }
                    for m in session.modules
                ],
            }
            for session in program.sessions
        ],
        "followup": None
        if followup is None
        else {
            "id": followup.id,
            "title": followup.title,
            "released": cohort.followup_released is not None,
        },
    }


def session_due(root: Path | str, session_id: str) -> datetime | None:
    """A session's due date as its release records it (UTC), or None: no schedule."""
    ws = Workspace(root)
    cohort = ws.load()
    return cohort.schedule.due(ws.program(cohort), session_id)


def republish_note(root: Path | str, session_id: str) -> str | None:
    """What to say before releasing a session a second time (None: its first release).
    Releasing again republishes the curriculum's files as they are now; nbgrader keeps
    every copy already fetched, so only a fresh fetch sees the change."""
    if session_id not in Workspace(root).load().released:
        return None
    return (
        f"{session_id} was already released; republished with the curriculum's current "
        "files. Participants who fetched it keep their copy: to get the new one, they "
        "rename their folder and fetch again."
    )


def set_due_date(ws: Workspace, cohort: Cohort, module_id: str, due: datetime | None) -> None:
    """Record a module's due date in the gradebook (nbgrader marks late work from it)."""
    with ws.gradebook(cohort) as gradebook:
        gradebook.update_or_create_assignment(
            module_id, duedate=due.replace(tzinfo=None) if due else None
        )


def _publish(ws: Workspace, module_id: str, api: NbGraderAPI) -> None:
    """Publish a released module through nbgrader's exchange (replacing an earlier copy)."""
    outbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / ws.load().course_id
    if (outbound / "outbound" / module_id).exists():
        api.unrelease(module_id)
    publish(ws, module_id)


def _release_module(
    ws: Workspace, cohort: Cohort, program: Program, module: Module, api: NbGraderAPI
) -> Path:
    source = ws.folder("source") / module.id
    replace_tree(program.exercise_dir(module), source)
    result = api.generate_assignment(module.id, force=True, create=True)
    if not result.get("success"):
        raise CohortError(
            f"nbgrader generate_assignment failed for {module.id}: {_last_line(result)}",
            path=source,
        )
    release = ws.folder("release") / module.id
    lesson = program.lesson_path(module)
    shutil.copy2(lesson, release / lesson.name)
    for data in module.lesson_data:
        target = release / data
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lesson.parent / data, target)
    atomic_write_json(release / CONTEXT_FILE, context_for(cohort, program, module))
    return release
