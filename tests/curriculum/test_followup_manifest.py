"""The manifest's optional ``followup:`` (a module with no lead and no checkpoint) and what
``tandem validate`` checks of it: its notebook, its id, its ``after_days``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tandem.curriculum.manifest import load_program, validate_program
from tandem.errors import ManifestError, ValidationFailed

from ..conftest import MANIFEST, ROOT
from ..factories import run_cli

NOTEBOOK = ROOT / "curriculum" / "followup" / "three-months-on.ipynb"


def _with_followup(manifest: Path, **entry: Any) -> Path:
    """The tiny programme with a ``followup:`` entry (the shipped notebook copied in)."""
    folder = manifest.parent / "followup"
    folder.mkdir(exist_ok=True)
    shutil.copy2(NOTEBOOK, folder)
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    data["followup"] = {
        "id": "three-months-on",
        "title": "Three months on",
        "lesson": "curriculum/followup/three-months-on.ipynb",
        "after_days": 91,
        **entry,
    }
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return manifest


def test_the_shipped_programme_has_a_valid_followup_three_months_on() -> None:
    program = validate_program(MANIFEST)
    assert program.followup is not None
    assert (program.followup.id, program.followup.after_days) == ("three-months-on", 91)
    assert program.path(program.followup.lesson) == NOTEBOOK
    assert program.followup.id not in {m.id for m in program.modules}  # not a session module


def test_a_programme_without_followup_still_loads(tiny_programme: Path) -> None:
    assert load_program(tiny_programme).followup is None


def test_after_days_defaults_to_91(tiny_programme: Path) -> None:
    manifest = _with_followup(tiny_programme)
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    del data["followup"]["after_days"]
    manifest.write_text(yaml.safe_dump(data), encoding="utf-8")
    followup = load_program(manifest).followup
    assert followup is not None and followup.after_days == 91


@pytest.mark.parametrize("days", [0, 731, -5])
def test_after_days_outside_1_to_730_is_refused_naming_the_field(
    tiny_programme: Path, days: int
) -> None:
    with pytest.raises(ManifestError) as info:
        load_program(_with_followup(tiny_programme, after_days=days))
    assert "followup.after_days" in str(info.value)


def test_a_followup_id_that_is_a_modules_id_is_refused(tiny_programme: Path) -> None:
    with pytest.raises(ManifestError, match="follow-up id 'tiny-tech' is also a module's id"):
        load_program(_with_followup(tiny_programme, id="tiny-tech"))


def test_a_followup_has_no_lead(tiny_programme: Path) -> None:
    with pytest.raises(ManifestError) as info:
        load_program(_with_followup(tiny_programme, lead="senior"))
    assert "followup.lead" in str(info.value)


def test_validate_names_a_missing_followup_notebook(tiny_programme: Path) -> None:
    manifest = _with_followup(tiny_programme, lesson="curriculum/followup/missing.ipynb")
    with pytest.raises(ValidationFailed) as info:
        validate_program(manifest)
    assert "follow-up notebook not found" in str(info.value)
    assert "missing.ipynb" in str(info.value)


def test_validate_checks_the_followup_notebooks_sections(tiny_programme: Path) -> None:
    manifest = _with_followup(tiny_programme)
    notebook = tiny_programme.parent / "followup" / "three-months-on.ipynb"
    notebook.write_text(
        notebook.read_text(encoding="utf-8").replace("## Key points", "## Summary"),
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed, match="no '## Key points' section"):
        validate_program(manifest)


def test_validate_refuses_a_placeholder_followup_title(tiny_programme: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"followup\.title"):
        validate_program(_with_followup(tiny_programme, title="TODO"))


def test_the_followup_is_named_when_asked_for_as_a_session(tiny_programme: Path) -> None:
    program = load_program(_with_followup(tiny_programme))
    with pytest.raises(ManifestError, match="is the follow-up, not a session"):
        program.session("three-months-on")


def test_released_modules_list_the_followup_only_when_asked(tiny_programme: Path) -> None:
    program = load_program(_with_followup(tiny_programme))
    assert [m.id for m in program.released_modules(["s1"])] == ["tiny-tech", "tiny-mgmt"]
    assert [m.id for m in program.released_modules([], followup=True)] == ["three-months-on"]


def test_tandem_validate_reports_the_followup(
    tiny_programme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["validate", str(_with_followup(tiny_programme))], capsys)
    assert code == 0, err
    assert "follow-up three-months-on after 91 days" in out
