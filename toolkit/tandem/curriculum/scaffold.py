"""Scaffold a new module: lesson, checkpoint, data, competency and manifest entry.

:func:`new_module` writes a lesson notebook with every section and the widget cells,
a checkpoint (an nbgrader source notebook) with a tiny CSV each, a competency
``<module-id>-skill`` and the module's entry in ``program.yml``, then proves the result
with :func:`tandem.curriculum.manifest.validate_program`. The manifest is edited as text (lines
inserted at the end of its ``competencies`` and ``sessions`` blocks), so its comments
and layout are kept; the edit is checked by parsing the new text before it is written.

All or nothing: on any error, every file written is removed and the manifest restored.
Nothing existing is ever overwritten.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from tandem.curriculum.manifest import (
    LEAD_OF_TRACK,
    SLUG,
    Track,
    manifest_not_found,
    other_role,
    validate_program,
)
from tandem.curriculum.templating import notebook, template
from tandem.errors import ManifestError, UsageError
from tandem.fsutil import atomic_write_text

MINUTES = {"teaching": 45, "exercise": 30}
OTHER_TRACK: dict[str, Track] = {"tech": "management", "management": "tech"}
_PLAIN = re.compile(r"[A-Za-z0-9_./-]+")


@dataclass(frozen=True)
class _Plan:
    """One module to scaffold; paths are relative to the programme root."""

    id: str
    track: Track
    title: str
    folder: str

    @property
    def competency(self) -> str:
        return f"{self.id}-skill"

    @property
    def lesson(self) -> str:
        return f"{self.folder}/{self.id}.ipynb"

    @property
    def data(self) -> str:
        return f"data/{self.id.replace('-', '_')}_example.csv"

    @property
    def exercise(self) -> str:
        return f"exercises/{self.id}"

    def entry(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "track": self.track,
            "lead": LEAD_OF_TRACK[self.track],
            "title": self.title,
            "minutes": dict(MINUTES),
            "objectives": [
                {"id": "read-the-data", "text": "TODO: what the learner can do"},
                {"id": "judge-the-data", "text": "TODO: a second objective"},
            ],
            "competencies": [self.competency],
            "lesson": self.lesson,
            "lesson_data": [self.data],
            "exercise": self.exercise,
        }

    def values(self) -> dict[str, str]:
        """The ``{name}`` fill-ins of the templates."""
        lead = LEAD_OF_TRACK[self.track]
        return {
            "title": self.title, "module": self.id, "track": self.track, "lead": lead,
            "learner": other_role(lead), "competencies": json.dumps([self.competency]),
            "data": self.data, "exercise": self.exercise,
            "teaching": str(MINUTES["teaching"]), "exercise_minutes": str(MINUTES["exercise"]),
        }  # fmt: skip

    def files(self, root: Path) -> dict[Path, Callable[[], str]]:
        lesson, exercise = root / self.lesson, root / self.exercise
        return {
            lesson: lambda: notebook(template("lesson.md.tpl"), self.values()),
            lesson.parent / self.data: lambda: template("lesson_example.csv"),
            exercise / "checkpoint.ipynb": lambda: notebook(
                template("checkpoint.md.tpl"), self.values()
            ),
            exercise / "example.csv": lambda: template("checkpoint_example.csv"),
        }


def new_module(
    manifest: Path,
    module_id: str,
    track: Literal["tech", "management"],
    *,
    session: str | None = None,
    title: str | None = None,
    partner: str | None = None,
) -> list[Path]:
    """Scaffold module ``module_id`` of ``track`` into the programme of ``manifest``.

    Where it goes: if ``session`` names an existing session that has no ``track``
    module, the module joins it (in the folder of that session's other lesson).
    Otherwise a new session is appended to the manifest: ``session`` if given, else
    ``session-NN``, one more than the highest number in use. A session pairs exactly
    one tech with one management module, so whenever the session would lack the other
    track, a placeholder partner module of that track is scaffolded too, with id
    ``partner`` (default ``<module-id>-partner``), to be rewritten like the module.

    Returns the files written, the manifest last. Raises :class:`UsageError` for a bad
    id or track, or a file that already exists; :class:`ManifestError` for an id the
    manifest already uses or a session that already has a ``track`` module; and
    :class:`~tandem.errors.ValidationFailed` if the programme does not validate after.
    """
    manifest = Path(manifest)
    _check_slug(module_id, "module id")
    if track not in OTHER_TRACK:
        raise UsageError(f"track {track!r} is neither 'tech' nor 'management'", where="track")
    if session is not None:
        _check_slug(session, "session")
    original, raw = _read(manifest)
    root = manifest.resolve().parent.parent
    sessions: list[dict[str, Any]] = raw["sessions"]
    index = next((i for i, s in enumerate(sessions) if s.get("id") == session), None)
    modules = [] if index is None else _modules(sessions[index])
    taken = [m.get("id") for m in modules if isinstance(m, dict) and m.get("track") == track]
    replaced = _untouched_placeholder(modules, track, root)
    if replaced is not None:  # the slot a scaffolded partner holds until its real module comes
        modules = [m for m in modules if m is not replaced]
        taken = []
    if taken:
        raise ManifestError(
            f"session {session!r} already has a {track} module ({taken[0]!r}); "
            "a session pairs one tech module with one management module",
            path=manifest,
            where=f"sessions[{index}].modules",
        )
    session_id = session or _next_session_id(sessions)
    folder = _session_folder(modules, session_id)
    plans = [_Plan(module_id, track, title or module_id.replace("-", " ").capitalize(), folder)]
    other = OTHER_TRACK[track]
    if not any(isinstance(m, dict) and m.get("track") == other for m in modules):
        partner_id = partner or f"{module_id}-partner"
        _check_slug(partner_id, "partner module id")
        if partner_id == module_id:
            raise UsageError("the partner module needs an id of its own", where="partner")
        partner_title = f"TODO: the {other} module paired with {module_id}"
        plans.append(_Plan(partner_id, other, partner_title, folder))
    elif partner is not None:
        raise UsageError(f"session {session!r} already has its {other} module", where="partner")
    _check_free(manifest, raw, root, plans)
    text = _edited(manifest, original, raw, plans, index, session_id, replaced)
    written = _write(manifest, original, text, root, plans)
    if replaced is not None:
        _remove_placeholder(_placeholder_plan(replaced), root)
    return written


def _check_slug(value: str, what: str) -> None:
    if not SLUG.match(value):
        raise UsageError(f"{value!r} is not an id (a-z, 0-9 and '-', at most 63)", where=what)
    if what.endswith("module id") and not SLUG.match(f"{value}-skill"):
        raise UsageError(f"{value!r} is too long for its competency {value}-skill", where=what)


def _read(manifest: Path) -> tuple[str, dict[str, Any]]:
    if not manifest.is_file():
        raise manifest_not_found(manifest)
    text = manifest.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}", path=manifest) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("sessions"), list):
        raise ManifestError("expected a mapping with a 'sessions' list", path=manifest)
    if not all(isinstance(s, dict) for s in raw["sessions"]):
        raise ManifestError("every session must be a mapping", path=manifest, where="sessions")
    if not isinstance(raw.get("competencies"), dict):
        raise ManifestError("expected a mapping", path=manifest, where="competencies")
    return text, raw


def _modules(session: dict[str, Any]) -> list[Any]:
    modules = session.get("modules")
    return modules if isinstance(modules, list) else []


def _next_session_id(sessions: list[dict[str, Any]]) -> str:
    ids = {str(s.get("id")) for s in sessions}
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(r"session-(\d+)", i))]
    number = max(numbers, default=len(sessions)) + 1
    while f"session-{number:02d}" in ids:
        number += 1
    return f"session-{number:02d}"


def _session_folder(modules: list[Any], session_id: str) -> str:
    for module in modules:
        lesson = module.get("lesson") if isinstance(module, dict) else None
        if isinstance(lesson, str) and "/" in lesson:
            return lesson.rsplit("/", 1)[0]
    return f"curriculum/{session_id}"


_PARTNER_TITLE = re.compile(r"TODO: the (tech|management) module paired with [a-z0-9-]+")


def _placeholder_plan(module: dict[str, Any]) -> _Plan:
    lesson = str(module.get("lesson", ""))
    return _Plan(str(module["id"]), module["track"], str(module["title"]), lesson.rsplit("/", 1)[0])


def _untouched_placeholder(modules: list[Any], track: str, root: Path) -> dict[str, Any] | None:
    """The session's ``track`` module if it is a partner placeholder exactly as
    ``new-module`` wrote it (entry and files): a real module may take its place. One
    its author has begun to fill in is theirs, and is never replaced."""
    for module in modules:
        if not isinstance(module, dict) or module.get("track") != track:
            continue
        if not isinstance(module.get("id"), str) or not _PARTNER_TITLE.fullmatch(
            str(module.get("title", ""))
        ):
            return None
        plan = _placeholder_plan(module)
        if module != plan.entry():
            return None
        for path, content in plan.files(root).items():
            if not path.is_file() or path.read_text(encoding="utf-8") != content():
                return None
        return module
    return None


def _remove_placeholder(plan: _Plan, root: Path) -> None:
    """Remove a replaced placeholder's files, and its folders once empty."""
    for path in plan.files(root):
        path.unlink(missing_ok=True)
    for folder in {path.parent for path in plan.files(root)}:
        with contextlib.suppress(OSError):  # not empty: other files live there
            folder.rmdir()


def _check_free(manifest: Path, raw: dict[str, Any], root: Path, plans: list[_Plan]) -> None:
    used = {m.get("id") for s in raw["sessions"] for m in _modules(s) if isinstance(m, dict)}
    for plan in plans:
        if plan.id in used:
            raise ManifestError(f"module id {plan.id!r} is already used", path=manifest)
        if plan.competency in raw["competencies"]:
            raise ManifestError(
                f"competency {plan.competency!r} already exists",
                path=manifest,
                where="competencies",
            )
        for path in [root / plan.lesson, root / plan.exercise, *plan.files(root)]:
            if path.exists():
                raise UsageError("already exists: new-module never overwrites a file", path=path)


def _write(manifest: Path, original: str, text: str, root: Path, plans: list[_Plan]) -> list[Path]:
    written: list[Path] = []
    made: list[Path] = []
    try:
        for plan in plans:
            for path, content in plan.files(root).items():
                made += reversed([p for p in [path.parent, *path.parent.parents] if not p.exists()])
                atomic_write_text(path, content())
                written.append(path)
        atomic_write_text(manifest, text)
        validate_program(manifest, placeholders=True)  # the TODOs are the author's to fill
    except BaseException:
        atomic_write_text(manifest, original)
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return [*written, manifest]


# --- the manifest, edited as text ------------------------------------------------------


def _edited(
    manifest: Path,
    text: str,
    raw: dict[str, Any],
    plans: list[_Plan],
    index: int | None,
    session_id: str,
    replaced: dict[str, Any] | None = None,
) -> str:
    """The manifest's text with the new entries (and without the ``replaced``
    placeholder's); refused unless it parses as intended."""
    comps = {p.competency: {"title": f"TODO: the {p.track} skill {p.id} builds", "track": p.track}
             for p in plans}  # fmt: skip
    entries = [p.entry() for p in plans]
    expected = copy.deepcopy(raw)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if replaced is not None and index is not None:
        gone = _placeholder_plan(replaced)
        expected["competencies"].pop(gone.competency, None)
        expected["sessions"][index]["modules"].remove(replaced)
        modules_key = _modules_key(lines, _top_key(lines, "sessions"), session_id)
        _drop(lines, modules_key, rf"-\s+id:\s*['\"]?{re.escape(gone.id)}['\"]?")
        _drop(lines, _top_key(lines, "competencies"), rf"['\"]?{re.escape(gone.competency)}['\"]?:")
    expected["competencies"].update(comps)
    if (start := _top_key(lines, "competencies")) is not None:
        end, col = _block(lines, start)
        lines[end:end] = [_competency(k, v, col, _nested(lines, start)) for k, v in comps.items()]
    start = _top_key(lines, "sessions")
    if index is None:
        new = {"id": session_id, "title": "TODO: name this session", "modules": entries}
        expected["sessions"].append(new)
        if start is not None:
            end, col = _block(lines, start)
            lines[end:end] = ["\n", _item(new, col)]
    else:
        expected["sessions"][index].setdefault("modules", []).extend(entries)
        key = _modules_key(lines, start, session_id)
        if key is not None:
            end, col = _block(lines, key)
            lines[end:end] = [_item(e, col) for e in entries]
    edited = "".join(lines)
    if yaml.safe_load(edited) != expected:
        snippet = yaml.safe_dump({"competencies": comps, "modules": entries}, sort_keys=False)
        raise ManifestError(
            "cannot add the new entries to this file's layout automatically; nothing was "
            f"written. Add them by hand:\n{snippet}",
            path=manifest,
        )
    return edited


def _drop(lines: list[str], key: int | None, entry: str) -> None:
    """Remove from the block under ``lines[key]`` the entry whose first line matches
    ``entry``, with its nested lines (the result is checked by parsing it)."""
    if key is None:
        return
    end = _block(lines, key)[0]
    pattern = re.compile(rf"^\s*{entry}(\s|$)")
    first = next((i for i in range(key + 1, end) if pattern.match(lines[i])), None)
    if first is None:
        return
    last = first + 1
    while last < end and (
        not _content(lines[last]) or _indent(lines[last]) > _indent(lines[first])
    ):
        if lines[last].lstrip().startswith("- ") and _indent(lines[last]) <= _indent(lines[first]):
            break
        last += 1
    while last > first + 1 and not lines[last - 1].strip():
        last -= 1  # blank lines before the next entry stay
    del lines[first:last]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    return bool(line.strip()) and not line.strip().startswith("#")


def _top_key(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^{key}:\s*(#.*)?$")
    return next((i for i, line in enumerate(lines) if pattern.match(line)), None)


def _block(lines: list[str], start: int) -> tuple[int, int]:
    """For the ``key:`` at ``lines[start]``: one past its block's last line, and the
    indent of its entries."""
    indent = _indent(lines[start])
    end, col = start + 1, None
    for i in range(start + 1, len(lines)):
        if not _content(lines[i]):
            continue
        item = lines[i].lstrip().startswith("- ")
        if _indent(lines[i]) < indent or (_indent(lines[i]) == indent and not item):
            break
        col = _indent(lines[i]) if col is None else col
        end = i + 1
    return end, indent + 2 if col is None else col


def _modules_key(lines: list[str], start: int | None, session_id: str) -> int | None:
    """The ``modules:`` line of the session item ``- id: <session_id>``."""
    if start is None:
        return None
    end = _block(lines, start)[0]
    item_line = re.compile(rf"^\s*-\s+id:\s*['\"]?{re.escape(session_id)}['\"]?\s*(#.*)?$")
    item = next((i for i in range(start + 1, end) if item_line.match(lines[i])), None)
    if item is None:
        return None
    for i in range(item + 1, end):
        if _content(lines[i]) and _indent(lines[i]) <= _indent(lines[item]):
            return None
        if re.match(r"^\s*modules:\s*(#.*)?$", lines[i]):
            return i
    return None


def _nested(lines: list[str], start: int) -> int | None:
    """The indent of the fields of the first entry under ``lines[start]``, if in block style."""
    entries = [line for line in lines[start + 1 :] if _content(line)][:2]
    if len(entries) == 2 and entries[0].rstrip().endswith(":"):
        return _indent(entries[1])
    return None


def _competency(key: str, fields: dict[str, str], col: int, nested: int | None) -> str:
    if nested is None or nested <= col:
        return f"{' ' * col}{key}: {_flow(fields)}\n"
    return f"{' ' * col}{key}:\n" + "".join(
        f"{' ' * nested}{k}: {_scalar(v)}\n" for k, v in fields.items()
    )


def _scalar(value: Any, *, flow: bool = False) -> str:
    """``value`` as YAML: plain where that reads back the same, else double-quoted."""
    text = str(value)
    try:
        document = f"k: [{text}]" if flow else f"k: {text}"
        plain = yaml.safe_load(document) == {"k": [text] if flow else text}
    except yaml.YAMLError:
        plain = False
    return text if isinstance(value, int) or plain else json.dumps(text, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_scalar(v, flow=True)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return (
            "["
            + ", ".join(_flow(v) if isinstance(v, dict) else _scalar(v, flow=True) for v in value)
            + "]"
        )
    return _scalar(value)


def _item(fields: dict[str, Any], col: int) -> str:
    """``fields`` as a block-sequence item at indent ``col`` (modules nested as items)."""
    pad = " " * (col + 2)
    body = "".join(
        f"{pad}modules:\n" + "".join(_item(m, col + 4) for m in value)
        if key == "modules"
        else f"{pad}{key}: {_flow(value)}\n"
        for key, value in fields.items()
    )
    return " " * col + "- " + body[col + 2 :]


__all__ = ["new_module"]
