"""The demo: what it says about the check-in it damages on purpose, and the facilitator's
site naming that file as the facilitator finds it in the workspace."""

from __future__ import annotations

from pathlib import Path

from tandem.demo import run_demo

from .conftest import MANIFEST


def test_the_deliberately_damaged_check_in_is_reported_as_deliberate_and_relative(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    result = run_demo(
        tmp_path / "demo", pairs=1, sessions=1, curriculum=MANIFEST, progress=said.append
    )

    [skipped] = [line for line in said if "check-in skipped" in line]
    assert skipped.startswith(
        "  check-in skipped, as intended (the demo damaged this file on purpose, to show "
        "that a bad check-in is reported and the rest still counts): "
    )
    [problem] = result.reports.checkin_problems
    assert problem.path is not None
    relative = problem.path.resolve().relative_to(result.workspace.resolve()).as_posix()
    site = (result.workspace / "reports" / "facilitator" / "index.html").read_text()
    section = site[site.index("Check-ins skipped") :]
    assert f"<li>{relative}: Invalid JSON" in section
    assert str(result.workspace.resolve()) not in section
    assert str(tmp_path) not in section
