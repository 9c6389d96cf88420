"""The `tandem` command line: help texts, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tandem.cli import main

from .conftest import MANIFEST, ROSTER_2_PAIRS

COMMANDS = [
    [],
    ["validate"],
    ["cohort"],
    ["cohort", "init"],
    ["release"],
    ["grade"],
    ["report"],
    ["demo"],
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "tandem")
def test_every_command_explains_itself(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    assert "Usage: tandem" in out
    assert len(out.split()) > 15


def test_missing_roster_file_is_one_line_and_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        [
            "cohort",
            "init",
            str(tmp_path / "c"),
            "--roster",
            str(tmp_path / "missing.csv"),
            "--curriculum",
            str(MANIFEST),
        ],
        capsys,
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [f"tandem: error: {tmp_path / 'missing.csv'}: roster file not found"]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["release"], capsys)
    assert code == 2
    assert "Missing argument" in err


def test_validate_ok_and_broken(
    tmp_path: Path, tiny_programme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["validate", str(MANIFEST)], capsys)
    assert code == 0 and out.startswith("OK: ")
    (tiny_programme.parent / "s1" / "tiny-tech.ipynb").unlink()
    code, _, err = run(["validate", str(tiny_programme)], capsys)
    assert code == 1
    assert "tiny-tech.ipynb (module tiny-tech: lesson): lesson notebook not found" in err


def test_cohort_init_and_release(
    tmp_path: Path,
    tiny_programme: Path,
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = write_roster(ROSTER_2_PAIRS)
    code, out, _ = run(
        [
            "cohort",
            "init",
            str(tmp_path / "c"),
            "--roster",
            str(roster),
            "--curriculum",
            str(tiny_programme),
            "--name",
            "Pilot",
        ],
        capsys,
    )
    assert code == 0 and "4 participants, 2 pairs" in out
    code, out, _ = run(["release", str(tmp_path / "c"), "s1"], capsys)
    assert code == 0 and "Released tiny-tech" in out and "Released tiny-mgmt" in out


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "tandem"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("tandem ")
