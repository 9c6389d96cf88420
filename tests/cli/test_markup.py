"""What people typed (cohort names, roster names) is printed as typed: never read as rich
markup, so square brackets neither vanish, restyle the output nor crash a command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ..factories import run_cli as run

BRACKETS = "[/oops]"
ROSTER = """id,name,email,role,department,rate_tiny-skill,rate_tiny-lead
j1,Ada [bold]Junior[/bold],ada@example.org,junior,IT [/x],5,1
s1,Sam [/] Senior,sam@example.org,senior,Operations,1,5
"""


def test_cohort_init_prints_a_cohort_name_in_square_brackets_as_typed(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    workspace, roster = tmp_path / "c", write_roster(ROSTER)
    argv = ["cohort", "init", str(workspace), "--roster", str(roster)]
    argv += ["--curriculum", str(tiny_programme), "--name", BRACKETS, "--match", "--explain"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert f"Created cohort '{BRACKETS}'" in out
    assert yaml.safe_load((workspace / "cohort.yml").read_text())["name"] == BRACKETS
    code, out, err = run(["status", str(workspace)], capsys)
    assert code == 0, err
    assert BRACKETS in out
    code, out, err = run(["match", str(roster), "--curriculum", str(tiny_programme)], capsys)
    assert code == 0, err
    assert "Ada [bold]Junior[/bold]" in out and "Sam [/] Senior" in out
