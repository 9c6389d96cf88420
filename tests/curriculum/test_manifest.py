"""The manifest and `tandem validate`: the real curriculum passes; each kind of error is named."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

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
    # the lead rates the learner before and after, and gives feedback (issue #20)
    assert f'partner_rating([{competencies}], moment="before")' in code
    assert f'partner_rating([{competencies}], moment="after")' in code
    assert f'lead_feedback("{module.id}")' in code
    session = next(s for s in PROGRAM.sessions if module in s.modules)
    pulse = f'safety_pulse("{session.id}")' in code
    assert pulse == (module.track == "management"), "the pulse sits in the management lesson"
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
    assert 6 <= len(tests) <= 8  # six to eight questions, each its own test cell
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    written = [c for c, m in meta if m.get("grade") and c.cell_type == "markdown"]
    assert len(written) == 1
    index = cells.index(written[0])
    assert "rubric" in cells[index - 1].source.lower()
    data = list(path.parent.glob("*.csv"))
    assert data and all(p.stat().st_size < 20_000 for p in data)  # small, shipped


def test_a_title_or_objective_still_reading_todo_fails_validation(tiny_programme: Path) -> None:
    _edit_manifest(
        tiny_programme,
        lambda d: _module(d).update(title="TODO: name it", objectives=["TODO: what they learn"]),
    )
    with pytest.raises(ValidationFailed) as failed:
        validate_program(tiny_programme)
    assert [(p.where, p.message) for p in failed.value.problems] == [
        (
            "sessions[0].modules[0].title",
            "still a placeholder: 'TODO: name it': write the real text",
        ),
        (
            "sessions[0].modules[0].objectives[0]",
            "still a placeholder: 'TODO: what they learn': write the real text",
        ),
    ]


def test_without_a_curriculum_here_the_message_says_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ..factories import run_cli

    monkeypatch.chdir(tmp_path)
    for argv in (["validate"], ["new-module", "t9-x", "--track", "tech"]):
        code, _, err = run_cli(argv, capsys)
        assert code == 1
        assert "--curriculum" in err and "TANDEM_CURRICULUM" in err, err
    monkeypatch.setenv("TANDEM_CURRICULUM", str(tmp_path / "moved.yml"))
    code, _, err = run_cli(["validate"], capsys)
    assert "moved.yml: manifest not found (from $TANDEM_CURRICULUM)" in err


def test_a_cohort_finds_its_curriculum_from_anywhere(
    cohort_at: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cohort.yml records the curriculum: as an absolute path (what cohort init writes),
    or relative to the cohort's folder (a cohort kept beside its programme), never
    relative to where the command runs."""
    ws = cohort_at("initialised")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert ws.program().title
    cohort_yml = ws.root / "cohort.yml"
    data = yaml.safe_load(cohort_yml.read_text())
    data["curriculum"] = "../programme/curriculum/program.yml"
    cohort_yml.write_text(yaml.safe_dump(data))
    assert ws.program().manifest.resolve() == (tmp_path / "programme/curriculum/program.yml")
    data["curriculum"] = str(tmp_path / "gone" / "program.yml")
    cohort_yml.write_text(yaml.safe_dump(data))
    with pytest.raises(ManifestError) as moved:
        ws.program()
    assert str(moved.value) == (
        f"{cohort_yml} (curriculum): the curriculum this cohort was made from is not at "
        f"{tmp_path / 'gone' / 'program.yml'}: put it back, or set 'curriculum' to the "
        "program.yml it uses now"
    )


def test_objectives_take_ids_and_plain_strings_stay_valid(tiny_programme: Path) -> None:
    _edit_manifest(
        tiny_programme,
        lambda d: _module(d).update(
            objectives=[{"id": "read-a-chart", "text": "Read a chart"}, "Explain a trend"]
        ),
    )
    module = validate_program(tiny_programme).modules[0]
    assert [(o.id, o.text) for o in module.objectives] == [
        ("read-a-chart", "Read a chart"),
        (None, "Explain a trend"),
    ]
    assert module.objective("read-a-chart").text == "Read a chart"
    with pytest.raises(ManifestError, match="no objective 'nope' \\(known: read-a-chart\\)"):
        module.objective("nope")


@pytest.mark.parametrize(
    ("objectives", "where", "message"),
    [
        (
            [{"id": "chart", "text": "Read a chart"}, {"id": "chart", "text": "Draw one"}],
            "sessions[0].modules[0].objectives",
            "objective id 'chart' is used twice in this module",
        ),
        (
            [{"id": "Read A Chart", "text": "Read a chart"}],
            "sessions[0].modules[0].objectives[0].id",
            "'Read A Chart' is not an id",
        ),
        (
            [{"id": "chart"}],
            "sessions[0].modules[0].objectives[0].text",
            "Field required",
        ),
    ],
    ids=["duplicate-id", "not-a-slug", "no-text"],
)
def test_validate_refuses_a_bad_objective_naming_the_field(
    tiny_programme: Path, objectives: list[Any], where: str, message: str
) -> None:
    _edit_manifest(tiny_programme, lambda d: _module(d).update(objectives=objectives))
    with pytest.raises(ManifestError) as info:
        validate_program(tiny_programme)
    assert info.value.where == where
    assert message in info.value.message


def test_every_shipped_objective_has_an_id() -> None:
    for module in PROGRAM.modules:
        assert all(o.id for o in module.objectives), module.id


def test_scaffolded_objectives_have_the_ids_its_questions_are_tagged_with(
    tiny_programme: Path,
) -> None:
    from tandem.curriculum.scaffold import new_module

    new_module(tiny_programme, "t9-sheets", "tech")
    added = load_program(tiny_programme).module("t9-sheets")
    assert [o.id for o in added.objectives] == ["read-the-data", "judge-the-data"]
    assert all(o.text.startswith("TODO") for o in added.objectives)


def test_an_answers_file_left_in_an_exercise_is_refused(tiny_programme: Path) -> None:
    """It would be released to every learner and copied over their answers at grading."""
    from tandem.curriculum.manifest import ANSWERS_FILE
    from tandem.notebook import questions

    assert questions.ANSWERS_FILE == ANSWERS_FILE
    stray = tiny_programme.parent.parent / "exercises" / "tiny-tech" / ANSWERS_FILE
    stray.write_text('{"q1": "B"}')
    with pytest.raises(ValidationFailed, match="answers file in the exercise"):
        validate_program(tiny_programme, placeholders=True)
    stray.unlink()
    validate_program(tiny_programme, placeholders=True)
