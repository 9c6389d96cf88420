"""Cohort workspaces on a real nbgrader course directory: init and release."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml

from tandem.cohort.release import release_session
from tandem.cohort.workspace import CONTEXT_FILE, Workspace, init_cohort
from tandem.errors import CohortError, ManifestError, RosterError

from ..conftest import ROSTER_2_PAIRS


@pytest.fixture
def workspace(tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]) -> Workspace:
    roster = write_roster(ROSTER_2_PAIRS + "j3,Cy Junior,cy@example.org,junior,IT\n")
    init_cohort(tmp_path / "cohort", roster, name="Spring 2027", curriculum=tiny_programme)
    return Workspace(tmp_path / "cohort")


def test_init_creates_cohort_and_nbgrader_course(workspace: Workspace) -> None:
    cohort = workspace.load()
    assert (cohort.name, cohort.course_id) == ("Spring 2027", "spring-2027")
    assert [(p.junior, p.senior) for p in cohort.pairs] == [("j1", "s1"), ("j2", "s2")]
    assert cohort.unpaired == ["j3"]
    config = json.loads((workspace.root / "nbgrader_config.json").read_text())
    assert config["CourseDirectory"]["course_id"] == "spring-2027"
    assert config["Exchange"]["root"] == str(workspace.root / "exchange")
    with workspace.gradebook(cohort) as gradebook:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}
    assert students["j1"] == ("Ada", "Junior", "ada@example.org")
    assert set(students) == {"j1", "s1", "j2", "s2", "j3"}
    on_disk = yaml.safe_load(workspace.cohort_file.read_text())
    assert on_disk["participants"][0] == {
        "id": "j1",
        "name": "Ada Junior",
        "email": "ada@example.org",
        "role": "junior",
        "department": "IT",
    }


def test_init_with_a_pairs_file(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    roster = write_roster(ROSTER_2_PAIRS)
    pairs = write_roster("id,junior,senior\nalpha,j1,s2\n", "pairs.csv")
    cohort = init_cohort(tmp_path / "c", roster, pairs=pairs, curriculum=tiny_programme)
    assert [(p.id, p.junior, p.senior) for p in cohort.pairs] == [("alpha", "j1", "s2")]
    assert cohort.unpaired == ["s1", "j2"]


def test_init_refuses_to_overwrite_a_cohort(
    workspace: Workspace, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    with pytest.raises(CohortError, match="a cohort already exists here"):
        init_cohort(workspace.root, write_roster(ROSTER_2_PAIRS), curriculum=tiny_programme)


def test_init_with_bad_inputs_creates_nothing(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    with pytest.raises(RosterError):
        init_cohort(tmp_path / "a", tmp_path / "absent.csv", curriculum=tiny_programme)
    with pytest.raises(ManifestError):
        init_cohort(tmp_path / "b", write_roster(ROSTER_2_PAIRS), curriculum=tmp_path / "nope.yml")
    only_juniors = write_roster("id,name,email,role\nj1,A,a@example.org,junior\n", "j.csv")
    with pytest.raises(CohortError, match="at least one junior and one senior"):
        init_cohort(tmp_path / "c", only_juniors, curriculum=tiny_programme)
    assert not any((tmp_path / name).exists() for name in "abc")


def test_release_builds_each_module_folder(workspace: Workspace) -> None:
    released = release_session(workspace.root, "s1")
    assert [p.name for p in released] == ["tiny-tech", "tiny-mgmt"]
    tech = workspace.root / "release" / "tiny-tech"
    assert sorted(p.name for p in tech.iterdir()) == [
        "checkpoint.ipynb",
        CONTEXT_FILE,
        "tiny-tech.ipynb",
    ]
    student = (tech / "checkpoint.ipynb").read_text()
    assert "BEGIN SOLUTION" not in student and "return 2 * x" not in student
    assert "NotImplementedError" in student
    lesson = nbformat.read(tech / "tiny-tech.ipynb", as_version=4)
    assert lesson.cells[0].source.startswith("# Tiny tech")

    context = json.loads((tech / CONTEXT_FILE).read_text())
    assert (context["module"], context["lead"], context["learner"]) == (
        "tiny-tech",
        "junior",
        "senior",
    )
    assert context["participants"]["s1"] == {
        "role": "senior",
        "pair": "pair-01",
        "partner": "j1",
        "leads": "no",
    }
    assert "j3" not in context["participants"]  # unpaired: not part of any pair yet

    cohort = workspace.load()
    assert cohort.released == ["s1"]
    with workspace.gradebook(cohort) as gradebook:
        # Only the checkpoint is an nbgrader notebook: the lesson is never autograded.
        notebooks = [n.name for n in gradebook.find_assignment("tiny-tech").notebooks]
    assert notebooks == ["checkpoint"]


def test_release_again_is_idempotent(workspace: Workspace) -> None:
    release_session(workspace.root, "s1")
    release_session(workspace.root, "s1")
    assert workspace.load().released == ["s1"]


def test_release_of_an_unknown_session(workspace: Workspace) -> None:
    with pytest.raises(ManifestError, match="no session 'session-99' \\(known: s1\\)"):
        release_session(workspace.root, "session-99")


def test_commands_on_a_folder_that_is_no_cohort(tmp_path: Path) -> None:
    with pytest.raises(CohortError, match="not a cohort workspace"):
        release_session(tmp_path, "s1")
