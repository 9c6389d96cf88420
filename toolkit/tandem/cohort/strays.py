"""Submissions under an id that is not a participant of the cohort ("strays").

nbgrader files a submission under the id it was submitted as. A participant who submits
without ``--student`` (or from a JupyterLab that does not know who they are) submits as
their login name, e.g. ``root``: collect files it under ``submitted/root/`` and
formgrader shows one student more than the cohort has. Collect and status name every
such id; :func:`reassign` gives the submission to the participant it belongs to and
:func:`discard` removes it. Either way nothing of the stray id is left: its collected
copy, its copies in the exchange's inbound folder (else the next collect would bring it
back), its autograded and feedback folders and, if a grading run created one, its
student in nbgrader's gradebook.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tandem.cohort.workspace import Cohort, Workspace
from tandem.errors import CohortError
from tandem.fsutil import atomic_write_text, check_id
from tandem.notebook.checkin import CHECKIN_FILE


@dataclass
class Stray:
    """An id that is not a participant, and the modules it has submissions of."""

    id: str
    modules: list[str] = field(default_factory=list)  # collected or in the exchange
    in_exchange: list[str] = field(default_factory=list)  # not collected yet

    def message(self, directory: Path | str) -> str:
        """One line naming the id and the two commands that deal with it."""
        where = ", ".join(self.modules)
        return (
            f"submission from {self.id!r} ({where}), not in the cohort: run "
            f"'tandem submissions reassign {directory} {self.id} PARTICIPANT' to give it "
            f"to its participant or 'tandem submissions discard {directory} {self.id}' "
            "to discard it"
        )


def inbound_dir(ws: Workspace, cohort: Cohort) -> Path:
    """The exchange's inbound folder of this cohort's course (where submit puts copies)."""
    return Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "inbound"


def _inbound_owner(name: str) -> tuple[str, str] | None:
    """(student id, module) of an inbound copy's folder name, as nbgrader's collect reads
    it: ``ID+MODULE+TIMESTAMP+RANDOM`` (the id may itself hold a '+')."""
    parts = name.rsplit("+", 3)
    if len(parts) == 4:
        return parts[0], parts[1]
    return None


def find_strays(ws: Workspace, cohort: Cohort, modules: list[str]) -> list[Stray]:
    """Every id with a submission of one of ``modules`` that is not a participant."""
    people = {p.id for p in cohort.participants}
    found: dict[str, Stray] = {}
    submitted = ws.folder("submitted")
    if submitted.is_dir():
        for folder in sorted(submitted.iterdir()):
            if folder.is_dir() and folder.name not in people:
                mods = [m for m in modules if (folder / m).is_dir()]
                if mods:
                    found[folder.name] = Stray(folder.name, mods)
    inbound = inbound_dir(ws, cohort)
    if inbound.is_dir():
        for copy in sorted(inbound.iterdir()):
            owner = _inbound_owner(copy.name)
            if owner is None or owner[0] in people or owner[1] not in modules:
                continue
            stray = found.setdefault(owner[0], Stray(owner[0]))
            if owner[1] not in stray.modules:
                stray.modules.append(owner[1])
                stray.in_exchange.append(owner[1])
    return sorted(found.values(), key=lambda s: s.id)


def _inbound_copies(ws: Workspace, cohort: Cohort, student: str, module: str) -> list[Path]:
    inbound = inbound_dir(ws, cohort)
    if not inbound.is_dir():
        return []
    return [p for p in sorted(inbound.iterdir()) if _inbound_owner(p.name) == (student, module)]


def _the_stray(ws: Workspace, cohort: Cohort, stray_id: str, module: str | None) -> list[str]:
    """The modules of ``stray_id`` to act on (``module`` or all), or a CohortError."""
    if stray_id in {"", ".", ".."} or "/" in stray_id:
        raise CohortError(f"{stray_id!r} cannot be a submission's id")
    if any(p.id == stray_id for p in cohort.participants):
        raise CohortError(
            f"{stray_id!r} is a participant of the cohort: only a submission under an id "
            "that is not in the cohort can be reassigned or discarded"
        )
    program = ws.program(cohort)
    stray = next(
        (s for s in find_strays(ws, cohort, [m.id for m in program.modules]) if s.id == stray_id),
        None,
    )
    if stray is None:
        raise CohortError(f"no submission from {stray_id!r} here", path=ws.folder("submitted"))
    if module is None:
        return stray.modules
    if module not in stray.modules:
        raise CohortError(
            f"{stray_id!r} has no submission of {module!r} (it has: {', '.join(stray.modules)})",
            path=ws.folder("submitted"),
        )
    return [module]


def _rewrite_checkin(folder: Path, old: str, new: str) -> None:
    """A check-in written as ``old`` (the widgets took the login name) now says ``new``."""
    path = folder / CHECKIN_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return  # absent or malformed: collect and grade report a malformed one
    if isinstance(data, dict) and data.get("participant") == old:
        data["participant"] = new
        try:
            atomic_write_text(path, json.dumps(data, indent=2))
        except OSError as exc:
            raise CohortError(
                f"cannot correct the check-in's participant: {exc.strerror or exc}", path=path
            ) from None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)


def _forget(ws: Workspace, cohort: Cohort, stray_id: str, module: str) -> None:
    """Remove what grading and feedback made of a stray's submission of ``module``."""
    for folder in ("autograded", "feedback"):
        _remove(ws.folder(folder) / stray_id / module)


def _drop_if_gone(ws: Workspace, cohort: Cohort, stray_id: str) -> bool:
    """Once nothing of ``stray_id`` is left, remove its empty folders and its student in
    the gradebook (a grading run creates it); return whether a student was removed."""
    from nbgrader.api import MissingEntry

    program = ws.program(cohort)
    if any(s.id == stray_id for s in find_strays(ws, cohort, [m.id for m in program.modules])):
        return False
    for folder in ("submitted", "autograded", "feedback"):
        top = ws.folder(folder) / stray_id
        if top.is_dir() and not any(top.iterdir()):
            top.rmdir()
    with ws.gradebook(cohort) as gradebook:
        try:
            gradebook.find_student(stray_id)
        except MissingEntry:
            return False
        gradebook.remove_student(stray_id)
    return True


def reassign(
    root: Path | str,
    stray_id: str,
    participant: str,
    *,
    module: str | None = None,
    force: bool = False,
) -> list[str]:
    """Give ``stray_id``'s submissions (of ``module``, or all) to ``participant``; return
    the modules moved. A participant's own submission of a module is replaced only with
    ``force`` (its copies in the exchange go too, else collect would bring it back)."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        cohort.participant(participant)  # a CohortError if not in the cohort
        check_id(participant, what="participant id")
        modules = _the_stray(ws, cohort, stray_id, module)
        if not force:
            for m in modules:
                if ws.submission_dir(participant, m).is_dir() or _inbound_copies(
                    ws, cohort, participant, m
                ):
                    raise CohortError(
                        f"{participant} already has a submission of {m}: add --force to "
                        f"replace it with the one from {stray_id!r}",
                        path=ws.submission_dir(participant, m),
                    )
        submitted = ws.folder("submitted") / stray_id
        for m in modules:
            target = ws.submission_dir(participant, m)
            if force:  # the next grading run grades the submission that replaced it
                _remove(target)
                for copy in _inbound_copies(ws, cohort, participant, m):
                    shutil.rmtree(copy)
            if (submitted / m).is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                (submitted / m).rename(target)
                _rewrite_checkin(target, stray_id, participant)
            for copy in _inbound_copies(ws, cohort, stray_id, m):
                renamed = copy.with_name(participant + copy.name[len(stray_id) :])
                copy.rename(renamed)
                _rewrite_checkin(renamed, stray_id, participant)
            _forget(ws, cohort, stray_id, m)
        _drop_if_gone(ws, cohort, stray_id)
    return modules


def discard(root: Path | str, stray_id: str, *, module: str | None = None) -> list[str]:
    """Remove ``stray_id``'s submissions (of ``module``, or all), collected and in the
    exchange; return the modules discarded."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        modules = _the_stray(ws, cohort, stray_id, module)
        for m in modules:
            _remove(ws.folder("submitted") / stray_id / m)
            for copy in _inbound_copies(ws, cohort, stray_id, m):
                shutil.rmtree(copy)
            _forget(ws, cohort, stray_id, m)
        _drop_if_gone(ws, cohort, stray_id)
    return modules
