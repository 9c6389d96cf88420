"""`new_module`: the scaffold validates, runs and grades, lands where it belongs, and refuses
what it must without leaving anything behind."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from tandem.curriculum.checkpoint_rules import CODE_STUB, checkpoint_problems
from tandem.curriculum.manifest import check_exercise, check_lesson, load_program, validate_program
from tandem.curriculum.scaffold import new_module
from tandem.errors import ManifestError, TandemError, UsageError, ValidationFailed

from ..conftest import ROOT


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``root``."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def _in_order(old: str, new: str) -> bool:
    """Every line of ``old`` is still in ``new``, in the same order."""
    remaining = iter(new.splitlines())
    return all(line in remaining for line in old.splitlines())


def _execute(path: Path, *, allow_errors: bool = False) -> Any:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    return client.execute()


def _nbgrader(cell: Any) -> dict[str, Any]:
    return dict(cell.metadata.get("nbgrader", {}))


def test_a_tech_module_goes_into_a_new_session_with_a_management_partner(
    tiny_programme: Path,
) -> None:
    root = tiny_programme.parent.parent
    original = "# Our programme: keep this comment.\n" + tiny_programme.read_text()
    tiny_programme.write_text(original)

    written = new_module(tiny_programme, "t2-sheets", "tech", title="Spreadsheets: one source")

    program = validate_program(tiny_programme, placeholders=True)
    session = program.sessions[-1]
    assert (session.id, len(program.sessions)) == ("session-02", 2)
    tech, partner = session.modules
    assert (tech.id, tech.track, tech.lead, tech.title) == (
        "t2-sheets",
        "tech",
        "junior",
        "Spreadsheets: one source",
    )
    assert (partner.id, partner.track, partner.lead) == (
        "t2-sheets-partner",
        "management",
        "senior",
    )
    assert program.competency("t2-sheets-skill").track == "tech"
    assert program.competency("t2-sheets-partner-skill").track == "management"
    assert tech.competencies == ("t2-sheets-skill",)
    assert tech.lesson_data == ("data/t2_sheets_example.csv",)
    assert written[-1] == tiny_programme
    assert {str(p.relative_to(root)) for p in written[:4]} == {
        "curriculum/session-02/t2-sheets.ipynb",
        "curriculum/session-02/data/t2_sheets_example.csv",
        "exercises/t2-sheets/checkpoint.ipynb",
        "exercises/t2-sheets/example.csv",
    }
    assert len(written) == 9 and all(p.is_file() for p in written)
    assert _in_order(original, tiny_programme.read_text())


@pytest.mark.slow
def test_the_lesson_runs_and_the_checkpoint_is_an_nbgrader_source(tiny_programme: Path) -> None:
    new_module(tiny_programme, "t2-sheets", "tech")
    program = load_program(tiny_programme)
    module = program.module("t2-sheets")
    lesson = program.lesson_path(module)
    checkpoint = program.exercise_dir(module) / "checkpoint.ipynb"
    assert check_lesson(lesson) == [] and check_exercise(checkpoint) == []
    assert checkpoint_problems(program, module) == []  # tagged, no code, every objective

    nb = nbformat.read(lesson, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    calls = "\n".join(c.source for c in code)
    assert "from tandem.widgets import reflection, self_assessment, session_feedback" in calls
    assert 'self_assessment(["t2-sheets-skill"], moment="before")' in calls
    assert 'self_assessment(["t2-sheets-skill"], moment="after")' in calls
    assert 'reflection(\n    "t2-sheets-' in calls
    assert 'session_feedback("t2-sheets")' in calls
    _execute(lesson)

    source = nbformat.read(checkpoint, as_version=4)
    answers = [c for c in source.cells if _nbgrader(c).get("solution")]
    tests = [c for c in source.cells if _nbgrader(c).get("grade") and c.cell_type == "code"]
    # question kinds (tandem.questions): choose, type a number, order; then a written answer
    assert [c.cell_type for c in answers] == ["code", "code", "code", "markdown"]
    assert all("### BEGIN SOLUTION" in c.source for c in answers[:3])
    assert len(tests) == 3 and all(_nbgrader(t)["points"] > 0 for t in tests)
    assert all("### BEGIN HIDDEN TESTS" in t.source for t in tests)
    written = source.cells.index(answers[-1])
    assert _nbgrader(answers[-1])["points"] > 0
    assert _nbgrader(source.cells[written - 1])["locked"]
    assert "Rubric" in source.cells[written - 1].source
    _execute(checkpoint)  # the source, with its solutions, passes its own tests

    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    stub = {"python": CODE_STUB}  # as in every cohort's nbgrader config
    release, resources = ClearSolutions(code_stub=stub).preprocess(source, {"language": "python"})
    release, _ = ClearHiddenTests().preprocess(release, resources)
    blank = checkpoint.with_name("blank.ipynb")
    nbformat.write(release, blank)
    ran = _execute(blank)  # the blank release runs without an error in the learner's kernel
    test_cell = next(c for c in ran.cells if _nbgrader(c).get("grade") and c.cell_type == "code")
    assert "not answered yet" in "".join(o.get("text", "") for o in test_cell.outputs)


def test_a_module_joins_an_existing_session_that_lacks_its_track(tiny_programme: Path) -> None:
    text = tiny_programme.read_text()
    half = text[: text.index("      - id: tiny-mgmt")]
    tiny_programme.write_text(half)
    shutil.rmtree(tiny_programme.parent.parent / "exercises" / "tiny-mgmt")
    with pytest.raises(ManifestError, match="at least 2"):
        load_program(tiny_programme)

    written = new_module(tiny_programme, "m1-feedback", "management", session="s1")

    program = validate_program(tiny_programme, placeholders=True)
    assert [s.id for s in program.sessions] == ["s1"]
    assert [m.id for m in program.sessions[0].modules] == ["tiny-tech", "m1-feedback"]
    assert program.module("m1-feedback").lesson == "curriculum/s1/m1-feedback.ipynb"
    assert len(written) == 5  # no partner: the session already has its tech module
    assert _in_order(half, tiny_programme.read_text())


def test_a_named_new_session_and_partner_id(tiny_programme: Path) -> None:
    new_module(tiny_programme, "m2-delegation", "management", session="autumn", partner="t2-ai")
    program = validate_program(tiny_programme, placeholders=True)
    autumn = program.session("autumn")
    assert [(m.id, m.track) for m in autumn.modules] == [
        ("m2-delegation", "management"),
        ("t2-ai", "tech"),
    ]
    assert program.module("t2-ai").lesson == "curriculum/autumn/t2-ai.ipynb"


def test_the_shipped_layout_numbers_the_next_session_and_keeps_comments(tmp_path: Path) -> None:
    """A copy of the real curriculum: its comments, flow lists, six sessions."""
    for folder in ("curriculum", "exercises"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    manifest = tmp_path / "curriculum" / "program.yml"
    original = manifest.read_text()
    # take session-02's management module out, then scaffold one back into that session
    start = original.index("      - id: m2-prioritisation-delegation")
    end = original.index("  - id: session-03")
    manifest.write_text(original[:start] + "\n" + original[end:])

    new_module(manifest, "m2-new", "management", session="session-02")
    new_module(manifest, "t7-new", "tech")

    program = validate_program(manifest, placeholders=True)
    assert [m.id for m in program.session("session-02").modules] == [
        "t2-content-planning",
        "m2-new",
    ]
    assert program.sessions[-1].id == "session-07"
    assert program.module("t7-new").lesson == "curriculum/session-07/t7-new.ipynb"
    assert _in_order(original[:start] + original[end:], manifest.read_text())
    assert "# The Tandem programme manifest" in manifest.read_text()


def _add_competency(manifest: Path) -> None:
    text = manifest.read_text().replace(
        "competencies:\n", "competencies:\n  new-one-skill: {title: Taken, track: tech}\n", 1
    )
    manifest.write_text(text)


def _existing_lesson(manifest: Path) -> None:
    lesson = manifest.parent / "session-02" / "new-one.ipynb"
    lesson.parent.mkdir()
    lesson.write_text("{}")


@pytest.mark.parametrize(
    ("prepare", "module_id", "options", "error", "message"),
    [
        (None, "tiny-tech", {}, ManifestError, "module id 'tiny-tech' is already used"),
        (None, "Bad Id", {}, UsageError, "is not an id"),
        (None, "new-one", {"session": "s1"}, ManifestError, "already has a tech module"),
        (None, "new-one", {"session": "S 1"}, UsageError, "session: 'S 1' is not an id"),
        (None, "new-one", {"partner": "new-one"}, UsageError, "partner: .* an id of its own"),
        (_add_competency, "new-one", {}, ManifestError, "'new-one-skill' already exists"),
        (_existing_lesson, "new-one", {}, UsageError, "new-one.ipynb: already exists"),
    ],
    ids=[
        "module-id-used",
        "bad-id",
        "session-full",
        "bad-session",
        "partner-id",
        "competency",
        "file-exists",
    ],
)
def test_refusals_name_the_problem_and_change_nothing(
    tiny_programme: Path,
    prepare: Any,
    module_id: str,
    options: dict[str, Any],
    error: type[TandemError],
    message: str,
) -> None:
    if prepare is not None:
        prepare(tiny_programme)
    root = tiny_programme.parent.parent
    before = _snapshot(root)
    with pytest.raises(error, match=message) as info:
        new_module(tiny_programme, module_id, "tech", **options)
    if error is ManifestError:
        assert str(tiny_programme) in str(info.value)
    assert _snapshot(root) == before


def test_a_programme_that_fails_validation_is_restored(tiny_programme: Path) -> None:
    root = tiny_programme.parent.parent
    broken = root / "curriculum" / "s1" / "tiny-mgmt.ipynb"
    nb = nbformat.read(broken, as_version=4)
    nb.cells = [c for c in nb.cells if "Key points" not in c.source]
    nbformat.write(nb, broken)
    before = _snapshot(root)
    with pytest.raises(ValidationFailed, match="no '## Key points' section"):
        new_module(tiny_programme, "t2-sheets", "tech")
    assert _snapshot(root) == before


def test_a_layout_it_cannot_edit_is_refused_with_the_entries_to_add(tiny_programme: Path) -> None:
    data = yaml.safe_load(tiny_programme.read_text())
    tiny_programme.write_text(yaml.safe_dump(data, default_flow_style=True))
    before = _snapshot(tiny_programme.parent.parent)
    with pytest.raises(ManifestError, match="Add them by hand") as info:
        new_module(tiny_programme, "t2-sheets", "tech")
    assert "t2-sheets-skill" in str(info.value)
    assert _snapshot(tiny_programme.parent.parent) == before


def test_a_real_module_takes_the_slot_of_an_untouched_placeholder_partner(
    tiny_programme: Path,
) -> None:
    root = tiny_programme.parent.parent
    new_module(tiny_programme, "t7-sheets", "tech")
    placeholder = load_program(tiny_programme).module("t7-sheets-partner")
    lesson = root / placeholder.lesson

    written = new_module(tiny_programme, "m7-coaching", "management", session="session-02")

    program = validate_program(tiny_programme, placeholders=True)
    assert [m.id for m in program.session("session-02").modules] == ["t7-sheets", "m7-coaching"]
    assert "t7-sheets-partner" not in tiny_programme.read_text()
    assert not lesson.exists()
    assert not (root / placeholder.exercise).exists()
    assert all(path.exists() for path in written)


def test_a_placeholder_its_author_has_begun_is_never_replaced(tiny_programme: Path) -> None:
    root = tiny_programme.parent.parent
    new_module(tiny_programme, "t7-sheets", "tech")
    lesson = root / load_program(tiny_programme).module("t7-sheets-partner").lesson
    lesson.write_text(lesson.read_text().replace("TODO", "Coaching"))
    before = tiny_programme.read_text()
    with pytest.raises(ManifestError, match="already has a management module"):
        new_module(tiny_programme, "m7-coaching", "management", session="session-02")
    assert tiny_programme.read_text() == before
