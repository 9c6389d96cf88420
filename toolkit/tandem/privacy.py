"""Data rights: export everything Tandem holds about a participant, or erase it.

Two places can hold a participant's data: their own private store (``$TANDEM_HOME``,
on their side) and a cohort workspace (on the facilitator's side). Both functions take
either or both.

The export holds the profile, pair, check-ins, the feedback the person received as a
module's lead (their learner's check-in), the partner ratings and structured feedback they
gave as a lead and received as a learner (both check-ins of the module), their own safety
pulse answers (their submitted ``tandem_pulse.json`` files; those in their private store
come with the store's export), checkpoint scores, every graded cell and every comment in
the gradebook, and the list of their files. An export goes to the person themself, so
their own pulse answers are in it; their partner's never are. Written to a file it is readable
by its owner only, and a cohort export is recorded in the workspace's export log.

Erasure removes the participant from ``cohort.yml`` (their partner becomes unpaired),
their folders in ``submitted/``, ``autograded/``, ``feedback/`` and ``quarantine/`` (with
their check-ins, the ratings and feedback they gave, and their pulse files), the feedback
pages released to them in the exchange, their submissions in the exchange's inbound
folder, the ratings and feedback their partner gave them as a lead (taken out of every
collected copy of the partner's check-in), their gradebook rows (then compacts the
database so no deleted row lingers in the file), their entries in run manifests, their id
from every collected copy of other participants' context files, the exports in the
workspace, and every report, finished or interrupted (data, inputs, executed notebooks):
reports are rebuilt without them when they had been built. Exports written outside the
workspace that the export log knows of and that still name them are listed, not deleted:
the answer's lines that start with :data:`NOT_REACHED` are for the facilitator to act on.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tandem.cohort.exchange import read_checkins
from tandem.cohort.ideas import forget_records, list_ideas
from tandem.cohort.workspace import Workspace, refresh_contexts
from tandem.errors import CohortError, TandemError
from tandem.fsutil import atomic_write_json, check_id
from tandem.grading.scores import ScoreBook, read_book
from tandem.notebook.checkin import CHECKIN_FILE, CONTEXT_FILE
from tandem.notebook.pulse import PULSE_FILE, read_pulse
from tandem.notebook.store import Store
from tandem.reports.behaviour_data import person_behaviour
from tandem.reports.export import (
    export_log_path,
    read_export_log,
    record_exports,
    write_export_log,
)

PERSONAL_FOLDERS = ("submitted", "autograded", "feedback", "quarantine")
#: What stands for an erased partner in collected copies of context files.
ERASED = "(erased)"
#: The start of a line of :func:`erase_participant`'s answer naming what it could not reach.
NOT_REACHED = "not reached: "
REPORTS_REBUILD = "reports/: to rebuild"


def export_participant(
    participant: str, *, workspace: Path | str | None = None, store: Store | None = None
) -> dict[str, Any]:
    """All data about ``participant`` as plain JSON-able values."""
    check_id(participant, what="participant id")
    out: dict[str, Any] = {
        "participant": participant,
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if store is not None:
        out["private_store"] = {"root": str(store.root), "answers": store.export(participant)}
    if workspace is not None:
        out["cohort"] = _cohort_export(Workspace(workspace), participant)
    return out


def _cohort_export(ws: Workspace, participant: str) -> dict[str, Any]:
    cohort = ws.load()
    person = cohort.participant(participant)
    program = ws.program(cohort)
    modules = [m for s in program.sessions if s.id in cohort.released for m in s.modules]
    pair = cohort.pair_of(participant)
    checkins, scores, files = {}, {}, []
    grades: dict[str, Any] = {}
    received: dict[str, Any] = {}
    given_as_lead: dict[str, Any] = {}
    received_as_learner: dict[str, Any] = {}
    pulse: dict[str, Any] = {}
    book = read_book(ws, cohort, [m.id for m in modules], [participant], cells=True)
    for module in modules:
        found, _ = read_checkins(ws, cohort, module.id)
        if participant in found:
            checkins[module.id] = found[participant].model_dump()
        if pair is not None and person.role == module.lead:
            learner = pair.member(module.learner)
            feedback = found[learner].feedback if learner in found else None
            if feedback is not None:
                received[module.id] = {"from": learner, **feedback.model_dump()}
            if participant in found:
                given_as_lead[module.id] = {"to": learner, **_outcomes(found[participant])}
        if pair is not None and person.role == module.learner:
            lead = pair.member(module.lead)
            if lead in found:
                received_as_learner[module.id] = {"from": lead, **_outcomes(found[lead])}
        path = ws.submission_dir(participant, module.id) / PULSE_FILE
        if path.is_file():
            try:
                own = read_pulse(path, participant=participant)
            except TandemError as exc:  # the message never quotes an answer
                pulse[module.id] = {"unreadable": str(exc)}
            else:
                pulse[own.session] = {"module": module.id, **own.model_dump()}
        detail = _gradebook_detail(book, module.id, participant)
        if detail is not None:
            grades[module.id] = detail
        score = book.score(module.id, participant)
        if score is not None:
            scores[module.id] = {
                "autograded": score.auto_score,
                "autograded_max": score.auto_max,
                "written": score.manual_score,
                "written_max": score.manual_max,
                "written_pending": score.manual_pending,
            }
    for folder in PERSONAL_FOLDERS:
        base = ws.folder(folder) / participant
        files += [str(p.relative_to(ws.root)) for p in sorted(base.rglob("*")) if p.is_file()]
    return {
        "name": cohort.name,
        "workspace": str(ws.root.resolve()),
        "profile": person.model_dump(),
        "pair": pair.model_dump() if pair else None,
        "check_ins": checkins,
        "feedback_received_as_lead": received,
        "partner_ratings_and_feedback_given_as_lead": given_as_lead,
        "partner_ratings_and_feedback_received_as_learner": received_as_learner,
        "safety_pulse": pulse,
        **person_behaviour(ws, participant),
        "checkpoint_scores": scores,
        "checkpoint_grades": grades,
        "files": files,
    }


def _outcomes(checkin: Any) -> dict[str, Any]:
    """A lead's partner ratings and structured feedback, from their check-in."""
    feedback = checkin.lead_feedback
    return {
        "partner_rating": checkin.partner_rating,
        "lead_feedback": feedback.model_dump() if feedback is not None else None,
    }


def _gradebook_detail(book: ScoreBook, module_id: str, participant: str) -> dict[str, Any] | None:
    """Every graded cell of a submission (scores as autograded and as graded by hand) and
    every comment the facilitator or the autograder left, as the gradebook holds them."""
    key = (module_id, participant)
    if key not in book.cells:
        return None
    cells = [
        {
            "notebook": grade.notebook,
            "cell": grade.cell,
            "type": grade.cell_type,
            "auto_score": grade.auto_score,
            "manual_score": grade.manual_score,
            "extra_credit": grade.extra_credit,
            "max_score": grade.max_score,
            "needs_manual_grade": grade.needs_manual_grade,
        }
        for grade in book.cells[key]
    ]
    comments = [
        {
            "notebook": comment.notebook,
            "cell": comment.cell,
            "manual_comment": comment.manual_comment,
            "auto_comment": comment.auto_comment,
        }
        for comment in book.comments.get(key, [])
        if comment.manual_comment or comment.auto_comment
    ]
    return {"cells": cells, "comments": comments}


def erase_participant(
    participant: str, *, workspace: Path | str | None = None, store: Store | None = None
) -> list[str]:
    """Delete ``participant``'s data everywhere given; return what was removed."""
    check_id(participant, what="participant id")
    removed: list[str] = []
    if store is not None:
        files = store.erase(participant)
        if files:
            removed.append(f"private store: {len(files)} files under {store.root / participant}")
    if workspace is not None:
        removed += _erase_from_workspace(Workspace(workspace), participant)
    return removed


def _erase_from_workspace(ws: Workspace, participant: str) -> list[str]:
    """Files first, then the gradebook and cohort.yml: if a file cannot be removed (e.g. an
    exchange copy owned by the participant's own account), nothing is forgotten yet and
    the command can be run again once the permission is fixed."""
    removed: list[str] = []
    with ws.locked():
        cohort = ws.load()
        person = cohort.participant(participant)  # raises if unknown
        needles = [n.encode() for n in (participant, person.name, person.email) if n]
        course = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id
        inbound = course / "inbound"
        targets = [(ws.folder(f) / participant, f"{f}/{participant}/") for f in PERSONAL_FOLDERS]
        if inbound.is_dir():
            targets += [
                (e, f"exchange inbound: {e.name}") for e in sorted(inbound.glob(f"{participant}+*"))
            ]
        pulses = sum(len(list(t.rglob(PULSE_FILE))) for t, _ in targets if t.is_dir())
        ideas = [r.idea.id for r in list_ideas(ws) if r.participant == participant]
        removed += _erase_released_feedback(ws, course, participant)
        removed += _erase_ratings_of(ws, cohort, course, participant)
        for target, label in targets:
            if _remove(target):
                removed.append(label)
        if pulses:
            removed.append(f"safety pulse: {pulses} files (with the folders above)")
        if forgotten := forget_records(ws, ideas):
            removed.append(f"ideas.yml: the outcome records of {len(forgotten)} of their ideas")
        removed += _erase_report_data(ws)
        removed += _erase_exports(ws, participant, needles)
        removed += _erase_from_context_copies(ws, course, participant)
        removed += _erase_from_gradebook(ws, cohort, participant)
        removed += _erase_from_runs(ws, participant)
        pair = cohort.pair_of(participant)
        cohort.participants = [p for p in cohort.participants if p.id != participant]
        cohort.unpaired = [p for p in cohort.unpaired if p != participant]
        cohort.withdrawn = [p for p in cohort.withdrawn if p != participant]
        cohort.former_pairs = [p for p in cohort.former_pairs if participant not in p.members]
        if pair is not None:
            cohort.pairs = [p for p in cohort.pairs if p.id != pair.id]
            partner = pair.senior if pair.junior == participant else pair.junior
            cohort.unpaired.append(partner)
            removed.append(f"cohort.yml: profile; {pair.id} dissolved ({partner} is unpaired)")
        ws.save(cohort)
        if refresh_contexts(ws, cohort):
            removed.append("context files of released modules: rewritten without them")
    if REPORTS_REBUILD in removed:
        from tandem.reports.build import build_reports

        build_reports(ws.root)
        removed[removed.index(REPORTS_REBUILD)] = "reports/: rebuilt without them"
    return removed


def _remove(target: Path) -> bool:
    """Remove a file or folder; refuse (with what to do) when the permission is missing."""
    if not target.exists():
        return False
    try:
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    except OSError as exc:
        raise CohortError(
            f"cannot remove {target}: {exc.strerror or exc}. Nothing else was changed for "
            "this step; fix the permission (e.g. as root) and run the command again",
            path=target,
        ) from None
    return True


def _erase_report_data(ws: Workspace) -> list[str]:
    """The reports, their data and inputs, whatever state the last ``tandem report`` left
    them in (an interrupted one leaves ``data/pairs.json`` and ``runs/report-inputs/``).
    Returns ``[REPORTS_REBUILD]`` when a finished report must be rebuilt without them."""
    reports = ws.folder("reports")
    finished = (reports / "index.html").exists()
    leftovers = [reports, ws.folder("runs") / "notebooks", ws.folder("runs") / "report-inputs"]
    if not any(p.exists() for p in leftovers):
        return []
    for path in leftovers:
        _remove(path)
    if finished:
        return [REPORTS_REBUILD]
    return [
        "reports/ and runs/report-inputs/ of an unfinished report: removed (run 'tandem "
        "report' again)"
    ]


def _erase_exports(ws: Workspace, participant: str, needles: list[bytes]) -> list[str]:
    """Exports in the workspace are removed; those written elsewhere that still hold the
    participant are listed, as Tandem cannot reach them. The export log keeps only
    entries that do not concern them."""
    removed, kept = [], []
    if _remove(ws.folder("exports")):
        removed.append("exports/: removed (export again when needed)")
    root = ws.root.resolve()
    for entry in read_export_log(ws):
        path = Path(entry["path"])
        about = entry.get("participant") == participant
        if not path.exists():
            continue
        concerned = about or _mentions(path, needles)
        if concerned and path.resolve().is_relative_to(root):
            _remove(path)
            removed.append(f"{path.resolve().relative_to(root)}: removed (an export)")
            continue
        if concerned:
            removed.append(f"{NOT_REACHED}{path} (an export written outside the workspace)")
        if not about:
            kept.append(entry)
    if export_log_path(ws).exists():
        write_export_log(ws, kept)
    return removed


def _mentions(path: Path, needles: list[bytes]) -> bool:
    """Whether ``path`` holds one of ``needles`` as a whole token (``p1`` is not in
    ``p10``, a name "Li" is not in "Lisbon")."""
    try:
        content = path.read_bytes()
    except OSError:
        return True  # cannot be read, so cannot be cleared: list it
    return any(_token(n).search(content) for n in needles)


def _token(needle: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![\w.@+-])" + re.escape(needle) + rb"(?![\w@+-]|\.\w)")


def _erase_released_feedback(ws: Workspace, course: Path, participant: str) -> list[str]:
    """The feedback pages released to them: nbgrader publishes each page of
    ``feedback/<participant>/<module>/`` to the exchange under a hash of the submission's
    secret and the page's name, which only their feedback folder can tell."""
    from nbgrader.utils import notebook_hash

    removed = 0
    for secret_file in sorted(
        (ws.folder("feedback") / participant).glob("*/submission_secret.txt")
    ):
        secret = secret_file.read_text(encoding="utf-8")
        for page in sorted(secret_file.parent.glob("*.html")):
            published = (
                course / "feedback" / f"{notebook_hash(secret=secret, notebook_id=page.stem)}.html"
            )
            removed += _remove(published)
    return [f"exchange feedback: {removed} released pages"] if removed else []


def _erase_ratings_of(ws: Workspace, cohort: Any, course: Path, participant: str) -> list[str]:
    """Their partner's ratings of them and feedback to them (as the module's lead) are
    about them: taken out of every collected copy of the partner's check-in of a module
    they learned (the partner's submitted, autograded and feedback folders, the exchange's
    inbound)."""
    pair = cohort.pair_of(participant)
    if pair is None:
        return []
    role = cohort.participant(participant).role
    written, unreachable = 0, []
    for session in ws.program(cohort).sessions:
        for module in session.modules:
            if module.learner != role:
                continue
            lead = pair.member(module.lead)
            copies = [ws.folder(f) / lead / module.id / CHECKIN_FILE for f in PERSONAL_FOLDERS]
            if (course / "inbound").is_dir():
                copies += sorted((course / "inbound").glob(f"{lead}+{module.id}+*/{CHECKIN_FILE}"))
            for path in copies:
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    continue
                except ValueError:
                    continue  # unreadable: never read as a check-in either
                except OSError:
                    unreachable.append(
                        f"{NOT_REACHED}{path} (cannot be read: as root, remove "
                        "partner_rating and lead_feedback from it)"
                    )
                    continue
                if not isinstance(data, dict) or not (
                    data.get("partner_rating") or data.get("lead_feedback")
                ):
                    continue
                data["partner_rating"], data["lead_feedback"] = {}, None
                try:
                    atomic_write_json(path, data)
                except OSError:
                    unreachable.append(
                        f"{NOT_REACHED}{path} (cannot be rewritten: as root, "
                        "remove partner_rating and lead_feedback from it)"
                    )
                    continue
                written += 1
    done = [
        f"{written} copies of their partner's check-ins: ratings of and feedback to them removed"
    ]
    return (done if written else []) + unreachable


def _erase_from_context_copies(ws: Workspace, course: Path, participant: str) -> list[str]:
    """Remove them from every collected copy of a context file (other participants'
    submissions, autograded and feedback folders, quarantine, the exchange's inbound);
    ``release/`` and ``outbound/`` are rewritten by :func:`refresh_contexts`."""
    written, unreachable = 0, []
    for base in [ws.folder(f) for f in PERSONAL_FOLDERS] + [course / "inbound"]:
        for path in sorted(base.rglob(CONTEXT_FILE)) if base.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if _drop_member(data, participant):
                    atomic_write_json(path, data)
                    written += 1
            except OSError:
                unreachable.append(
                    f"{NOT_REACHED}{path} (cannot be rewritten: remove their id as root, or "
                    "delete the copy once it is collected)"
                )
            except ValueError:
                continue  # not a context file Tandem wrote
    done = [f"{written} collected copies of context files: rewritten without them"]
    return (done if written else []) + unreachable


def _drop_member(context: Any, participant: str) -> bool:
    """Take ``participant`` out of a context file's data; return whether it changed."""
    members = context.get("participants") if isinstance(context, dict) else None
    if not isinstance(members, dict):
        return False
    changed = members.pop(participant, None) is not None
    for member in members.values():
        if isinstance(member, dict) and member.get("partner") == participant:
            member["partner"] = ERASED
            changed = True
    return changed


def _erase_from_gradebook(ws: Workspace, cohort: Any, participant: str) -> list[str]:
    from nbgrader.api import MissingEntry

    with ws.gradebook(cohort) as gradebook:
        try:
            gradebook.remove_student(participant)
        except MissingEntry:
            return []
    # drop the deleted rows from the file itself (the URL is the checked, existing file;
    # sqlite3 would create an empty one in place of a missing file)
    database = ws.gradebook_url().removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{database}?mode=rw", uri=True) as connection:
        connection.execute("VACUUM")
    return ["gradebook: student and submissions"]


def _erase_from_runs(ws: Workspace, participant: str) -> list[str]:
    removed = []
    for manifest in sorted(ws.folder("runs").glob("*.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        results = data.get("results")
        if isinstance(results, list):
            kept = [r for r in results if r.get("participant") != participant]
            if len(kept) != len(results):
                data["results"] = kept
                atomic_write_json(manifest, data)
                removed.append(f"runs/{manifest.name}: {len(results) - len(kept)} records")
    return removed


def write_export(data: dict[str, Any], out: Path) -> Path:
    """Write a participant's export to ``out`` (a new file, readable by its owner only).
    An export of cohort data is recorded in that workspace's export log, so that erasing
    the participant can list the copy."""
    if out.exists():
        raise CohortError("refusing to overwrite an existing file", path=out)
    workspace = data.get("cohort", {}).get("workspace")
    if workspace:  # recorded first: an export the log misses could not be listed on erase
        record_exports(Workspace(workspace), [out], "participant", data["participant"])
    atomic_write_json(out, data, private=True)
    return out
