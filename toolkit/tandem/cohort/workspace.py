"""A cohort workspace: `cohort.yml` plus the nbgrader course directory around it.

Layout of a workspace (it *is* the nbgrader course root)::

    cohort.yml            the cohort: participants, pairs, sessions released, settings
    nbgrader_config.json  nbgrader's config as data (course_id, Exchange.root)
    gradebook.db          nbgrader's gradebook
    source/ release/ submitted/ autograded/ feedback/   nbgrader's folders
    quarantine/           submissions refused by validation, with the reason
    runs/ reports/        batch manifests and generated reports
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tandem.cohort.guards import check_gradebook, holder, holder_record, lock_timeout
from tandem.curriculum.checkpoint_rules import CODE_STUB
from tandem.curriculum.manifest import (
    FollowUpModule,
    Module,
    Program,
    cohort_manifest,
    load_program,
)
from tandem.engine.jobs import QUIET_KERNEL
from tandem.errors import CohortError, TandemError
from tandem.fsutil import atomic_write_json, atomic_write_text, check_id
from tandem.ids import derive_id
from tandem.notebook.checkin import CONTEXT_FILE
from tandem.people.roster import Pair, Participant, load_pairs, load_roster, pairs_in_roster_order

if TYPE_CHECKING:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    from tandem.people.matching import SameDepartment

COHORT_FILE = "cohort.yml"
NBGRADER_CONFIG = "nbgrader_config.json"
LOCK_FILE = ".tandem.lock"
LOCK_HOLDER = ".tandem.lock.holder"
"""Beside the lock, while it is held: who holds it (pid, host, command, since when)."""
GRADEBOOK = "gradebook.db"


class Schedule(BaseModel):
    """When each session happens and when its submissions are due.

    A session's date is its entry in ``sessions``, else ``start`` plus ``cadence_days``
    for each session before it. Submissions are due ``due_days`` after the session's
    date, at the end of that day (UTC). Late work is marked late; ``late_penalty: zero``
    applies nbgrader's penalty (a late submission scores 0) instead of none.
    """

    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    cadence_days: int = Field(default=21, ge=1, le=365)
    due_days: int = Field(default=7, ge=0, le=365)
    sessions: dict[str, date] = Field(default_factory=dict)
    late_penalty: Literal["none", "zero"] = "none"

    def session_date(self, program: Program, session_id: str) -> date | None:
        if session_id in self.sessions:
            return self.sessions[session_id]
        if self.start is None:
            return None
        index = [s.id for s in program.sessions].index(program.session(session_id).id)
        return self.start + timedelta(days=index * self.cadence_days)

    def due(self, program: Program, session_id: str) -> datetime | None:
        day = self.session_date(program, session_id)
        if day is None:
            return None
        end = datetime.combine(day + timedelta(days=self.due_days), time(23, 59, 59))
        return end.replace(tzinfo=timezone.utc)


class Matching(BaseModel):
    """What matching needs, kept so that every later roster change (``cohort add``,
    ``cohort repair``) applies the same hard rules and the same score as ``tandem match``.

    ``rules`` holds each participant's non-blank ``rate_<competency>``, ``manager_id`` and
    ``avoid`` columns as the roster gave them; a participant without an entry has rules
    this cohort does not know (a cohort made before Tandem kept them). ``rule_break`` is the
    reason the facilitator gave for creating the cohort with pairs that break a rule.
    """

    model_config = ConfigDict(extra="forbid")

    same_department: Literal["allowed", "avoid", "forbid"] = "allowed"
    """As :data:`tandem.people.matching.SameDepartment`."""
    rules: dict[str, dict[str, str]] = Field(default_factory=dict)
    rule_break: str = ""

    def kept_for(self, participant_ids: set[str]) -> Matching:
        """These rules without anyone no longer in the cohort (an erased participant),
        neither as an entry nor named under another's ``manager_id`` or ``avoid``."""

        def named(value: str) -> str:
            ids = value.replace(",", " ").replace(";", " ").split()
            return " ".join(i for i in ids if i in participant_ids)

        rules = {
            pid: {
                column: kept
                for column, value in columns.items()
                if (kept := named(value) if column in ("manager_id", "avoid") else value)
            }
            for pid, columns in self.rules.items()
            if pid in participant_ids
        }
        return self.model_copy(update={"rules": rules})


class Cohort(BaseModel):
    """The contents of `cohort.yml`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    course_id: str
    curriculum: str
    created: str
    min_group_size: int = Field(default=5, ge=1)
    participants: list[Participant]
    pairs: list[Pair]
    unpaired: list[str] = Field(default_factory=list)
    withdrawn: list[str] = Field(default_factory=list)
    former_pairs: list[Pair] = Field(default_factory=list)
    released: list[str] = Field(default_factory=list)
    followup_released: date | None = None  # the day `tandem followup` released it
    schedule: Schedule = Field(default_factory=Schedule)
    matching: Matching | None = None
    """None in a cohort created before Tandem kept the matching rules."""

    def participant(self, participant_id: str) -> Participant:
        for person in self.participants:
            if person.id == participant_id:
                return person
        raise CohortError(f"no participant {participant_id!r} in cohort {self.name!r}")

    def pair_of(self, participant_id: str) -> Pair | None:
        return next((p for p in self.pairs if participant_id in p.members), None)

    def learners(self, module: Module) -> list[tuple[Pair, str]]:
        """Each pair with the id of its member who learns ``module``."""
        return [(pair, pair.member(module.learner)) for pair in self.pairs]


class Workspace:
    """A cohort workspace on disk."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    # -- files -------------------------------------------------------------------------
    @property
    def cohort_file(self) -> Path:
        return self.root / COHORT_FILE

    def folder(self, name: str) -> Path:
        return self.root / name

    def submission_dir(self, participant_id: str, module_id: str) -> Path:
        return self.root / "submitted" / check_id(participant_id) / check_id(module_id)

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Serialize writers of this workspace (two facilitators, two terminals).

        Waits ``timeout`` seconds (default: ``$TANDEM_LOCK_TIMEOUT``, else 120), then
        raises a :class:`CohortError` naming the holder, which the holder's own
        :data:`LOCK_HOLDER` file tells.
        """
        wait = lock_timeout() if timeout is None else timeout
        # one lock object per path and thread (filelock's singleton): a nested locked()
        # in the same thread re-enters instead of waiting for itself
        lock = FileLock(str(self.root / LOCK_FILE), is_singleton=True)
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise CohortError(
                f"{holder(self.root / LOCK_HOLDER)} holds this workspace's lock "
                f"(waited {wait:g} s): wait for it to finish or stop it, then run this "
                "again; $TANDEM_LOCK_TIMEOUT sets the wait in seconds",
                path=self.root,
            ) from None
        outermost = lock.lock_counter == 1
        try:
            if outermost:
                atomic_write_json(self.root / LOCK_HOLDER, holder_record())
            yield
        finally:
            if outermost:
                (self.root / LOCK_HOLDER).unlink(missing_ok=True)
            lock.release()

    # -- cohort.yml ----------------------------------------------------------------------
    def load(self) -> Cohort:
        if not self.cohort_file.is_file():
            raise CohortError(
                "not a cohort workspace (no cohort.yml); create one with 'tandem cohort init'",
                path=self.root,
            )
        try:
            # libyaml's parser when installed: the same values, read 8x faster (a cohort
            # file of 300 pairs took 0.8 s with the pure-Python one, on every command)
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            data = yaml.load(self.cohort_file.read_text(encoding="utf-8"), Loader=loader)
            return Cohort.model_validate(data)
        except yaml.YAMLError as exc:
            raise CohortError(f"not valid YAML: {exc}", path=self.cohort_file) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CohortError(first["msg"], path=self.cohort_file, where=where) from None

    def save(self, cohort: Cohort) -> None:
        if cohort.matching is not None:
            ids = {p.id for p in cohort.participants}
            cohort.matching = cohort.matching.kept_for(ids)
        data = cohort.model_dump(mode="json")
        if data["matching"] is None:  # a cohort from before matching rules were kept
            del data["matching"]
        atomic_write_text(
            self.cohort_file, yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        )

    def program(self, cohort: Cohort | None = None) -> Program:
        return load_program(cohort_manifest((cohort or self.load()).curriculum, self.cohort_file))

    # -- nbgrader ------------------------------------------------------------------------
    def nbgrader_config(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / NBGRADER_CONFIG).read_text("utf-8"))
        return data

    def nbgrader_api(self) -> NbGraderAPI:
        """nbgrader's own API on this course directory, configured from the workspace."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        self.gradebook_url()  # refuses a damaged gradebook before nbgrader opens it
        _fast_gradebook_creation()
        # the stub too for a cohort made before question answer cells
        config = Config({"ClearSolutions": {"code_stub": {"python": CODE_STUB}}})
        config.merge(Config(self.nbgrader_config()))
        config.CourseDirectory.root = str(self.root)
        config.NbGraderAPI.log_level = logging.ERROR
        config.ExecutePreprocessor.timeout = 120
        config.ExecutePreprocessor.extra_arguments = list(QUIET_KERNEL)
        if self.cohort_file.is_file():
            config.LateSubmissionPlugin.penalty_method = self.load().schedule.late_penalty
        coursedir = CourseDirectory(config=config)
        return NbGraderAPI(coursedir=coursedir, config=config)

    def gradebook_url(self) -> str:
        """The gradebook's SQLAlchemy URL, once :func:`check_gradebook` accepts the file."""
        path = self.root / GRADEBOOK
        check_gradebook(path, existed=self.cohort_file.is_file())
        return f"sqlite:///{path}"

    def gradebook(self, cohort: Cohort) -> Gradebook:
        """nbgrader's gradebook for this cohort (use it as a context manager)."""
        from nbgrader.api import Gradebook

        _fast_gradebook_creation()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return Gradebook(self.gradebook_url(), course_id=cohort.course_id)


@functools.cache
def _alembic_head() -> str:
    from alembic.script import ScriptDirectory
    from nbgrader import api

    heads: list[str] = ScriptDirectory(str(Path(api.__file__).parent / "alembic")).get_heads()
    return heads[0]


def _fast_gradebook_creation() -> None:
    """Give nbgrader the gradebook schema's version without a subprocess.

    nbgrader stamps a new gradebook with the head of its alembic migrations by running
    the `alembic` command (3-4 s here, and it must be on PATH). Reading the same head
    with alembic's Python API gives the identical value in milliseconds.
    """
    from nbgrader import api

    api.get_alembic_version = _alembic_head


def init_cohort(
    root: Path | str,
    roster: Path | str,
    *,
    pairs: Path | str | None = None,
    match: bool = False,
    same_department: SameDepartment = "allowed",
    name: str | None = None,
    curriculum: Path | str | None = None,
    schedule: Schedule | None = None,
    allow_rule_break: str | None = None,
) -> Cohort:
    """Create a cohort workspace from a roster.

    Pairs come from a pairs file, else from :func:`tandem.people.matching.match` when
    ``match`` is true, else (for tests and scripts; the CLI requires one of the two) from
    roster order. ``same_department`` is the department rule. Pairs from a file or from
    roster order are checked against the hard rules: any pair breaking one is refused,
    naming it, unless ``allow_rule_break`` gives the reason to keep them (recorded in
    cohort.yml). The roster's rating and rule columns are kept in cohort.yml
    (:class:`Matching`) for later roster changes.
    """
    if pairs is not None and match:
        raise CohortError("give either a pairs file or match, not both")
    if allow_rule_break is not None and not allow_rule_break.strip():
        raise CohortError("allowing a rule break needs a reason")
    ws = Workspace(root)
    if ws.cohort_file.exists():
        raise CohortError("a cohort already exists here", path=ws.cohort_file)
    people = load_roster(roster)
    program = load_program(curriculum)
    by_id = {p.id: p for p in people}
    if match:
        from tandem.people.matching import match as match_people

        result = match_people(people, program, same_department=same_department, source=roster)
        pair_list, unpaired = result.pairs, [u.id for u in result.unmatched]
        seniors = [p.senior for p in pair_list]
        shared = sorted({s for s in seniors if seniors.count(s) > 1})
        if shared:
            raise CohortError(
                f"{', '.join(shared)} would mentor more than one junior (capacity > 1), "
                "but a cohort holds one pair per person: set their capacity to 1",
                path=Path(roster),
            )
    elif pairs is not None:
        pair_list = load_pairs(pairs, by_id)
        paired = {m for p in pair_list for m in p.members}
        unpaired = [p.id for p in people if p.id not in paired]
    else:
        pair_list, unpaired = pairs_in_roster_order(people)
    if not pair_list:
        raise CohortError(
            "no pairs could be formed: the roster needs at least one junior and one senior",
            path=Path(roster),
        )
    matching, broken = _kept_rules(people, pair_list, program, same_department, roster)
    if broken and not allow_rule_break:
        raise CohortError(
            f"{broken}: change the pairs, or give --allow-rule-break REASON to keep them",
            path=Path(pairs if pairs is not None else roster),
        )
    if broken and allow_rule_break:
        matching.rule_break = allow_rule_break.strip()
    cohort_name = name or ws.root.name
    cohort = Cohort(
        name=cohort_name,
        course_id=derive_id(cohort_name, what="cohort name", where="course id"),
        curriculum=str(program.manifest.resolve()),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        participants=people,
        pairs=pair_list,
        unpaired=unpaired,
        schedule=schedule or Schedule(),
        matching=matching,
    )
    ws.root.mkdir(parents=True, exist_ok=True)
    with ws.locked():
        for folder in ("source", "release", "submitted", "autograded", "feedback", "exchange"):
            ws.folder(folder).mkdir(exist_ok=True)
        for folder in ("runs", "reports"):
            ws.folder(folder).mkdir(exist_ok=True)
        atomic_write_json(
            ws.root / NBGRADER_CONFIG,
            {
                "CourseDirectory": {"course_id": cohort.course_id},
                "Exchange": {"root": str(ws.folder("exchange"))},
                # formgrader's Manage Assignments page otherwise shows the whole server
                # configuration, the login token included
                "FormgradeExtension": {"debug": False},
                # a question's `answer = "..."` is released as `answer = None`
                "ClearSolutions": {"code_stub": {"python": CODE_STUB}},
            },
        )
        _sync_students(ws, cohort)
        ws.save(cohort)
    return cohort


def _kept_rules(
    people: list[Participant],
    pairs: list[Pair],
    program: Program,
    same_department: SameDepartment,
    roster: Path | str,
) -> tuple[Matching, str]:
    """The roster's matching columns to keep, and which pairs break a hard rule
    (``2 pairs break the matching rules: pair-01: ...``; empty when none does)."""
    from tandem.people.matching import kept_columns, pair_conflicts

    broken = pair_conflicts(pairs, people, program, same_department=same_department, source=roster)
    count = f"{len(broken)} pair{'s break' if len(broken) > 1 else ' breaks'}"
    kept = Matching(
        same_department=same_department, rules={p.id: kept_columns(p.extra) for p in people}
    )
    return kept, f"{count} the matching rules: {'; '.join(broken)}" if broken else ""


def _sync_students(ws: Workspace, cohort: Cohort) -> None:
    with ws.gradebook(cohort) as gradebook:
        for person in cohort.participants:
            gradebook.update_or_create_student(
                person.id,
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
            )


def context_for(
    cohort: Cohort, program: Program, module: Module | FollowUpModule
) -> dict[str, Any]:
    """The context file release puts in a module's folder (or the follow-up's: no lead)."""
    roles: dict[str, dict[str, str]] = {}
    for pair in cohort.pairs:
        for role in ("junior", "senior"):
            member = pair.member(role)
            partner = pair.member("senior" if role == "junior" else "junior")
            roles[member] = {
                "role": role,
                "pair": pair.id,
                "partner": partner,
                "leads": "yes" if role == module.lead else "no",
            }
    return {
        "cohort": cohort.name,
        "course_id": cohort.course_id,
        "module": module.id,
        "title": module.title,
        "track": module.track,
        "lead": module.lead,
        "learner": module.learner,
        "competencies": list(module.competencies),
        "competency_titles": {c: program.competency(c).title for c in module.competencies},
        "participants": roles,
    }


def due_date(ws: Workspace, cohort: Cohort, module_id: str) -> datetime | None:
    """A module's due date as the gradebook holds it (naive, UTC), or None."""
    from nbgrader.api import MissingEntry

    with ws.gradebook(cohort) as gradebook:
        try:
            due: datetime | None = gradebook.find_assignment(module_id).duedate
        except MissingEntry:
            return None
    return due


def refresh_contexts(ws: Workspace, cohort: Cohort) -> list[Path]:
    """Rewrite the context file of every released module (in release/ and the exchange's
    outbound copy) after the cohort's pairs changed; return the files written."""
    program = ws.program(cohort)
    outbound = Path(ws.nbgrader_config()["Exchange"]["root"]) / cohort.course_id / "outbound"
    written = []
    followup = cohort.followup_released is not None
    for module in program.released_modules(cohort.released, followup=followup):
        for folder in (ws.folder("release") / module.id, outbound / module.id):
            if folder.is_dir():
                atomic_write_json(folder / CONTEXT_FILE, context_for(cohort, program, module))
                written.append(folder / CONTEXT_FILE)
    return written


def _last_line(result: dict[str, Any]) -> str:
    text = (result.get("error") or result.get("log") or "no output").strip()
    return text.splitlines()[-1] if text else "no output"


__all__ = ["Cohort", "TandemError", "Workspace", "context_for", "due_date", "init_cohort"]
