"""The manifest and `tandem validate`: the real curriculum passes; each kind of error is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tandem.curriculum.manifest import Module, lesson_sections, load_program, validate_program
from tandem.errors import ManifestError, ValidationFailed

from ..conftest import FIXTURES, MANIFEST


def test_the_shipped_curriculum_validates() -> None:
    program = validate_program(MANIFEST)
    assert program.sessions[0].id == "session-01"
    tracks = {m.track: m.lead for m in program.sessions[0].modules}
    assert tracks == {"tech": "junior", "management": "senior"}
    for module in program.modules:
        assert program.exercise_notebooks(module), module.id
        assert module.learner != module.lead


def _edit_manifest(manifest: Path, edit: object) -> None:
    data = yaml.safe_load(manifest.read_text())
    edit(data)  # type: ignore[operator]
    manifest.write_text(yaml.safe_dump(data))


def _module(data: dict, index: int = 0) -> dict:  # type: ignore[type-arg]
    return data["sessions"][0]["modules"][index]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("edit", "where", "message"),
    [
        (lambda d: _module(d).pop("title"), "sessions[0].modules[0].title", "Field required"),
        (lambda d: _module(d).update(track="art"), "sessions[0].modules[0].track", "'tech'"),
        (lambda d: _module(d).update(lead="senior"), "sessions[0].modules[0]", "led by the junior"),
        (lambda d: _module(d).update(competencies=["nope"]), None, "unknown competency 'nope'"),
        (lambda d: _module(d, 1).update(id="tiny-tech"), None, "used twice"),
        (lambda d: _module(d).update(id="Bad Id"), "sessions[0].modules[0].id", "not an id"),
        (lambda d: d["sessions"][0]["modules"].pop(), "sessions[0].modules", "at least 2"),
        (
            lambda d: _module(d).update(minutes={"teaching": 0, "exercise": 5}),
            "sessions[0].modules[0].minutes.teaching",
            "greater than 0",
        ),
    ],
    ids=[
        "missing-field",
        "unknown-track",
        "wrong-lead",
        "unknown-competency",
        "duplicate-module",
        "bad-id",
        "one-module-session",
        "zero-minutes",
    ],
)
def test_manifest_errors_name_the_file_and_field(
    tiny_programme: Path, edit: object, where: str | None, message: str
) -> None:
    _edit_manifest(tiny_programme, edit)
    with pytest.raises(ManifestError) as info:
        load_program(tiny_programme)
    assert info.value.path == tiny_programme
    assert info.value.where == where
    assert message in str(info.value)
    assert str(tiny_programme) in str(info.value)


def test_manifest_that_is_not_yaml(tiny_programme: Path) -> None:
    tiny_programme.write_text("title: [unclosed\n")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_program(tiny_programme)


def test_missing_manifest_is_named(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest not found") as info:
        load_program(tmp_path / "program.yml")
    assert info.value.path == tmp_path / "program.yml"


def test_path_escaping_the_programme_root_is_refused(tiny_programme: Path) -> None:
    _edit_manifest(tiny_programme, lambda d: _module(d).update(lesson="../../etc/passwd"))
    with pytest.raises(ManifestError, match="leaves the programme root"):
        validate_program(tiny_programme)


def _break(tiny_programme: Path, fixture: str, target: str) -> Path:
    root = tiny_programme.parent.parent
    shutil.copy(FIXTURES / "notebooks" / fixture, root / target)
    return root / target


@pytest.mark.parametrize(
    ("fixture", "target", "message"),
    [
        (
            "lesson_missing_key_points.ipynb",
            "curriculum/s1/tiny-tech.ipynb",
            "no '## Key points' section",
        ),
        (
            "duplicate_grade_ids.ipynb",
            "exercises/tiny-mgmt/checkpoint.ipynb",
            "duplicate grade_id 'intro'",
        ),
        ("test_cell_without_points.ipynb", "exercises/tiny-tech/checkpoint.ipynb", "has no points"),
        (
            "schema_version_2.ipynb",
            "exercises/tiny-tech/checkpoint.ipynb",
            "schema_version is 2, expected 3",
        ),
        (
            "no_autograded_test.ipynb",
            "exercises/tiny-tech/checkpoint.ipynb",
            "no autograded test cell",
        ),
        ("not_json.ipynb", "exercises/tiny-tech/checkpoint.ipynb", "not a readable notebook"),
    ],
)
def test_broken_notebooks_are_named(
    tiny_programme: Path, fixture: str, target: str, message: str
) -> None:
    broken = _break(tiny_programme, fixture, target)
    with pytest.raises(ValidationFailed) as info:
        validate_program(tiny_programme)
    problems = info.value.problems
    assert any(p.path == broken and message in str(p) for p in problems), problems


def test_module_missing_its_exercise(tiny_programme: Path) -> None:
    exercise = tiny_programme.parent.parent / "exercises" / "tiny-mgmt"
    shutil.rmtree(exercise)
    with pytest.raises(ValidationFailed) as info:
        validate_program(tiny_programme)
    assert [p.path for p in info.value.problems] == [exercise]
    assert "module tiny-mgmt: exercise" in str(info.value)


def test_missing_lesson_and_every_problem_listed(tiny_programme: Path) -> None:
    root = tiny_programme.parent.parent
    (root / "curriculum" / "s1" / "tiny-tech.ipynb").unlink()
    _break(tiny_programme, "duplicate_grade_ids.ipynb", "exercises/tiny-mgmt/checkpoint.ipynb")
    with pytest.raises(ValidationFailed) as info:
        validate_program(tiny_programme)
    text = str(info.value)
    assert "lesson notebook not found" in text
    assert "duplicate grade_id" in text
    assert len(info.value.problems) == 2


PROGRAM = validate_program(MANIFEST)


@pytest.mark.parametrize("module", PROGRAM.modules, ids=lambda m: m.id)
def test_every_lesson_has_the_full_shape(module: Module) -> None:
    """Questions, objectives, timing, notes for the lead, 2+ activities, discussion,
    before/after self-assessment, 2+ reflections, session feedback, key points."""
    import nbformat

    notebook = nbformat.read(PROGRAM.lesson_path(module), as_version=4)
    headings = [h.lower() for h in lesson_sections(notebook)]
    for section in (
        "questions",
        "objectives",
        "timing",
        "notes for the lead",
        "discussion",
        "key points",
    ):
        assert section in headings, section
    assert sum(h.startswith("activity") for h in headings) >= 2
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    competencies = ", ".join(f'"{c}"' for c in module.competencies)
    assert f'self_assessment([{competencies}], moment="before")' in code
    assert f'self_assessment([{competencies}], moment="after")' in code
    assert code.count("reflection(") >= 2
    assert f'session_feedback("{module.id}")' in code
    assert "read_csv(" in code and "plt." in code  # hands-on with shipped data and a chart


@pytest.mark.parametrize("module", PROGRAM.modules, ids=lambda m: m.id)
def test_every_checkpoint_has_tests_with_hidden_cases_and_one_written_answer(
    module: Module,
) -> None:
    import nbformat

    [path] = PROGRAM.exercise_notebooks(module)
    cells = nbformat.read(path, as_version=4).cells
    meta = [(c, c.metadata.get("nbgrader", {})) for c in cells]
    tests = [c for c, m in meta if m.get("grade") and c.cell_type == "code"]
    assert 3 <= len(tests) <= 5
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    written = [c for c, m in meta if m.get("grade") and c.cell_type == "markdown"]
    assert len(written) == 1
    index = cells.index(written[0])
    assert "rubric" in cells[index - 1].source.lower()
    data = list(path.parent.glob("*.csv"))
    assert data and all(p.stat().st_size < 20_000 for p in data)  # small, shipped
