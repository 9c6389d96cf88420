"""Reading the gradebook once per command: every score a command needs, in a few queries.

:func:`tandem.grading.checkpoints.read_score` reads one learner's checkpoint through
nbgrader's ORM: a gradebook opened and about a dozen SQL statements per checkpoint, so a
facilitator's command over a cohort took time in proportion to its checkpoints. Here one
gradebook session answers a whole command with set-based queries (SQLAlchemy against
nbgrader's own tables and column expressions): the due dates, the submissions (late,
penalty), the graded cells and, for a participant's export, the comments. The number of
statements does not grow with the number of pairs.

The rules are those of ``read_score``, field by field: code cells are autograded points,
any other graded cell is a written answer (pending while it needs a grade by hand), the
score of a cell is nbgrader's own ``Grade.score`` (manual over auto, plus extra credit),
and a grade counts only once its grading run finished: a submission with a marker of
:mod:`tandem.grading.unfinished` before or after the gradebook is read has no score.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tandem.cohort.workspace import Cohort, Workspace
from tandem.grading.unfinished import markers

if TYPE_CHECKING:
    from sqlalchemy.sql import Select

Key = tuple[str, str]  # (module id, participant id)


@dataclass(frozen=True)
class Score:
    """A learner's checkpoint score as the gradebook holds it."""

    auto_score: float
    auto_max: float
    manual_score: float | None
    manual_max: float
    manual_pending: bool
    late: bool = False
    #: nbgrader's late penalty (points taken off the total), when the cohort chose one.
    #: Mastery in reports uses the scores before it: the penalty is about punctuality.
    penalty: float = 0.0

    @property
    def auto_percent(self) -> float:
        return 100.0 * self.auto_score / self.auto_max if self.auto_max else 0.0


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of a submission, as the gradebook holds it."""

    notebook: str
    cell: str
    cell_type: str | None
    auto_score: float | None
    manual_score: float | None
    extra_credit: float | None
    max_score: float
    needs_manual_grade: bool
    score: float


@dataclass(frozen=True)
class CellComment:
    """A comment on one cell of a submission (by the autograder or by hand)."""

    notebook: str
    cell: str
    auto_comment: str | None
    manual_comment: str | None


@dataclass(frozen=True)
class ScoreBook:
    """What one reading of the gradebook found: scores of finished gradings, each module's
    due date and, when asked for, every graded cell and comment of each submission."""

    scores: dict[Key, Score] = field(default_factory=dict)
    due: dict[str, datetime | None] = field(default_factory=dict)
    #: graded cells by submission, whether or not its grading finished (the export of a
    #: person's data shows what the gradebook holds); only with ``cells=True``
    cells: dict[Key, list[CellGrade]] = field(default_factory=dict)
    comments: dict[Key, list[CellComment]] = field(default_factory=dict)
    #: submissions whose grading has not finished: they have no score
    unfinished: frozenset[Key] = frozenset()
    #: whether ``cells`` and ``comments`` were read (``read_book(..., cells=True)``)
    with_cells: bool = False

    def score(self, module_id: str, participant_id: str) -> Score | None:
        """As :func:`tandem.grading.checkpoints.read_score`: None if not graded."""
        return self.scores.get((module_id, participant_id))

    def due_date(self, module_id: str) -> datetime | None:
        """As :func:`tandem.cohort.workspace.due_date`: naive UTC, or None."""
        return self.due.get(module_id)

    def grades(self, module_id: str, participant_id: str) -> dict[str, tuple[float | None, float]]:
        """As :func:`tandem.grading.checkpoints.read_grades` (needs ``cells=True``)."""
        key = (module_id, participant_id)
        if key in self.unfinished:
            return {}
        return {c.cell: (c.auto_score, c.max_score) for c in self.cells.get(key, [])}


def read_book(
    ws: Workspace,
    cohort: Cohort,
    modules: Iterable[str] | None = None,
    participants: Iterable[str] | None = None,
    *,
    cells: bool = False,
) -> ScoreBook:
    """Read the scores of ``modules`` (default: all) of ``participants`` (default: all)
    and every module's due date, in one gradebook session; with ``cells``, also each
    submission's graded cells and comments."""
    only_modules = None if modules is None else sorted(set(modules))
    only_people = None if participants is None else sorted(set(participants))
    before = _markers(ws)
    with ws.gradebook(cohort) as gradebook:
        session = gradebook.db
        due = _due_dates(session)
        submissions = _submissions(session, only_modules, only_people)
        grades = _grades(session, only_modules, only_people)
        comments = _comments(session, only_modules, only_people) if cells else {}
    unfinished = frozenset((before | _markers(ws)) & submissions.keys())
    scores = {
        key: _score(grades.get(key, []), late, penalty)
        for key, (late, penalty) in submissions.items()
        if key not in unfinished
    }
    return ScoreBook(
        scores,
        due,
        {key: grades.get(key, []) for key in submissions} if cells else {},
        {key: comments.get(key, []) for key in submissions} if cells else {},
        unfinished,
        cells,
    )


def read_scores(
    ws: Workspace,
    cohort: Cohort,
    modules: Iterable[str] | None = None,
    participants: Iterable[str] | None = None,
) -> dict[Key, Score]:
    """Every finished score of ``modules`` by (module id, participant id)."""
    return read_book(ws, cohort, modules, participants).scores


def due_dates(ws: Workspace, cohort: Cohort) -> dict[str, datetime | None]:
    """Every module's due date as the gradebook holds it (naive, UTC, or None)."""
    with ws.gradebook(cohort) as gradebook:
        return _due_dates(gradebook.db)


def _markers(ws: Workspace) -> set[Key]:
    """The (module, participant) of every unfinished grading, from one listing."""
    return markers(ws.folder("autograded"))


def _score(grades: list[CellGrade], late: bool, penalty: float) -> Score:
    """A submission's score from its graded cells, in the order nbgrader stores them (the
    sums are those of ``read_score``, to the last bit)."""
    auto = auto_max = manual_max = 0.0
    manual: float | None = None
    pending = False
    for grade in grades:
        if grade.cell_type == "code":
            auto += grade.auto_score or 0.0
            auto_max += grade.max_score
        else:
            manual_max += grade.max_score
            if grade.needs_manual_grade:
                pending = True
            elif grade.manual_score is not None or grade.auto_score is not None:
                manual = (manual or 0.0) + grade.score
    return Score(auto, auto_max, manual, manual_max, pending, late=late, penalty=penalty)


def _due_dates(session: Any) -> dict[str, datetime | None]:
    from nbgrader.api import Assignment
    from sqlalchemy import select

    return {name: due for name, due in session.execute(select(Assignment.name, Assignment.duedate))}


def _filtered(
    query: Select[Any], modules: Collection[str] | None, people: Collection[str] | None
) -> Select[Any]:
    from nbgrader.api import Assignment, SubmittedAssignment

    if modules is not None:
        query = query.where(Assignment.name.in_(modules))
    if people is not None:
        query = query.where(SubmittedAssignment.student_id.in_(people))
    return query


def _submissions(
    session: Any, modules: Collection[str] | None, people: Collection[str] | None
) -> dict[Key, tuple[bool, float]]:
    """(late, penalty) of every submission, as ``SubmittedAssignment`` computes them. The
    penalty is summed over all notebooks in one pass: nbgrader's own expression for it is a
    subquery per submission, over a table with no index on its submission (quadratic)."""
    from nbgrader.api import Assignment, Student, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import func, select

    penalties = (
        select(
            SubmittedNotebook.assignment_id.label("submission"),
            func.sum(SubmittedNotebook.late_submission_penalty).label("penalty"),
        )
        .group_by(SubmittedNotebook.assignment_id)
        .subquery()
    )
    query = (
        select(
            Assignment.name,
            SubmittedAssignment.student_id,
            SubmittedAssignment.timestamp,
            SubmittedAssignment.extension,
            Assignment.duedate,
            func.coalesce(penalties.c.penalty, 0.0),
        )
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .join(Student, Student.id == SubmittedAssignment.student_id)
        .outerjoin(penalties, penalties.c.submission == SubmittedAssignment.id)
    )
    found = {}
    for module, student, stamp, extension, due, penalty in session.execute(
        _filtered(query, modules, people)
    ):
        found[(module, student)] = (_late(stamp, due, extension), float(penalty or 0.0))
    return found


def _late(stamp: datetime | None, due: datetime | None, extension: timedelta | None) -> bool:
    """``SubmittedAssignment.total_seconds_late > 0``: after the due date and extension."""
    if stamp is None or due is None:
        return False
    if extension is not None:
        due = due + extension
    return (stamp - due).total_seconds() > 0


def _storage_order(session: Any, *tables: str) -> list[Any]:
    """The order in which nbgrader's relationships load rows (SQLite: the order rows were
    stored in), so that scores add up in the same order as ``read_score``'s."""
    from sqlalchemy import literal_column

    if session.get_bind().dialect.name != "sqlite":
        return []
    return [literal_column(f"{table}.rowid") for table in tables]


def _per_cell(session: Any, table: Any, *columns: Any) -> Any:
    """A query of ``table`` (Grade or Comment) rows: module, student, notebook and cell
    names first, then ``columns``, in the order nbgrader stored them."""
    from nbgrader.api import Assignment, BaseCell, Notebook, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import select

    return (
        select(
            Assignment.name,
            SubmittedAssignment.student_id,
            Notebook.name,
            BaseCell.name,
            *columns,
        )
        .select_from(table)
        .join(SubmittedNotebook, SubmittedNotebook.id == table.notebook_id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
        .join(BaseCell, BaseCell.id == table.cell_id)
        .order_by(*_storage_order(session, "submitted_notebook", table.__tablename__))
    )


def _grades(
    session: Any, modules: Collection[str] | None, people: Collection[str] | None
) -> dict[Key, list[CellGrade]]:
    from nbgrader.api import Grade

    query = _per_cell(
        session,
        Grade,
        Grade.cell_type,
        Grade.auto_score,
        Grade.manual_score,
        Grade.extra_credit,
        Grade.max_score,
        Grade.needs_manual_grade,
        Grade.score,
    )
    found: dict[Key, list[CellGrade]] = {}
    for module, student, *cell in session.execute(_filtered(query, modules, people)):
        notebook, name, kind, auto, manual, extra, maximum, needs, score = cell
        found.setdefault((module, student), []).append(
            CellGrade(notebook, name, kind, auto, manual, extra, maximum, bool(needs), float(score))
        )
    return found


def _comments(
    session: Any, modules: Collection[str] | None, people: Collection[str] | None
) -> dict[Key, list[CellComment]]:
    from nbgrader.api import Comment

    query = _per_cell(session, Comment, Comment.auto_comment, Comment.manual_comment)
    found: dict[Key, list[CellComment]] = {}
    for module, student, notebook, name, auto, manual in session.execute(
        _filtered(query, modules, people)
    ):
        found.setdefault((module, student), []).append(CellComment(notebook, name, auto, manual))
    return found
