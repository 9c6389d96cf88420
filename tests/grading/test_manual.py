"""Grades by hand from a rubric sheet: ``tandem grades template`` writes it, ``tandem grades
import`` records it through nbgrader's gradebook, every row checked first."""

from __future__ import annotations

import csv
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tandem.cohort.workspace import Workspace
from tandem.errors import GradingError
from tandem.grading.checkpoints import grade_session, read_score
from tandem.grading.manual import TEMPLATE_COLUMNS, import_grades, write_template

from ..factories import run_cli, submit

pytestmark = pytest.mark.slow  # real nbgrader autograding

HEADER = "participant,module,grade_id,points,comment\n"


@pytest.fixture
def graded(cohort_at: Callable[..., Workspace]) -> Workspace:
    """Session s1 autograded: s1 (tiny-tech) and j1 (tiny-mgmt) submitted, s2 and j2 not."""
    ws = cohort_at("released")
    submit(ws, "s1", "tiny-tech", "full")
    submit(ws, "j1", "tiny-mgmt", "full")
    grade_session(ws.root, "s1")
    return ws


def _sheet(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rubric.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _written(ws: Workspace, module: str, participant: str) -> tuple[float | None, bool]:
    score = read_score(ws, ws.load(), module, participant)
    assert score is not None
    return score.manual_score, score.manual_pending


def _comment(ws: Workspace, module: str, participant: str) -> str | None:
    with ws.gradebook(ws.load()) as gradebook:
        comment = gradebook.find_comment("explain", "checkpoint", module, participant)
        return comment.manual_comment  # type: ignore[no-any-return]


def test_a_rubric_sheet_records_grades_by_hand_as_formgrader_does(
    graded: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = graded
    assert _written(ws, "tiny-tech", "s1") == (None, True)
    sheet = _sheet(tmp_path, "s1,tiny-tech,explain,1,Clear and specific\nj1,tiny-mgmt,explain,,\n")

    code, out, err = run_cli(["grades", "import", str(ws.root), str(sheet)], capsys)

    assert code == 0, err
    assert "Recorded 1 grades and 1 comments (1 rows left empty)" in out
    assert _written(ws, "tiny-tech", "s1") == (1, False)
    assert _comment(ws, "tiny-tech", "s1") == "Clear and specific"
    assert _written(ws, "tiny-mgmt", "j1") == (None, True)  # an empty row changes nothing


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("s1,tiny-tech,nope,1,", "line 3): unknown grade id 'nope' in tiny-tech (known: "),
        ("s1,tiny-tech,explain,2,", "line 3): points 2 over the maximum 1 of explain"),
        ("s1,tiny-tech,explain,-1,", "line 3): points '-1' must be 0 or more"),
        ("s1,tiny-tech,explain,one,", "line 3): points 'one' is not a number"),
        ("zz,tiny-tech,explain,1,", "line 3): unknown participant 'zz'"),
        ("s1,tiny-nope,explain,1,", "line 3): unknown module 'tiny-nope'"),
        ("s2,tiny-tech,explain,1,", "line 3): s2 has no graded submission of tiny-tech"),
        ("s1,tiny-tech,test_double,1,good", "line 3): test_double is not an answer cell"),
        ("j1,tiny-mgmt,explain,0,", "line 3): explain of j1 on tiny-mgmt is graded twice (line 2"),
    ],
)
def test_a_wrong_row_is_an_error_naming_it_and_nothing_is_recorded(
    graded: Workspace, tmp_path: Path, row: str, message: str
) -> None:
    ws = graded
    sheet = _sheet(tmp_path, f"j1,tiny-mgmt,explain,1,\n{row}\n")
    with pytest.raises(GradingError) as info:
        import_grades(ws.root, sheet)
    assert f"{sheet} ({message}" in str(info.value)
    assert _written(ws, "tiny-mgmt", "j1") == (None, True)  # line 2 was right, yet not recorded


def test_a_sheet_without_a_needed_column_is_refused(graded: Workspace, tmp_path: Path) -> None:
    sheet = tmp_path / "rubric.csv"
    sheet.write_text("participant,module,points\ns1,tiny-tech,1\n", encoding="utf-8")
    with pytest.raises(GradingError, match=r"line 1\): missing column\(s\): grade_id, comment"):
        import_grades(graded.root, sheet)


def test_the_template_lists_each_written_answer_and_imports_back(
    graded: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = graded
    out = tmp_path / "sheet.csv"
    code, printed, err = run_cli(
        ["grades", "template", str(ws.root), "s1", "--out", str(out)], capsys
    )
    assert code == 0, err
    assert str(out) in printed
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # grades: for the facilitator only
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(TEMPLATE_COLUMNS)
    assert [(r["participant"], r["module"], r["grade_id"], r["max_points"]) for r in rows] == [
        ("s1", "tiny-tech", "explain", "1"),
        ("j1", "tiny-mgmt", "explain", "1"),
    ]  # written answers only, of graded submissions only
    assert all(r["points"] == "" and r["comment"] == "" for r in rows)

    rows[0]["points"], rows[0]["comment"] = "0.5", "Half there"
    with out.open("w", encoding="utf-8-sig", newline="") as handle:  # as Excel saves it
        writer = csv.DictWriter(handle, fieldnames=TEMPLATE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert import_grades(ws.root, out).grades == 1
    assert _written(ws, "tiny-tech", "s1") == (0.5, False)
    write_template(ws.root, "s1", out)
    with out.open(encoding="utf-8", newline="") as handle:
        again = list(csv.DictReader(handle))
    assert (again[0]["points"], again[0]["comment"]) == ("0.5", "Half there")
