"""Scaffold a new module: lesson, checkpoint, data, competency and manifest entry.

:func:`new_module` writes a lesson notebook with every section and the widget cells,
a checkpoint (an nbgrader source notebook) with a tiny CSV each, a competency
``<module-id>-skill`` and the module's entry in ``program.yml``, then proves the result
with :func:`tandem.curriculum.validate_program`. The manifest is edited as text (lines
inserted at the end of its ``competencies`` and ``sessions`` blocks), so its comments
and layout are kept; the edit is checked by parsing the new text before it is written.

All or nothing: on any error, every file written is removed and the manifest restored.
Nothing existing is ever overwritten.
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

MINUTES = {"teaching": 45, "exercise": 30}
OTHER_TRACK: dict[str, Track] = {"tech": "management", "management": "tech"}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
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
            "objectives": ["TODO: what the learner can do afterwards (compute, explain, choose)"],
            "competencies": [self.competency],
            "lesson": self.lesson,
            "lesson_data": [self.data],
            "exercise": self.exercise,
        }

    def files(self, root: Path) -> dict[Path, Callable[[], str]]:
        lesson = root / self.lesson
        return {
            lesson: lambda: _notebook(LESSON, self),
            lesson.parent / self.data: lambda: LESSON_CSV,
            root / self.exercise / "checkpoint.ipynb": lambda: _notebook(CHECKPOINT, self),
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
    sessions: list[dict[str, Any]] = raw["sessions"]
    index = next((i for i, s in enumerate(sessions) if s.get("id") == session), None)
    modules = [] if index is None else _modules(sessions[index])
    taken = [m.get("id") for m in modules if isinstance(m, dict) and m.get("track") == track]
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
    root = manifest.resolve().parent.parent
    _check_free(manifest, raw, root, plans)
    text = _edited(manifest, original, raw, plans, index, session_id)
    return _write(manifest, original, text, root, plans)


def _check_slug(value: str, what: str) -> None:
    if not SLUG.match(value):
        raise UsageError(f"{value!r} is not an id (a-z, 0-9 and '-', at most 63)", where=what)
    if what.endswith("module id") and not SLUG.match(f"{value}-skill"):
        raise UsageError(f"{value!r} is too long for its competency {value}-skill", where=what)


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


def _edited(
    manifest: Path,
    text: str,
    raw: dict[str, Any],
    plans: list[_Plan],
    index: int | None,
    session_id: str,
) -> str:
    """The manifest's text with the new entries; refused unless it parses as intended."""
    comps = {p.competency: {"title": f"TODO: the {p.track} skill {p.id} builds", "track": p.track}
             for p in plans}  # fmt: skip
    entries = [p.entry() for p in plans]
    expected = copy.deepcopy(raw)
    expected["competencies"].update(comps)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
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
        return "[" + ", ".join(_scalar(v, flow=True) for v in value) + "]"
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


# --- the notebooks, from the templates below ---------------------------------------------


def _notebook(template: str, plan: _Plan) -> str:
    """Cells start at ``%% md|code [grade_id [solution] [points=N]]``; ``{name}`` fill-ins."""
    import nbformat  # imported here: nbformat's import costs ~1 s
    from nbformat import v4

    lead = LEAD_OF_TRACK[plan.track]
    values = {
        "title": plan.title, "module": plan.id, "track": plan.track, "lead": lead,
        "learner": other_role(lead), "competencies": json.dumps([plan.competency]),
        "data": plan.data, "exercise": plan.exercise,
        "teaching": str(MINUTES["teaching"]), "exercise_minutes": str(MINUTES["exercise"]),
    }  # fmt: skip
    nb = v4.new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for number, chunk in enumerate(template.split("\n%% ")[1:]):
        header, _, source = chunk.partition("\n")
        source = re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), source)
        kind, *grading = header.split()
        source = source.strip()
        cell = v4.new_markdown_cell(source) if kind == "md" else v4.new_code_cell(source)
        cell.id = grading[0].replace("_", "-") if grading else f"cell-{number:02d}"
        if grading:
            meta = {"grade": False, "grade_id": grading[0], "locked": True, "schema_version": 3,
                    "solution": "solution" in grading}  # fmt: skip
            meta["locked"] = not meta["solution"]
            for word in grading[1:]:
                if word.startswith("points="):
                    meta.update(grade=True, points=int(word.removeprefix("points=")))
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    nbformat.validate(nb)
    return str(nbformat.writes(nb)) + "\n"


LESSON_CSV = """week,team,requests,resolved
1,North,40,34
1,South,25,24
2,North,38,30
2,South,27,25
3,North,45,33
3,South,22,21
4,North,41,35
4,South,30,26
"""
CHECKPOINT_CSV = "week,team,requests,resolved\n1,East,20,18\n1,West,0,0\n2,East,25,20\n"
CHECKPOINT_CSV += "2,West,16,\n3,East,30,27\n3,West,18,15\n"

LESSON = """
%% md
# {title}

*Track: {track}. Led by the {lead} partner; the {learner} partner is the learner.*

> **TODO (author):** every TODO is guidance: replace it with your content and delete the
> marker. Check with `tandem validate` and `pytest --nbval-lax` on this notebook.

TODO: one paragraph. Why this matters at work, what the pair will do, and what the data are
(small and synthetic: say so, and name the fictional organisation).
%% md
## Questions

- TODO: two to four questions this module answers, in the learner's words.
- TODO: for example, *which of these numbers can I trust?*
%% md
## Objectives

After this module the learner can:

- **Compute** TODO: something checkable, on the module's data.
- **Explain** TODO: a concept, to a colleague.
- **Choose** TODO: between options, with a stated reason.

Keep these in step with `objectives` in `curriculum/program.yml`.
%% md
## Timing

| Part | Minutes |
|---|---|
| Introduction and notes | 5 |
| Activity 1 | 15 |
| Activity 2 | 15 |
| Discussion and reflection | 10 |
| **Teaching total** | **{teaching}** |
| Checkpoint exercise (`{exercise}`) | {exercise_minutes} |
%% md
## Before you start

The learner rates themself on this module's competencies (1 = new to this, 5 = could teach
it). The same ratings come back at the end, so you can both see what moved.
%% code
from tandem.widgets import reflection, self_assessment, session_feedback

self_assessment({competencies}, moment="before")
%% md
## Notes for the lead

TODO: how to teach this to a colleague of another generation.

- **Start from their experience.** Ask how they handle this today; build on what they know.
- **Define every term** the first time you use it; avoid jargon, slang and acronyms.
- **Let them drive.** The learner types and runs the cells; the lead points.
- **Keep it two-way.** Ask for their judgement on the result: what would they trust, and
  what would they do next?
- TODO: what to avoid, and what the learner probably already knows.
%% md
## Activity 1: TODO a task from working life

TODO: the question the data answer. This example reads weekly service requests for two teams.
Before running each cell, say what you expect to see.
%% code
import pandas as pd

example = pd.read_csv("{data}")
example
%% md
**Your turn.** TODO: one step the learner does. Here: add the share of requests resolved.
%% code
example["resolved_share"] = example["resolved"] / example["requests"]
example.round(2)
%% md
## Activity 2: TODO a second, harder task

TODO: build on Activity 1. Here: compare the teams over all weeks, with the count behind
each figure.
%% code
by_team = example.groupby("team")[["requests", "resolved"]].sum()
by_team["resolved_share"] = by_team["resolved"] / by_team["requests"]
by_team.round(2)
%% md
## Discussion

The lead asks the first two; the learner asks the rest.

1. TODO: a question linking the activity to the learner's own work.
2. TODO: a question the numbers alone cannot settle.
3. TODO: a question the learner asks the lead.
%% md
## Reflection

Each partner answers the prompts for their role. Answers are private: they are saved to your
own Tandem store, not to this notebook. Tick *Share* to send one to your partner and
facilitator with your submission.
%% code
reflection(
    "{module}-next-step",
    "Learner: TODO what will you do differently at work in the next two weeks?",
)
%% code
reflection(
    "{module}-lead-next-time",
    "Lead: which explanation today would you give differently next time, and how?",
)
%% md
## Self-assessment

The learner rates the same competencies again, now that the module is done.
%% code
self_assessment({competencies}, moment="after")
%% md
## Session feedback

The learner tells the lead how the teaching landed. Be specific: this is how the lead learns.
%% code
session_feedback("{module}")
%% md
## Key points

- TODO: three to six points the learner should remember, one line each.
- TODO: each concrete enough to act on tomorrow.
"""

CHECKPOINT = '''
%% md intro
# Checkpoint: {title}

> **TODO (author):** replace this example with 3-5 autograded tasks on the module's
> competencies and one written answer, set in a realistic working scenario, then delete this
> note (see `docs/authoring-modules.md`).

TODO: the scenario in two or three sentences. `example.csv` holds weekly service requests,
and how many were resolved, for two teams.

Complete the function below: replace `raise NotImplementedError()` with your code, then run
the test cell underneath. Passing the visible tests is a good sign; hidden tests check edge
cases such as zero requests and missing values. Task 2 is a short written answer.

Allow about {exercise_minutes} minutes. Your partner may help with Python syntax; the
decisions are yours.
%% code setup
import math

import pandas as pd

example = pd.read_csv("example.csv")
example
%% md task1_instructions
## Task 1: Resolution rate (3 points)

Write `resolution_rate(resolved, requests)`. It returns resolved / requests as a `float`.

Return `float("nan")` when the rate cannot be calculated: `requests` is 0, or either input
is missing (`None` or `NaN`). Hint: `pd.isna(x)` is `True` for both.
%% code resolution_rate solution
def resolution_rate(resolved, requests):
    """Return resolved / requests, or NaN if undefined."""
    ### BEGIN SOLUTION
    if pd.isna(resolved) or pd.isna(requests) or requests <= 0:
        return float("nan")
    return float(resolved / requests)
    ### END SOLUTION
%% code test_resolution_rate points=3
assert math.isclose(resolution_rate(18, 20), 0.9)
assert isinstance(resolution_rate(27, 30), float)
### BEGIN HIDDEN TESTS
assert resolution_rate(0, 25) == 0.0
assert math.isnan(resolution_rate(0, 0))
assert math.isnan(resolution_rate(None, 16))
assert math.isnan(resolution_rate(5, float("nan")))
rates = example.apply(lambda r: resolution_rate(r["resolved"], r["requests"]), axis=1)
assert rates.notna().sum() == 4
### END HIDDEN TESTS
%% md task2_question
## Task 2: Before acting on a number (2 points, marked by your facilitator)

TODO: replace with a question that asks for a judgement at work, in 80 to 150 words.

Team West resolved 15 of 18 requests in week 3, against Team East's 27 of 30. The operations
lead proposes sending all of West's requests to East from next month. In 80 to 150 words:
what would you check before agreeing, and why? You may use the data.

**Rubric** (1 point for each element, up to 2):

1. **Enough evidence.** Notes that week 3 is West's only comparable week (week 1 had no
   requests, week 2's resolved count is missing) and that 18 requests are too few to act on.
2. **What lies behind the rate.** Asks what kind of requests each team gets, or about
   staffing, before moving work, or proposes comparing more weeks first.

No points: accepts the comparison at face value, only restates the numbers, or is blank.
%% md written_answer solution points=2
West's 83% against East's 90% rests on one comparable week: in week 1 West had no requests,
and in week 2 its resolved count is missing. With 18 requests, one more resolved would move
the rate by more than five points. Before moving any work I would ask whether the two teams
get the same kind of requests and how many people West had that week, and compare the rates
over at least six more weeks.
'''

__all__ = ["new_module"]
