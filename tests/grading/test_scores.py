"""The gradebook read once per command (tandem.grading.scores): the same values as the
per-checkpoint reader, and a number of SQL statements that does not grow with the cohort."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tandem.cohort.exchange import write_checkin
from tandem.cohort.release import release_session, set_due_date
from tandem.cohort.workspace import Workspace, due_date, init_cohort
from tandem.demo import DemoResult, demo_checkin, synthetic_roster
from tandem.grading.checkpoints import quiet_nbgrader, read_grades, read_score
from tandem.grading.scores import read_book
from tandem.grading.unfinished import mark_failed, mark_started
from tandem.reports.build import build_report_data
from tandem.reports.export import export_cohort
from tandem.reports.status import cohort_status

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DUE = datetime(2027, 1, 18, 23, 59, 59)


def test_bulk_scores_equal_read_score_field_by_field_for_every_checkpoint(
    demo_cohort: DemoResult,
) -> None:
    ws = Workspace(demo_cohort.workspace)
    cohort = ws.load()
    program = ws.program(cohort)
    book = read_book(ws, cohort, cells=True)
    compared = graded = 0
    for session in program.sessions:
        for module in session.modules:
            assert book.due_date(module.id) == due_date(ws, cohort, module.id), module.id
            for person in cohort.participants:
                one = read_score(ws, cohort, module.id, person.id)
                bulk = book.score(module.id, person.id)
                where = f"{person.id} on {module.id}"
                assert (one is None) == (bulk is None), where
                if one is not None and bulk is not None:
                    assert asdict(bulk) == asdict(one), where
                    assert bulk.auto_percent == one.auto_percent, where
                    graded += 1
                assert book.grades(module.id, person.id) == read_grades(
                    ws, cohort, module.id, person.id
                ), where
                compared += 1
    assert compared == 12 * len(cohort.participants)
    assert graded == 12 * len(cohort.pairs)  # only learners are graded, every one here


def test_bulk_scores_of_some_modules_and_people_are_those_of_everyone(
    demo_cohort: DemoResult,
) -> None:
    ws = Workspace(demo_cohort.workspace)
    cohort = ws.load()
    everyone = read_book(ws, cohort).scores
    module = ws.program(cohort).sessions[0].modules[0].id
    learner = next(learner for _, learner in cohort.learners(ws.program(cohort).module(module)))
    some = read_book(ws, cohort, [module], [learner]).scores
    assert some == {(module, learner): everyone[(module, learner)]}


def test_an_unfinished_grading_has_no_score_in_the_bulk_read(
    demo_cohort: DemoResult, tmp_path: Path
) -> None:
    root = tmp_path / "cohort"
    shutil.copytree(demo_cohort.workspace, root, symlinks=True)  # the shared demo stays as it is
    ws = Workspace(root)
    cohort = ws.load()
    before = read_book(ws, cohort).scores
    (failed, who), (running, other) = sorted(before)[:2]
    mark_failed(ws.folder("autograded") / who / failed, "kernel died")
    mark_started(ws.folder("autograded") / other / running)  # this process: still running
    book = read_book(ws, cohort, cells=True)
    for module, participant in ((failed, who), (running, other)):
        assert read_score(ws, cohort, module, participant) is None
        assert book.score(module, participant) is None
        assert book.grades(module, participant) == {}
        assert (module, participant) in book.unfinished
        assert book.cells[(module, participant)]  # a person's export still shows the rows
    assert {k: v for k, v in before.items() if k not in book.unfinished} == book.scores


# -- statements ----------------------------------------------------------------------------
@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends while the block runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])  # (connection, cursor, statement, parameters, context, many)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def graded_cohort(base: Path, pairs: int) -> Workspace:
    """The tiny programme's session released to ``pairs`` pairs, every learner's
    submission graded straight into the gradebook (nbgrader's API) with check-ins in
    ``submitted/``: no fetch, submit or autograde, so that 30 pairs take seconds."""
    shutil.copytree(FIXTURES / "programme", base / "programme")
    roster = base / "roster.csv"
    roster.write_text(synthetic_roster(pairs), encoding="utf-8")
    init_cohort(base / "cohort", roster, curriculum=base / "programme/curriculum/program.yml")
    ws = Workspace(base / "cohort")
    release_session(ws.root, "s1")
    cohort = ws.load()
    program = ws.program(cohort)
    with quiet_nbgrader(), ws.gradebook(cohort) as gradebook:
        for module in program.session("s1").modules:
            set_due_date(ws, cohort, module.id, DUE)
            for index, (_, learner) in enumerate(cohort.learners(module)):
                stamp = DUE + timedelta(hours=index % 3 - 1)  # every third one late
                submission = gradebook.add_submission(module.id, learner, timestamp=str(stamp))
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.cell_type == "code":
                            grade.auto_score = grade.max_score * (index % 2)
                            grade.needs_manual_grade = False
                        elif index % 4:  # every fourth written answer still to grade
                            grade.manual_score = grade.max_score / 2
                            grade.needs_manual_grade = False
                gradebook.db.commit()
                for member in cohort.pair_of(learner).members:  # type: ignore[union-attr]
                    folder = ws.submission_dir(member, module.id)
                    folder.mkdir(parents=True)
                    (folder / "timestamp.txt").write_text(f"{stamp} UTC")
                    write_checkin(folder, demo_checkin(cohort, module, member, index))
    return ws


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Workspace]:
    return {n: graded_cohort(tmp_path_factory.mktemp(f"pairs{n}"), n) for n in (3, 30)}


def _status(ws: Workspace) -> object:
    return cohort_status(ws.root)


def _export(ws: Workspace) -> object:
    return export_cohort(ws.root, ws.root.parent / "export", "csv")


def _report_data(ws: Workspace) -> object:
    return build_report_data(ws)


@pytest.mark.parametrize("command", [_status, _export, _report_data], ids=lambda f: f.__name__)
def test_statements_do_not_grow_with_the_number_of_pairs(
    cohorts: dict[int, Workspace], command: Callable[[Workspace], object]
) -> None:
    counts = {}
    for pairs, ws in cohorts.items():
        graded = read_book(ws, ws.load()).scores
        assert len(graded) == 2 * pairs  # the cohort is graded: its scores are read
        with statements() as sent:
            command(ws)
        counts[pairs] = len(sent)
    assert counts[3] == counts[30], f"statements by pairs: {counts}"
