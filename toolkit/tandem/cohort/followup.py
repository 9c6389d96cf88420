"""Releasing the follow-up three months on (Kirkpatrick level 3).

The programme's ``followup:`` (:class:`~tandem.curriculum.manifest.FollowUpModule`) is
released like a session's module, through the same nbgrader exchange, to both partners:
an nbgrader assignment whose source holds just the follow-up notebook, with the context
file beside it in the release. It has no lead and no checkpoint: nothing is graded, and
it is not a session (``cohort.released`` lists sessions only); ``cohort.followup_released``
records the day it was released. Its date is the last session's date plus ``after_days``
(from ``cohort.yml``'s schedule), or the facilitator's ``--date``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tandem.cohort.release import _publish, programme_record
from tandem.cohort.workspace import Cohort, Workspace, _last_line, context_for
from tandem.curriculum.manifest import FollowUpModule, Program
from tandem.errors import CohortError
from tandem.fsutil import atomic_write_json, replace_tree
from tandem.notebook.checkin import CONTEXT_FILE, PROGRAMME_FILE


@dataclass(frozen=True)
class FollowUpRelease:
    """What :func:`release_followup` did."""

    module: FollowUpModule
    folder: Path
    #: the follow-up's date: the schedule's, or the one given
    day: dt.date
    #: the follow-up had been released before (this republished it)
    again: bool


def last_session_date(cohort: Cohort, program: Program) -> dt.date | None:
    """The date of the programme's last session in the cohort's schedule, or None."""
    return cohort.schedule.session_date(program, program.sessions[-1].id)


def followup_date(ws: Workspace, cohort: Cohort, program: Program) -> dt.date | None:
    """The follow-up's date: the last session's date plus its ``after_days``; None when
    the programme has no follow-up or the cohort's schedule gives no date."""
    last = last_session_date(cohort, program)
    if program.followup is None or last is None:
        return None
    return last + dt.timedelta(days=program.followup.after_days)


def parse_date(value: dt.date | str) -> dt.date:
    """A ``--date`` value as a date; a CohortError naming it if it is not YYYY-MM-DD."""
    if isinstance(value, dt.date):
        return value
    try:
        if len(value.strip()) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CohortError(f"--date {value!r} is not a date: give it as YYYY-MM-DD") from None


def _date_to_use(
    ws: Workspace, cohort: Cohort, program: Program, given: dt.date | str | None, today: dt.date
) -> dt.date:
    assert program.followup is not None
    last = last_session_date(cohort, program)
    if given is not None:
        day = parse_date(given)
        if last is not None and day < last:
            raise CohortError(
                f"--date {day.isoformat()} is before the last session "
                f"({program.sessions[-1].id}, {last.isoformat()}): give a later date"
            )
    else:
        scheduled = followup_date(ws, cohort, program)
        if scheduled is None:
            raise CohortError(
                "this cohort has no schedule, so the follow-up has no date: give "
                f"--date YYYY-MM-DD (e.g. --date {today.isoformat()} to release it today)",
                path=ws.cohort_file,
                where="schedule",
            )
        day = scheduled
    if today < day:
        source = (
            "as given"
            if given is not None
            else (f"the last session's date + {program.followup.after_days} days")
        )
        raise CohortError(
            f"the follow-up {program.followup.id} is due on {day.isoformat()} ({source}), "
            f"not before: to release it early, give --date {today.isoformat()}"
        )
    return day


def release_followup(
    root: Path | str, date: dt.date | str | None = None, *, today: dt.date | None = None
) -> FollowUpRelease:
    """Release the programme's follow-up to every participant, on or after its date.

    ``date`` (a date or YYYY-MM-DD) replaces the schedule's date (the last session's
    date + ``after_days``); it may not be before the last session. Before the date the
    release is refused, saying the date and how to release early. ``today`` is for tests.
    """
    today = today or dt.date.today()
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        program = ws.program(cohort)
        module = program.followup
        if module is None:
            raise CohortError(
                "the programme has no follow-up: add a 'followup:' entry (id, title, lesson, "
                "after_days) to program.yml",
                path=program.manifest,
            )
        day = _date_to_use(ws, cohort, program, date, today)
        lesson = program.path(module.lesson)
        if not lesson.is_file():
            raise CohortError("follow-up notebook not found", path=lesson, where="followup.lesson")
        api = ws.nbgrader_api()
        with tempfile.TemporaryDirectory() as scratch:  # the source holds just the notebook
            shutil.copy2(lesson, Path(scratch) / lesson.name)
            replace_tree(Path(scratch), ws.folder("source") / module.id)
        result = api.generate_assignment(module.id, force=True, create=True)
        if not result.get("success"):
            raise CohortError(
                f"nbgrader generate_assignment failed for {module.id}: {_last_line(result)}",
                path=ws.folder("source") / module.id,
            )
        release = ws.folder("release") / module.id
        atomic_write_json(release / CONTEXT_FILE, context_for(cohort, program, module))
        again = cohort.followup_released is not None
        cohort.followup_released = today
        atomic_write_json(release / PROGRAMME_FILE, programme_record(ws, cohort, program))
        _publish(ws, module.id, api)
        ws.save(cohort)
    return FollowUpRelease(module=module, folder=release, day=day, again=again)


__all__ = ["FollowUpRelease", "followup_date", "parse_date", "release_followup"]
