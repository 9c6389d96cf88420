"""Scaffold a new module: lesson, checkpoint, data, competency and manifest entry.

:func:`new_module` writes a lesson notebook with every section and the widget cells,
a checkpoint (a valid nbgrader source notebook) with a tiny CSV each, a competency
``<module-id>-skill`` and the module's entry in ``program.yml``, then proves the
result with :func:`tandem.curriculum.validate_program`. The manifest is edited as
text (new lines inserted at the end of the ``competencies`` and ``sessions`` blocks),
so its comments and layout are kept; the edit is checked by parsing it again.

It is all or nothing: on any error every file written is removed and the manifest
restored. It never overwrites a file.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from tandem.curriculum import LEAD_OF_TRACK, SLUG, Track, other_role, validate_program
from tandem.errors import ManifestError, UsageError
from tandem.fsutil import atomic_write_text

_PATH = re.compile(r"[A-Za-z0-9_./-]+")
MINUTES = {"teaching": 45, "exercise": 30}
OTHER_TRACK: dict[str, Track] = {"tech": "management", "management": "tech"}
LESSON_CSV = "week,team,requests,resolved\n" + "".join(
    f"{w},{t},{q},{r}\n"
    for w, t, q, r in [
        (1, "North", 40, 34), (1, "South", 25, 24), (2, "North", 38, 30), (2, "South", 27, 25),
        (3, "North", 45, 33), (3, "South", 22, 21), (4, "North", 41, 35), (4, "South", 30, 26),
    ]
)  # fmt: skip
CHECKPOINT_CSV = "week,team,requests,resolved\n1,East,20,18\n1,West,0,0\n2,East,25,20\n"
CHECKPOINT_CSV += "2,West,16,\n3,East,30,27\n3,West,18,15\n"


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
            "objectives": [f"TODO: what the learner can do after '{self.title}' (compute, ...)"],
            "competencies": [self.competency],
            "lesson": self.lesson,
            "lesson_data": [self.data],
            "exercise": self.exercise,
        }

    def files(self, root: Path) -> dict[Path, Callable[[], str]]:
        lesson = root / self.lesson
        return {
            lesson: lambda: _notebook_text(_lesson(self)),
            lesson.parent / self.data: lambda: LESSON_CSV,
            root / self.exercise / "checkpoint.ipynb": lambda: _notebook_text(_checkpoint(self)),
            root / self.exercise / "example.csv": lambda: CHECKPOINT_CSV,
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

    Placement: if ``session`` names an existing session that has no ``track`` module
    yet, the module joins it (in the folder of that session's other lesson). Otherwise
    a new session is appended: ``session`` if given, else ``session-NN`` (one more than
    the highest number in use). A session pairs exactly one tech and one management
    module, so whenever the session would lack the other track the scaffold also writes
    a placeholder partner module of that track, id ``partner`` (default
    ``<module-id>-partner``), to be rewritten like the module itself.

    Returns the files written, the manifest last. Raises :class:`UsageError` for a bad
    id or track, or a file that already exists; :class:`ManifestError` for an id already
    in the manifest or a session that already has a ``track`` module; and
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
    sessions: list[Any] = raw["sessions"]
    index = next((i for i, s in enumerate(sessions) if s.get("id") == session), None)
    modules: list[Any] = [] if index is None else list(sessions[index].get("modules") or [])
    for existing in modules:
        if existing.get("track") == track:
            raise ManifestError(
                f"session {session!r} already has a {track} module ({existing.get('id')!r}); "
                "a session pairs one tech module with one management module",
                path=manifest,
                where=f"sessions[{index}].modules",
            )
    session_id = session or _next_session_id(sessions)
    folder = _session_folder(modules, session_id)
    plans = [_Plan(module_id, track, title or _title_of(module_id), folder)]
    if not any(m.get("track") == OTHER_TRACK[track] for m in modules):
        partner_id = partner or f"{module_id}-partner"
        _check_slug(partner_id, "partner module id")
        other = OTHER_TRACK[track]
        plans.append(
            _Plan(partner_id, other, f"TODO: the {other} module paired with {module_id}", folder)
        )
    _check_free(manifest, raw, root, plans)
    return _write(manifest, original, raw, root, plans, index, session_id)


def _check_slug(value: str, what: str) -> None:
    if not SLUG.match(value):
        raise UsageError(
            f"{value!r} is not an id (lowercase letters, digits and '-', at most 63)", where=what
        )
    if what.endswith("module id") and not SLUG.match(f"{value}-skill"):
        raise UsageError(f"{value!r} is too long for its competency id {value}-skill", where=what)


def _title_of(module_id: str) -> str:
    return module_id.replace("-", " ").capitalize()


def _read(manifest: Path) -> tuple[str, dict[str, Any]]:
    if not manifest.is_file():
        raise ManifestError("manifest not found", path=manifest)
    text = manifest.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {exc}", path=manifest) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("sessions"), list):
        raise ManifestError("expected a mapping with a 'sessions' list", path=manifest)
    if not all(isinstance(s, dict) for s in raw["sessions"]):
        raise ManifestError("every session must be a mapping", path=manifest, where="sessions")
    if not isinstance(raw.get("competencies"), dict | list):
        raise ManifestError("expected a 'competencies' mapping", path=manifest)
    return text, raw


def _next_session_id(sessions: list[Any]) -> str:
    ids = {str(s.get("id")) for s in sessions}
    numbers = [int(m.group(1)) for i in ids if (m := re.fullmatch(r"session-(\d+)", i))]
    number = max(numbers, default=len(sessions)) + 1
    while f"session-{number:02d}" in ids:
        number += 1
    return f"session-{number:02d}"


def _session_folder(modules: list[Any], session_id: str) -> str:
    for existing in modules:
        lesson = existing.get("lesson")
        if isinstance(lesson, str) and "/" in lesson:
            return lesson.rsplit("/", 1)[0]
    return f"curriculum/{session_id}"


def _check_free(manifest: Path, raw: dict[str, Any], root: Path, plans: list[_Plan]) -> None:
    module_ids = {m.get("id") for s in raw["sessions"] for m in (s.get("modules") or [])}
    comps = raw["competencies"]
    comp_ids = set(comps) if isinstance(comps, dict) else {c.get("id") for c in comps}
    for plan in plans:
        if plan.id in module_ids:
            raise ManifestError(f"module id {plan.id!r} is already used", path=manifest)
        if plan.competency in comp_ids:
            raise ManifestError(
                f"competency {plan.competency!r} already exists",
                path=manifest,
                where="competencies",
            )
        for path in [root / plan.lesson, root / plan.exercise, *plan.files(root)]:
            if path.exists():
                raise UsageError(
                    "already exists; new-module never overwrites: choose another id or move it",
                    path=path,
                )


def _write(
    manifest: Path,
    original: str,
    raw: dict[str, Any],
    root: Path,
    plans: list[_Plan],
    index: int | None,
    session_id: str,
) -> list[Path]:
    text, expected = _edit(original, raw, plans, index, session_id)
    if yaml.safe_load(text) != expected:
        snippet = yaml.safe_dump(
            {"competencies": _competencies(plans), "modules": [p.entry() for p in plans]},
            sort_keys=False,
        )
        raise ManifestError(
            "cannot add the new entries to this file's layout automatically; nothing was "
            f"written. Add by hand, then run new-module again with another id:\n{snippet}",
            path=manifest,
        )
    written: list[Path] = []
    made: list[Path] = []
    try:
        for plan in plans:
            for path, content in plan.files(root).items():
                missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
                made.extend(reversed(missing))
                atomic_write_text(path, content())
                written.append(path)
        atomic_write_text(manifest, text)
        validate_program(manifest)
    except BaseException:
        atomic_write_text(manifest, original)
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return [*written, manifest]


# --- the manifest, edited as text ------------------------------------------------------


def _competencies(plans: list[_Plan]) -> dict[str, dict[str, str]]:
    return {
        p.competency: {"title": f"TODO: the skill '{p.title}' builds", "track": p.track}
        for p in plans
    }


def _edit(
    text: str, raw: dict[str, Any], plans: list[_Plan], index: int | None, session_id: str
) -> tuple[str, dict[str, Any]]:
    """The new manifest text and the data it must parse to."""
    expected = copy.deepcopy(raw)
    comps = _competencies(plans)
    if isinstance(expected["competencies"], dict):
        expected["competencies"].update(comps)
    else:
        expected["competencies"].extend({"id": k, **v} for k, v in comps.items())
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = _top_key(lines, "competencies")
    if start is not None:
        end, col, is_list = _block(lines, start)
        entry = [
            (f"{' ' * col}- id: {cid}\n" if is_list else f"{' ' * col}{cid}:\n")
            + _mapping(fields, col + 2)
            for cid, fields in comps.items()
        ]
        lines[end:end] = entry
    entries = [p.entry() for p in plans]
    start = _top_key(lines, "sessions")
    if index is None:
        new = {"id": session_id, "title": "TODO: name this session", "modules": entries}
        expected["sessions"].append(new)
        if start is not None:
            end, col, _ = _block(lines, start)
            lines[end:end] = ["\n", _item(new, col)]
    else:
        expected["sessions"][index].setdefault("modules", []).extend(entries)
        item = _session_line(lines, start, session_id)
        if item is not None:
            key = _nested_key(lines, item, "modules")
            if key is not None:
                end, col, _ = _block(lines, key)
                lines[end:end] = [_item(e, col) for e in entries]
    return "".join(lines), expected


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _top_key(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^{key}:\s*(#.*)?$")
    return next((i for i, line in enumerate(lines) if pattern.match(line)), None)


def _block(lines: list[str], start: int) -> tuple[int, int, bool]:
    """For the ``key:`` at ``lines[start]``: the end of its block, its entries' indent
    and whether they are list items."""
    indent = _indent(lines[start])
    end, col, is_list = start + 1, indent + 2, False
    first = True
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not _content(line):
            continue
        item = line.lstrip().startswith("- ")
        if _indent(line) < indent or (_indent(line) == indent and not item):
            break
        if first:
            col, is_list, first = _indent(line), item, False
        end = i + 1
    return end, col, is_list


def _session_line(lines: list[str], start: int | None, session_id: str) -> int | None:
    if start is None:
        return None
    pattern = re.compile(rf"^\s*-\s+id:\s*['\"]?{re.escape(session_id)}['\"]?\s*(#.*)?$")
    end = _block(lines, start)[0]
    return next((i for i in range(start + 1, end) if pattern.match(lines[i])), None)


def _nested_key(lines: list[str], item: int, key: str) -> int | None:
    """The line of ``key:`` among the keys of the list item at ``lines[item]``."""
    after_dash = lines[item].lstrip()[1:]
    col = _indent(lines[item]) + 1 + len(after_dash) - len(after_dash.lstrip())
    pattern = re.compile(rf"^ {{{col}}}{key}:\s*(#.*)?$")
    for i in range(item + 1, len(lines)):
        if _content(lines[i]) and _indent(lines[i]) <= _indent(lines[item]):
            return None
        if pattern.match(lines[i]):
            return i
    return None


def _scalar(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    text = str(value)
    try:
        plain = yaml.safe_load(f"k: {text}") == {"k": text} and "#" not in text
    except yaml.YAMLError:
        plain = False
    return text if plain and not text.startswith(("[", "{", "'", '"')) else json.dumps(text)


def _mapping(fields: dict[str, Any], col: int) -> str:
    out = ""
    for key, value in fields.items():
        pad = " " * col
        if isinstance(value, dict):
            inner = ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items())
            out += f"{pad}{key}: {{{inner}}}\n"
        elif isinstance(value, list) and all(_PATH.fullmatch(str(v)) for v in value):
            out += f"{pad}{key}: [{', '.join(_scalar(v) for v in value)}]\n"
        elif isinstance(value, list):
            out += f"{pad}{key}:\n" + "".join(f"{pad}  - {_scalar(v)}\n" for v in value)
        else:
            out += f"{pad}{key}: {_scalar(value)}\n"
    return out


def _item(fields: dict[str, Any], col: int) -> str:
    """A list item at indent ``col``: ``- first: ...`` then the other keys."""
    if "modules" in fields:
        head = _mapping({k: v for k, v in fields.items() if k != "modules"}, col + 2)
        modules = "".join(_item(m, col + 4) for m in fields["modules"])
        body = head + f"{' ' * (col + 2)}modules:\n" + modules
    else:
        body = _mapping(fields, col + 2)
    return " " * col + "- " + body[col + 2 :]


# --- the notebooks ---------------------------------------------------------------------

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
WIDGETS_IMPORT = "from tandem.widgets import reflection, self_assessment, session_feedback\n\n"
NOTES = {
    "junior": "- **Start from their experience.** Ask how they do this today without the tool; "
    "most digital habits have an offline equivalent.",
    "senior": "- **Start from what they have seen.** Ask when they have been on the receiving "
    "end of this; tell one real story of your own, including a mistake.",
}


def _notebook_text(nb: Any) -> str:
    import nbformat  # imported here: nbformat's import costs ~1 s

    text: str = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _notebook(cells: list[tuple[str, str, str, dict[str, Any] | None]]) -> Any:
    """Cells as (id, "md" or "code", source, nbgrader metadata or None)."""
    from nbformat import v4

    nb = v4.new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for cell_id, kind, source, grading in cells:
        cell = v4.new_markdown_cell(source) if kind == "md" else v4.new_code_cell(source)
        cell.id = cell_id
        if grading is not None:
            cell.metadata["nbgrader"] = {
                "grade": False, "locked": True, "schema_version": 3, "solution": False,
                **grading, "grade_id": cell_id.replace("-", "_"),
            }  # fmt: skip
        nb.cells.append(cell)
    return nb


def _lesson(plan: _Plan) -> Any:
    lead = LEAD_OF_TRACK[plan.track]
    learner = other_role(lead)
    comps = json.dumps([plan.competency])
    return _notebook([
        ("title", "md", f"# {plan.title}\n\n*Track: {plan.track}. Led by the {lead} partner; "
         f"the {learner} partner is the learner.*\n\n> **TODO (author):** every TODO is guidance: "
         "replace it with your content, then delete the marker. Check with `tandem validate` "
         "and `pytest --nbval-lax` on this notebook.\n\nTODO: one paragraph. Why this matters "
         "at work, what the pair will do, and what the data are (small and synthetic: say so, "
         "and name the fictional organisation).", None),
        ("questions", "md", "## Questions\n\n- TODO: two to four questions this module answers, "
         "in the learner's words.\n- TODO: e.g. *Which of these numbers can I trust?*", None),
        ("objectives", "md", "## Objectives\n\nAfter this module the learner can:\n\n"
         "- **Compute** TODO: something checkable, on the module's data.\n"
         "- **Explain** TODO: a concept, to a colleague.\n- **Choose** TODO: between options, "
         "with a stated reason.\n\nKeep these in step with `objectives` in "
         "`curriculum/program.yml`.", None),
        ("timing", "md", "## Timing\n\n| Part | Minutes |\n|---|---|\n| Introduction | 5 |\n"
         "| Activity 1 | 15 |\n| Activity 2 | 15 |\n| Discussion and reflection | 10 |\n"
         f"| **Teaching total** | **{MINUTES['teaching']}** |\n| Checkpoint exercise "
         f"(`{plan.exercise}`) | {MINUTES['exercise']} |", None),
        ("before", "md", "## Before you start\n\nThe learner rates themself on this module's "
         "competencies (1 = new to this, 5 = could teach it). The same ratings come back at the "
         "end, so you can both see what moved.", None),
        ("self-assessment-before", "code",
         f'{WIDGETS_IMPORT}self_assessment({comps}, moment="before")', None),
        ("notes", "md", f"## Notes for the lead\n\nTODO: how to teach this to a colleague of "
         f"another generation.\n\n{NOTES[lead]}\n- **Define every term** the first time you use "
         "it; avoid jargon and acronyms.\n- **Let them drive.** The learner types and runs the "
         "cells; you point.\n- **Keep it two-way.** Ask for their judgement on the result: "
         "what would they trust, and what would they do next?\n- TODO: what to avoid.", None),
        ("activity-1", "md", "## Activity 1: TODO a task from working life\n\nTODO: the "
         "question the data answer. This example reads weekly service requests for two teams. "
         "Before running each cell, say what you expect to see.", None),
        ("activity-1-load", "code", f'import pandas as pd\n\nexample = pd.read_csv("{plan.data}")'
         "\nexample", None),
        ("activity-1-turn", "md", "**Your turn.** TODO: one step the learner does. Here: add the "
         "share of requests resolved each week.", None),
        ("activity-1-share", "code", 'example["resolved_share"] = example["resolved"] / '
         'example["requests"]\nexample.round(2)', None),
        ("activity-2", "md", "## Activity 2: TODO a second, harder task\n\nTODO: build on "
         "Activity 1. Here: compare the teams over all weeks, and show the count behind "
         "each figure.", None),
        ("activity-2-teams", "code", 'by_team = example.groupby("team")[["requests", "resolved"]]'
         '.sum()\nby_team["resolved_share"] = by_team["resolved"] / by_team["requests"]\n'
         "by_team.round(2)", None),
        ("discussion", "md", "## Discussion\n\nThe lead asks the first two; the learner asks "
         "the rest.\n\n1. TODO: a question linking the activity to the learner's own work.\n"
         "2. TODO: a question where the numbers alone do not decide.\n3. TODO: a question the "
         "learner asks the lead.", None),
        ("reflection", "md", "## Reflection\n\nEach partner answers the prompts for their role. "
         "Answers are private: they are saved to your own Tandem store, not to this notebook. "
         "Tick *Share* to send one to your partner and facilitator with your submission.", None),
        ("reflection-learner", "code", f'reflection(\n    "{plan.id}-next-step",\n    "Learner: '
         'TODO what will you do differently at work in the next two weeks?",\n)', None),
        ("reflection-lead", "code", f'reflection(\n    "{plan.id}-lead-next-time",\n    "Lead: '
         'which explanation today would you give differently next time, and how?",\n)', None),
        ("self-assessment", "md", "## Self-assessment\n\nThe learner rates the same "
         "competencies again, now that the module is done.", None),
        ("self-assessment-after", "code", f'self_assessment({comps}, moment="after")', None),
        ("feedback", "md", "## Session feedback\n\nThe learner tells the lead how the teaching "
         "landed. Be specific: this is how the lead learns to teach.", None),
        ("session-feedback", "code", f'session_feedback("{plan.id}")', None),
        ("key-points", "md", "## Key points\n\n- TODO: three to six points the learner should "
         "remember, one line each.\n- TODO: each one concrete enough to act on tomorrow.", None),
    ])  # fmt: skip


RUBRIC = """## Task 2: Before acting on a number (2 points, marked by your facilitator)

TODO: replace with a question that asks for a judgement at work, answerable in 80 to 150 words.

Team West resolved 15 of 18 requests in week 3, fewer than Team East's 27 of 30. The operations
lead proposes sending all of West's requests to East from next month. In 80 to 150 words: what
would you check before agreeing, and why? You may use the data.

**Rubric** (1 point for each element, up to 2):

1. **Enough evidence.** Notes that West's numbers are small and that weeks 1 (no requests) and 2
   (resolved count missing) cannot be compared, so one week is too little to act on.
2. **What lies behind the rate.** Asks what kind of requests each team gets, or about staffing,
   before moving work, or proposes comparing more weeks first.

No points: accepts the comparison at face value, only restates the numbers, or is blank."""

MODEL_ANSWER = """West's 83% against East's 90% rests on one comparable week: in week 1 West had
no requests at all, and in week 2 its resolved count is missing. One week of 18 requests is too
little to move a team's work; one more resolved request would change the rate by more than five
points. I would first ask whether the two teams get the same kind of requests, and how many
people West had that week, then compare the rates over at least six more weeks before deciding."""


def _checkpoint(plan: _Plan) -> Any:
    minutes = MINUTES["exercise"]
    return _notebook([
        ("intro", "md", f"# Checkpoint: {plan.title}\n\n> **TODO (author):** replace this "
         "example with 3-5 autograded tasks on the module's competencies and one written "
         "answer, set in a realistic working scenario, then delete this note "
         "(see `docs/authoring-modules.md`).\n\nTODO: the scenario in two or three "
         "sentences. `example.csv` holds weekly service requests, and how many were resolved, "
         "for two teams.\n\nComplete the function below: replace `raise NotImplementedError()` "
         "with your code, then run the test cell underneath. Passing the visible tests is a "
         "good sign; hidden tests check edge cases such as zero requests and missing values. "
         f"Task 2 is a short written answer.\n\nAllow about {minutes} minutes. Your partner "
         "may help with Python syntax; the decisions are yours.", {}),
        ("setup", "code", 'import math\n\nimport pandas as pd\n\nexample = pd.read_csv("example.csv")'
         "\nexample", {}),
        ("task1-instructions", "md", "## Task 1: Resolution rate (3 points)\n\nWrite "
         "`resolution_rate(resolved, requests)`. It returns resolved / requests as a `float`.\n\n"
         'Return `float("nan")` when the rate cannot be calculated: `requests` is 0, or either '
         "input is missing (`None` or `NaN`).\n\nHint: `pd.isna(x)` is `True` for both `None` "
         "and `NaN`.", {}),
        ("resolution-rate", "code", 'def resolution_rate(resolved, requests):\n    """Return '
         'resolved / requests, or NaN if undefined."""\n    ### BEGIN SOLUTION\n    if '
         "pd.isna(resolved) or pd.isna(requests) or requests <= 0:\n        return "
         'float("nan")\n    return float(resolved / requests)\n    ### END SOLUTION',
         {"locked": False, "solution": True}),
        ("test-resolution-rate", "code", "assert math.isclose(resolution_rate(18, 20), 0.9)\n"
         "assert isinstance(resolution_rate(27, 30), float)\n### BEGIN HIDDEN TESTS\n"
         "assert resolution_rate(0, 25) == 0.0\nassert math.isnan(resolution_rate(0, 0))\n"
         "assert math.isnan(resolution_rate(None, 16))\n"
         'assert math.isnan(resolution_rate(5, float("nan")))\n'
         'rates = example.apply(lambda r: resolution_rate(r["resolved"], r["requests"]), axis=1)'
         "\nassert rates.notna().sum() == 4\n### END HIDDEN TESTS", {"grade": True, "points": 3}),
        ("task2-question", "md", RUBRIC, {}),
        ("written-answer", "md", MODEL_ANSWER,
         {"grade": True, "solution": True, "locked": False, "points": 2}),
    ])  # fmt: skip


__all__ = ["new_module"]
