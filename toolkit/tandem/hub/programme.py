"""What "My programme" shows a participant, read only from what is theirs.

On a shared hub every participant is their own Unix user; the page process
(:mod:`tandem.hub.programme_page`) runs as them and reads, on every request, only:

* **who they are**: :func:`tandem.notebook.checkin.participant_id`
  (``$TANDEM_PARTICIPANT``, which the hub's spawner sets to the roster id; else
  ``$JUPYTERHUB_USER``; else the OS user);
* **the module folders they fetched**: every folder directly under the root (the
  server's working directory, which on the hub is the home; ``$TANDEM_PROGRAMME_ROOT`` or
  ``--root`` replaces it) holding a ``tandem_context.json`` that names them. nbgrader's
  fetch puts a module at ``<root>/<module>/``. The course is the one of the most recently
  fetched folder (or ``--course``). Their role, pair, partner and who leads each module
  come from the context's entry for them only; the other entries are never shown;
* **the programme**: ``tandem_programme.json``, which ``tandem release`` puts into every
  released folder (cohort-wide: the sessions, modules, due dates and what is released,
  no participant in it); the newest (its ``written``) among the fetched folders is used;
* **what they submitted**: nbgrader's student-side cache of their own submissions,
  ``<cache>/<course>/<student>+<module>+<timestamp>/`` (nbgrader 0.9's
  ``Exchange.cache``, default ``jupyter_data_dir()/nbgrader_cache``;
  ``$TANDEM_NBGRADER_CACHE`` or ``--cache`` replaces it). It is read as a directory
  listing, like nbgrader's own ``fetch_feedback``, which also takes every entry of the
  module there (the cache is in their home: every entry is theirs);
* **scores and feedback**: only the feedback pages they fetched,
  ``<root>/<module>/feedback/<timestamp>/*.html`` (nbgrader's ``fetch_feedback``). The
  score is the JSON summary ``tandem feedback`` embeds in every page it releases
  (``<script type="application/json" id="tandem-feedback-summary">``, see
  :func:`tandem.grading.feedback.feedback_summary`). nbgrader's own score line in its
  page is not parsed (its markup is a template's, not a contract); the page links to it.
  A summary naming another module is ignored with a note;
* **their reflections**: their own private store only,
  ``$TANDEM_HOME/<participant>/<course>/<module>/<prompt>.json``
  (:mod:`tandem.notebook.store`): each answer's latest revision.

Never the course directory, the gradebook, the exchange (its outbound, inbound or
feedback folders) or anyone else's home. A missing source shows as nothing yet; a damaged
file (bad JSON, wrong shape, too large) becomes a note naming it, never an error.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tandem.errors import TandemError
from tandem.fsutil import check_id
from tandem.notebook.checkin import CONTEXT_FILE, PROGRAMME_FILE, Context, load_context
from tandem.notebook.store import home as store_home

ROOT_ENV = "TANDEM_PROGRAMME_ROOT"
CACHE_ENV = "TANDEM_NBGRADER_CACHE"
SUMMARY_ID = "tandem-feedback-summary"
#: Larger files are not read (a note says so): these files hold a few kilobytes.
MAX_BYTES = 5_000_000
_SUMMARY = re.compile(
    rf'<script type="application/json" id="{SUMMARY_ID}">(.*?)</script>', re.DOTALL
)


@dataclass(frozen=True)
class ModuleInfo:
    id: str
    title: str
    track: str
    lead: str
    learner: str
    due: str | None = None


@dataclass(frozen=True)
class SessionInfo:
    id: str
    title: str
    date: str | None
    released: bool
    modules: tuple[ModuleInfo, ...]


@dataclass(frozen=True)
class Fetched:
    """A module folder the participant fetched, and their part in it."""

    module: str
    title: str
    folder: str  # relative to the root
    role: str
    leads: bool
    partner: str


@dataclass(frozen=True)
class FeedbackPage:
    module: str
    timestamp: str
    name: str
    path: str  # relative to the root, e.g. "m1/feedback/<timestamp>/checkpoint.html"


@dataclass(frozen=True)
class Score:
    module: str
    score: float
    max_score: float
    written_pending: bool
    when: str


@dataclass(frozen=True)
class Reflection:
    module: str
    prompt: str
    saved: str
    shared: bool
    text: str


@dataclass
class Programme:
    """Everything the page shows, for one participant of one course."""

    participant: str
    course_id: str | None = None
    cohort: str | None = None
    title: str | None = None
    role: str | None = None
    pair: str | None = None
    partner: str | None = None
    sessions: list[SessionInfo] = field(default_factory=list)
    followup: ModuleInfo | None = None
    followup_released: bool = False
    fetched: dict[str, Fetched] = field(default_factory=dict)
    submitted: dict[str, list[str]] = field(default_factory=dict)  # module -> timestamps
    feedback: dict[str, list[FeedbackPage]] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)
    reflections: list[Reflection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reflection(self, module: str, prompt: str) -> Reflection | None:
        return next((r for r in self.reflections if (r.module, r.prompt) == (module, prompt)), None)


def default_root() -> Path:
    """``$TANDEM_PROGRAMME_ROOT``, else the working directory (the server's, on the hub
    the home: where nbgrader fetches to)."""
    configured = os.environ.get(ROOT_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.cwd()


def default_cache() -> Path:
    """``$TANDEM_NBGRADER_CACHE``, else nbgrader's default ``Exchange.cache``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "nbgrader_cache"


def read_programme(
    participant: str,
    *,
    root: Path,
    cache: Path,
    store: Path | None = None,
    course: str | None = None,
) -> Programme:
    """Read every source (see the module docstring) into a :class:`Programme`."""
    model = Programme(participant=participant)
    contexts = _fetched_contexts(root, participant, model.notes)
    if course is None and contexts:
        course = max(contexts, key=lambda c: _mtime(c.folder / CONTEXT_FILE)).course_id
    model.course_id = course
    mine = [c for c in contexts if c.course_id == course]
    if not mine:
        model.notes.append(
            "No module fetched yet: fetch one from the Assignments tab."
            if course is None
            else f"No module of course {course} fetched yet."
        )
        return model
    newest = max(mine, key=lambda c: _mtime(c.folder / CONTEXT_FILE))
    course = newest.course_id
    member = newest.participants[participant]
    model.cohort, model.role, model.pair, model.partner = (
        newest.cohort,
        member.role,
        member.pair,
        member.partner,
    )
    for context in sorted(mine, key=lambda c: (c.folder.name != c.module, c.folder.name)):
        if context.module not in model.fetched:
            me = context.participants[participant]
            model.fetched[context.module] = Fetched(
                context.module,
                context.title,
                context.folder.name,
                me.role,
                me.leads == "yes",
                me.partner,
            )
    _read_programme_file(model, [root / f.folder for f in model.fetched.values()])
    model.submitted = _submissions(cache / course, model.notes)
    for module in model.fetched:
        _read_feedback(model, root, module)
    if store is None:
        store = store_home()
    _read_reflections(model, store, course)
    return model


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _read_json(path: Path, notes: list[str], what: str) -> Any:
    """The JSON in ``path``, or None with a note (missing: None, no note)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            notes.append(f"{path.name} in {path.parent.name}: too large to be a {what}; not read")
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        notes.append(f"{path.parent.name}/{path.name}: unreadable {what} ({reason}); skipped")
        return None


def _fetched_contexts(root: Path, participant: str, notes: list[str]) -> list[Context]:
    """The context of every folder under ``root`` that names the participant."""
    found = []
    try:
        folders = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        notes.append(f"cannot list {root}: {exc.strerror or exc}")
        return []
    for folder in folders:
        if not (folder / CONTEXT_FILE).is_file():
            continue
        try:
            if (folder / CONTEXT_FILE).stat().st_size > MAX_BYTES:
                raise TandemError("too large to be a context file", path=CONTEXT_FILE)
            context = load_context(folder)
        except (TandemError, OSError) as exc:
            notes.append(f"{folder.name}/{CONTEXT_FILE}: {_short(exc)}; that folder is skipped")
            continue
        if context is not None and participant in context.participants:
            found.append(context)
    return found


def _short(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, TandemError) else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _read_programme_file(model: Programme, folders: list[Path]) -> None:
    """The newest valid programme file of the course among ``folders``."""
    best: tuple[str, dict[str, Any], Path] | None = None
    for folder in folders:
        data = _read_json(folder / PROGRAMME_FILE, model.notes, "programme file")
        if data is None:
            continue
        if not isinstance(data, dict) or data.get("course_id") != model.course_id:
            model.notes.append(f"{folder.name}/{PROGRAMME_FILE}: not this course's; skipped")
            continue
        written = str(data.get("written", ""))
        if best is None or written > best[0]:
            best = (written, data, folder)
    if best is None:
        model.notes.append(
            "No programme file in the fetched modules (released before Tandem wrote one): "
            "only the fetched modules are listed."
        )
        return
    data, folder = best[1], best[2]
    try:
        model.title = str(data["programme"])
        model.sessions = [
            SessionInfo(
                str(s["id"]),
                str(s["title"]),
                None if s.get("date") is None else str(s["date"]),
                bool(s["released"]),
                tuple(_module_info(m) for m in s["modules"]),
            )
            for s in data["sessions"]
        ]
        followup = data.get("followup")
        if followup:
            model.followup = ModuleInfo(
                str(followup["id"]), str(followup["title"]), "followup", "", ""
            )
            model.followup_released = bool(followup["released"])
    except (KeyError, TypeError, ValueError) as exc:
        model.sessions = []
        model.notes.append(
            f"{folder.name}/{PROGRAMME_FILE}: damaged ({type(exc).__name__}: {exc}); "
            "only the fetched modules are listed."
        )


def _module_info(data: dict[str, Any]) -> ModuleInfo:
    due = data.get("due")
    return ModuleInfo(
        str(data["id"]),
        str(data["title"]),
        str(data["track"]),
        str(data["lead"]),
        str(data["learner"]),
        None if due is None else str(due),
    )


def _submissions(course_cache: Path, notes: list[str]) -> dict[str, list[str]]:
    """nbgrader's cache of this course: ``<student>+<module>+<timestamp>`` folders."""
    found: dict[str, list[str]] = {}
    try:
        entries = sorted(course_cache.iterdir()) if course_cache.is_dir() else []
    except OSError as exc:
        notes.append(f"cannot list nbgrader's submission cache: {exc.strerror or exc}")
        return found
    for entry in entries:
        parts = entry.name.split("+")
        if len(parts) != 3 or not entry.is_dir():
            continue
        found.setdefault(parts[1], []).append(parts[2])
    return {module: sorted(stamps) for module, stamps in found.items()}


def _read_feedback(model: Programme, root: Path, module: str) -> None:
    base = root / module / "feedback"
    if not base.is_dir():
        return
    pages: list[FeedbackPage] = []
    for page in sorted(base.glob("*/*.html")):
        stamp = page.parent.name
        pages.append(
            FeedbackPage(module, stamp, page.name, f"{module}/feedback/{stamp}/{page.name}")
        )
        summary = _summary(page, model.notes)
        if summary is None:
            continue
        if summary.get("module") != module:
            model.notes.append(
                f"{module}/feedback/{stamp}/{page.name}: its score is for another module; not shown"
            )
            continue
        try:
            score = Score(
                module,
                float(summary["score"]),
                float(summary["max_score"]),
                bool(summary.get("written_pending", False)),
                str(summary.get("when", stamp)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            model.notes.append(
                f"{module}/feedback/{stamp}/{page.name}: damaged score ({type(exc).__name__}); "
                "not shown"
            )
            continue
        current = model.scores.get(module)
        if current is None or score.when > current.when:
            model.scores[module] = score
    if pages:
        model.feedback[module] = pages


def _summary(page: Path, notes: list[str]) -> dict[str, Any] | None:
    where = f"{page.parent.parent.parent.name}/feedback/{page.parent.name}/{page.name}"
    try:
        if page.stat().st_size > MAX_BYTES:
            notes.append(f"{where}: too large; its score is not read")
            return None
        text = page.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        notes.append(f"{where}: unreadable ({exc.strerror or exc})")
        return None
    found = _SUMMARY.search(text)
    if found is None:
        return None
    try:
        data = json.loads(found.group(1))
    except ValueError:
        notes.append(f"{where}: its score summary is damaged; not shown")
        return None
    if not isinstance(data, dict):
        notes.append(f"{where}: its score summary is damaged; not shown")
        return None
    return data


def _read_reflections(model: Programme, store: Path, course: str) -> None:
    """The latest revision of each answer in the participant's own store, for ``course``."""
    try:
        base = store / check_id(model.participant, what="participant id") / check_id(course)
    except TandemError as exc:
        model.notes.append(f"reflections not read: {_short(exc)}")
        return
    if not base.is_dir():
        return
    for path in sorted(base.glob("*/*.json")):
        where = f"{path.parent.name}/{path.name}"
        data = _read_json(path, model.notes, "reflection")
        try:
            last = data["revisions"][-1]
            model.reflections.append(
                Reflection(
                    path.parent.name,
                    path.stem,
                    str(last["at"]),
                    bool(last.get("shared", False)),
                    str(last["text"]),
                )
            )
        except (KeyError, IndexError, TypeError) as exc:
            if data is not None:
                model.notes.append(f"reflection {where}: damaged ({type(exc).__name__}); not shown")
