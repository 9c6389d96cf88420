"""Cohort workspaces on a real nbgrader course directory: init and release."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml

from tandem.cohort.release import release_session
from tandem.cohort.workspace import CONTEXT_FILE, Workspace, init_cohort
from tandem.errors import CohortError, IdError, ManifestError, RosterError
from tandem.notebook.checkin import PROGRAMME_FILE

from ..conftest import ROSTER_2_PAIRS
from ..factories import run_cli


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
        PROGRAMME_FILE,
        "tiny-tech.ipynb",
    ]
    student = (tech / "checkpoint.ipynb").read_text()
    assert "BEGIN SOLUTION" not in student and "return 2 * x" not in student
    assert "answer = None  # YOUR ANSWER" in student  # Tandem's stub in the course config
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


@pytest.mark.parametrize(
    ("name", "course_id"), [("Весна 2027", "vesna-2027"), ("Осень 2027", "osen-2027")]
)
def test_course_ids_of_names_in_other_scripts_keep_their_identity(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    name: str,
    course_id: str,
) -> None:
    cohort = init_cohort(
        tmp_path / "c", write_roster(ROSTER_2_PAIRS), name=name, curriculum=tiny_programme
    )
    assert cohort.course_id == course_id


def test_a_cohort_name_with_no_letter_or_digit_is_refused(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    with pytest.raises(IdError, match="cohort name '!!!' has no letter or digit"):
        init_cohort(
            tmp_path / "c", write_roster(ROSTER_2_PAIRS), name="!!!", curriculum=tiny_programme
        )
    assert not (tmp_path / "c").exists()


def _damage(gradebook: Path, how: str) -> None:
    data = gradebook.read_bytes()
    if how == "garbage":
        gradebook.write_bytes(bytes(range(256)) * (len(data) // 256))
    elif how == "truncated":
        gradebook.write_bytes(data[: len(data) // 2 + 100])
    else:
        gradebook.write_bytes(b"")


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty"])
def test_a_damaged_gradebook_is_refused_in_one_line_and_never_recreated(
    cohort_at: Callable[..., Workspace],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    how: str,
) -> None:
    ws = cohort_at("released")
    gradebook = ws.root / "gradebook.db"
    _damage(gradebook, how)
    damaged = gradebook.read_bytes()
    for argv in (
        ["status", str(ws.root)],
        ["export", str(ws.root), "--format", "csv", "--out", str(tmp_path / "out")],
    ):
        code, _, err = run_cli(argv, capsys)
        assert code == 1, argv
        assert err.startswith(f"tandem: error: {gradebook}: the gradebook is damaged")
        assert "restore it from a backup" in err
        assert len(err.strip().splitlines()) == 1, err
    assert gradebook.read_bytes() == damaged  # nothing recreated or rewritten


def test_a_missing_gradebook_of_an_existing_cohort_is_not_recreated(
    cohort_at: Callable[..., Workspace], capsys: pytest.CaptureFixture[str]
) -> None:
    ws = cohort_at("released")
    (ws.root / "gradebook.db").unlink()
    code, _, err = run_cli(["status", str(ws.root)], capsys)
    assert (code, err.strip()) == (
        1,
        f"tandem: error: {ws.root / 'gradebook.db'}: the gradebook is missing: restore it "
        "from a backup; Tandem never replaces a gradebook that existed",
    )
    assert not (ws.root / "gradebook.db").exists()


HOLD_THE_LOCK = """
import sys, time
from tandem.cohort.workspace import Workspace
with Workspace(sys.argv[1]).locked():
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_lock_held_elsewhere_names_its_holder_and_what_to_do(
    cohort_at: Callable[..., Workspace],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = cohort_at("initialised")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(ws.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("TANDEM_LOCK_TIMEOUT", "0.5")
        started = time.monotonic()
        code, _, err = run_cli(["release", str(ws.root), "s1"], capsys)
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"tandem: error: {ws.root}: '-c {ws.root}' (process {holder.pid} on ")
    assert "holds this workspace's lock (waited 0.5 s): wait for it to finish or stop it" in err
    assert "TANDEM_LOCK_TIMEOUT" in err
    assert ws.load().released == []  # nothing was done


def test_the_lock_holder_file_exists_only_while_the_lock_is_held(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("initialised")
    holder_file = ws.root / ".tandem.lock.holder"
    with ws.locked():
        record = json.loads(holder_file.read_text())
        assert record["pid"] == os.getpid()
        assert {"host", "command", "since"} <= set(record)
    assert not holder_file.exists()


def test_nbgrader_gets_first_and_last_names_as_people_write_them(
    cohort_at: Callable[..., Workspace],
) -> None:
    """Formgrader shows "last, first": a name written "Family, Given", or family name
    first in Chinese script with its Latin spelling beside it, reads as its owner wrote it."""
    roster = (
        "id,name,email,role\n"
        'j1,"Lindqvist, Eva",eva@example.org,junior\n'
        "s1,王芳 (Wang Fang),wang@example.org,senior\n"
        "j2,Ada Okafor,ada@example.org,junior\n"
        "s2,Madonna,m@example.org,senior\n"
    )
    ws = cohort_at("initialised", roster=roster)
    cohort = ws.load()
    with ws.gradebook(cohort) as gradebook:
        names = {s.id: f"{s.last_name}, {s.first_name}" for s in gradebook.students}
    assert names == {
        "j1": "Lindqvist, Eva",
        "s1": "王 (Wang), 芳 (Fang)",
        "j2": "Okafor, Ada",
        "s2": ", Madonna",
    }


def test_a_nested_lock_in_one_thread_re_enters_and_the_holder_file_outlives_it(
    tmp_path: Path,
) -> None:
    ws = Workspace(tmp_path)
    holder = tmp_path / ".tandem.lock.holder"
    with ws.locked(timeout=1):
        with ws.locked(timeout=1):  # waited for itself (and timed out) before
            assert holder.exists()
        assert holder.exists()
    assert not holder.exists()
