"""The programme manifest (`curriculum/program.yml`) and the checks on its notebooks.

The manifest is parsed into frozen pydantic models. Paths in it are relative to the
*programme root*: the folder that holds `curriculum/` (and `exercises/`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tandem.curriculum.locate import DEFAULT_MANIFEST_ENV as DEFAULT_MANIFEST_ENV
from tandem.curriculum.locate import cohort_manifest as cohort_manifest
from tandem.curriculum.locate import default_manifest as default_manifest
from tandem.curriculum.locate import manifest_not_found as manifest_not_found
from tandem.errors import ManifestError, NotebookError, TandemError, ValidationFailed

Role = Literal["junior", "senior"]
Track = Literal["tech", "management"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
LEAD_OF_TRACK: dict[str, Role] = {"tech": "junior", "management": "senior"}
REQUIRED_LESSON_SECTIONS = ("Questions", "Objectives", "Key points")


def other_role(role: Role) -> Role:
    return "senior" if role == "junior" else "junior"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Minutes(_Frozen):
    teaching: int = Field(gt=0, le=480)
    exercise: int = Field(ge=0, le=480)


class Competency(_Frozen):
    id: str
    title: str
    track: Track

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)


class Objective(_Frozen):
    """What the learner can do afterwards. ``id`` (a slug, unique within its module) is
    what a graded item names to say which objective it tests; a plain string in
    ``program.yml`` is an objective without an id."""

    id: str | None = None
    text: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        return None if value is None else _check_slug(value)


class Module(_Frozen):
    id: str
    track: Track
    lead: Role
    title: str
    minutes: Minutes
    objectives: tuple[Objective, ...] = Field(min_length=1)
    competencies: tuple[str, ...] = Field(min_length=1)
    lesson: str
    lesson_data: tuple[str, ...] = ()
    exercise: str

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)

    @model_validator(mode="after")
    def _lead_matches_track(self) -> Module:
        expected = LEAD_OF_TRACK[self.track]
        if self.lead != expected:
            raise ValueError(f"a {self.track} module is led by the {expected}, not the {self.lead}")
        return self

    @field_validator("objectives")
    @classmethod
    def _objective_ids_unique(cls, value: tuple[Objective, ...]) -> tuple[Objective, ...]:
        ids = [o.id for o in value if o.id is not None]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"objective id {repeated[0]!r} is used twice in this module")
        return value

    def objective(self, objective_id: str) -> Objective:
        for objective in self.objectives:
            if objective.id == objective_id:
                return objective
        known = ", ".join(o.id for o in self.objectives if o.id) or "none"
        raise ManifestError(
            f"module {self.id!r} has no objective {objective_id!r} (known: {known})"
        )

    @property
    def learner(self) -> Role:
        return other_role(self.lead)


class Session(_Frozen):
    id: str
    title: str
    modules: tuple[Module, ...] = Field(min_length=2, max_length=2)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)

    @model_validator(mode="after")
    def _one_of_each_track(self) -> Session:
        tracks = sorted(m.track for m in self.modules)
        if tracks != ["management", "tech"]:
            raise ValueError("a session pairs one tech module with one management module")
        return self


class FollowUpModule(_Frozen):
    """The follow-up released ``after_days`` after the last session (Kirkpatrick level
    3): a module with no lead and no checkpoint, which both partners fetch and submit.
    ``track``, ``lead``, ``learner`` and ``competencies`` are there so that a context file
    can be written for it like a module's: every partner's copy is their own."""

    id: str
    title: str = Field(min_length=1)
    lesson: str
    after_days: int = Field(default=91, ge=1, le=730)

    track: ClassVar[str] = "followup"
    lead: ClassVar[str] = ""
    learner: ClassVar[str] = ""
    competencies: ClassVar[tuple[str, ...]] = ()

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)


class Program(_Frozen):
    """A validated programme: its sessions, modules, competencies and optional follow-up."""

    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    title: str
    competencies: tuple[Competency, ...]
    sessions: tuple[Session, ...] = Field(min_length=1)
    followup: FollowUpModule | None = None
    root: Path = Field(exclude=True)
    manifest: Path = Field(exclude=True)

    @model_validator(mode="after")
    def _references(self) -> Program:
        known = {c.id for c in self.competencies}
        seen: set[str] = set()
        for session in self.sessions:
            for module in session.modules:
                if module.id in seen:
                    raise ValueError(f"module id {module.id!r} is used twice")
                seen.add(module.id)
                for comp in module.competencies:
                    if comp not in known:
                        raise ValueError(f"module {module.id!r} names unknown competency {comp!r}")
        if self.followup is not None and self.followup.id in seen:
            raise ValueError(f"follow-up id {self.followup.id!r} is also a module's id")
        session_ids = [s.id for s in self.sessions]
        if len(set(session_ids)) != len(session_ids):
            raise ValueError("session ids must be unique")
        return self

    @property
    def modules(self) -> tuple[Module, ...]:
        return tuple(m for s in self.sessions for m in s.modules)

    def released_modules(
        self, session_ids: Collection[str], *, followup: bool = False
    ) -> list[Module | FollowUpModule]:
        """The modules of these sessions in programme order, then the follow-up if
        ``followup`` (and the programme has one)."""
        found: list[Module | FollowUpModule] = [
            m for s in self.sessions if s.id in session_ids for m in s.modules
        ]
        if followup and self.followup is not None:
            found.append(self.followup)
        return found

    def session(self, session_id: str) -> Session:
        for session in self.sessions:
            if session.id == session_id:
                return session
        if self.followup is not None and session_id == self.followup.id:
            raise ManifestError(
                f"{session_id!r} is the follow-up, not a session: it has no checkpoint and is "
                "not graded; 'tandem followup' releases it, 'tandem collect' collects it",
                path=self.manifest,
            )
        known = ", ".join(s.id for s in self.sessions)
        raise ManifestError(f"no session {session_id!r} (known: {known})", path=self.manifest)

    def module(self, module_id: str) -> Module:
        for module in self.modules:
            if module.id == module_id:
                return module
        raise ManifestError(f"no module {module_id!r}", path=self.manifest)

    def competency(self, competency_id: str) -> Competency:
        for comp in self.competencies:
            if comp.id == competency_id:
                return comp
        raise ManifestError(f"no competency {competency_id!r}", path=self.manifest)

    def path(self, relative: str) -> Path:
        """Resolve a manifest path, refusing anything that escapes the programme root."""
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ManifestError(f"path {relative!r} leaves the programme root", path=self.manifest)
        return resolved

    def lesson_path(self, module: Module) -> Path:
        return self.path(module.lesson)

    def exercise_dir(self, module: Module) -> Path:
        return self.path(module.exercise)

    def exercise_notebooks(self, module: Module) -> list[Path]:
        return sorted(self.exercise_dir(module).glob("*.ipynb"))


def _check_slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"{value!r} is not an id (lowercase letters, digits and '-')")
    return value


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_program(manifest: Path | str | None = None) -> Program:
    """Read and validate a manifest; raise :class:`ManifestError` naming the field."""
    path = Path(manifest) if manifest is not None else default_manifest()
    if not path.is_file():
        raise manifest_not_found(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ManifestError(f"not valid YAML: {exc}", path=path) from None
    if not isinstance(raw, dict):
        raise ManifestError(
            "expected a mapping with 'title', 'competencies', 'sessions'", path=path
        )
    raw = dict(raw)
    comps = raw.get("competencies")
    if isinstance(comps, dict):
        raw["competencies"] = [
            {"id": key, **(value if isinstance(value, dict) else {"title": value})}
            for key, value in comps.items()
        ]
    root = path.resolve().parent.parent
    try:
        return Program.model_validate({**raw, "root": root, "manifest": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ManifestError(
            first["msg"].removeprefix("Value error, "),
            path=path,
            where=_location(tuple(first["loc"])) or None,
        ) from None


# --- notebook checks -------------------------------------------------------------------


def read_valid_notebook(path: Path) -> Any:
    import nbformat  # imported here: nbformat's import costs ~1 s

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for unreadable JSON
        raise NotebookError(f"not a readable notebook: {exc}", path=path) from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"invalid notebook: {exc.message}", path=path) from None
    return nb


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


def lesson_sections(nb: Any) -> list[str]:
    """The headings of a notebook's markdown cells, in order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = _HEADING.match(line)
            if match:
                found.append(match.group(1).strip())
    return found


def check_lesson(path: Path) -> list[TandemError]:
    try:
        nb = read_valid_notebook(path)
    except NotebookError as exc:
        return [exc]
    headings = {h.lower() for h in lesson_sections(nb)}
    return [
        NotebookError(f"lesson has no '## {section}' section", path=path, where="sections")
        for section in REQUIRED_LESSON_SECTIONS
        if section.lower() not in headings
    ]


def check_exercise(path: Path) -> list[TandemError]:
    """Check a notebook is a usable nbgrader source notebook."""
    try:
        nb = read_valid_notebook(path)
    except NotebookError as exc:
        return [exc]
    problems: list[TandemError] = []
    grade_ids: dict[str, int] = {}
    autograded_tests = 0
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        where = f"cell {index}"
        if meta.get("schema_version") != 3:
            problems.append(
                NotebookError(
                    f"nbgrader schema_version is {meta.get('schema_version')!r}, expected 3",
                    path=path,
                    where=where,
                )
            )
        grade_id = meta.get("grade_id")
        if not grade_id:
            problems.append(NotebookError("nbgrader cell has no grade_id", path=path, where=where))
        elif grade_id in grade_ids:
            problems.append(
                NotebookError(
                    f"duplicate grade_id {grade_id!r} (first used in cell {grade_ids[grade_id]})",
                    path=path,
                    where=where,
                )
            )
        else:
            grade_ids[grade_id] = index
        if meta.get("grade"):
            points = meta.get("points")
            if not isinstance(points, int | float) or points <= 0:
                problems.append(
                    NotebookError(f"graded cell {grade_id!r} has no points", path=path, where=where)
                )
            elif cell.cell_type == "code" and not meta.get("solution"):
                autograded_tests += 1
    if autograded_tests == 0:
        problems.append(
            NotebookError(
                "exercise has no autograded test cell with points", path=path, where="cells"
            )
        )
    return problems


def _module_problems(program: Program, module: Module) -> Iterator[TandemError]:
    lesson = program.lesson_path(module)
    if not lesson.is_file():
        yield NotebookError(
            "lesson notebook not found", path=lesson, where=f"module {module.id}: lesson"
        )
    else:
        yield from check_lesson(lesson)
        for data in module.lesson_data:
            data_path = lesson.parent / data
            if not data_path.is_file():
                yield NotebookError(
                    "lesson data file not found",
                    path=data_path,
                    where=f"module {module.id}: lesson_data",
                )
    exercise = program.exercise_dir(module)
    notebooks = program.exercise_notebooks(module) if exercise.is_dir() else []
    if not notebooks:
        yield NotebookError(
            "exercise folder has no notebook", path=exercise, where=f"module {module.id}: exercise"
        )
    for notebook in notebooks:
        yield from check_exercise(notebook)
    answers = exercise / ANSWERS_FILE
    if answers.exists():
        yield NotebookError(
            "an answers file in the exercise would be released to every learner and "
            "overwrite their answers at grading: delete it",
            path=answers,
            where=f"module {module.id}: exercise",
        )


_PLACEHOLDER = re.compile(r"\bTODO\b")
#: Where the question controls keep a learner's answers (:mod:`tandem.notebook.questions`).
ANSWERS_FILE = "tandem_answers.json"


def _placeholders(program: Program) -> Iterator[TandemError]:
    """Text still holding a ``TODO`` (what ``tandem new-module`` writes for you to fill in)."""
    texts: list[tuple[str, str]] = [("title", program.title)]
    texts += [(f"competencies.{c.id}.title", c.title) for c in program.competencies]
    for s, session in enumerate(program.sessions):
        texts.append((f"sessions[{s}].title", session.title))
        for m, module in enumerate(session.modules):
            where = f"sessions[{s}].modules[{m}]"
            texts.append((f"{where}.title", module.title))
            texts += [(f"{where}.objectives[{o}]", t.text) for o, t in enumerate(module.objectives)]
    if program.followup is not None:
        texts.append(("followup.title", program.followup.title))
    for where, text in texts:
        if _PLACEHOLDER.search(text):
            yield ManifestError(
                f"still a placeholder: {text!r}: write the real text",
                path=program.manifest,
                where=where,
            )


def _followup_problems(program: Program) -> Iterator[TandemError]:
    """The follow-up's notebook: there, and shaped like a lesson."""
    if program.followup is None:
        return
    lesson = program.path(program.followup.lesson)
    if not lesson.is_file():
        yield NotebookError("follow-up notebook not found", path=lesson, where="followup.lesson")
    else:
        yield from check_lesson(lesson)


def validate_program(manifest: Path | str | None = None, *, placeholders: bool = False) -> Program:
    """Load the manifest and check every file it names; raise listing every problem.

    A title or objective still reading ``TODO`` is a problem, unless ``placeholders``
    (a module just scaffolded, before its author fills it in)."""
    program = load_program(manifest)
    problems = [] if placeholders else list(_placeholders(program))
    problems += [p for m in program.modules for p in _module_problems(program, m)]
    problems += list(_followup_problems(program))
    if problems:
        raise ValidationFailed(problems)
    return program
