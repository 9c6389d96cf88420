"""The batch engine: manifests, resumption, one failure never stops the rest, parameters."""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest

from tandem.engine.batch import (
    Job,
    check_parameters,
    load_job_table,
    raise_for_failures,
    run_jobs,
    table_jobs,
)
from tandem.errors import BatchError, TandemError

from ..conftest import FIXTURES

NOTEBOOKS = FIXTURES / "notebooks"


def _jobs(tmp_path: Path) -> list[Job]:
    return [
        Job(
            id="hello",
            notebook=NOTEBOOKS / "parameters_printed.ipynb",
            output=tmp_path / "out" / "hello.ipynb",
            parameters={"greeting": "hello, Tandem"},
            html=tmp_path / "out" / "hello.html",
        ),
        Job(
            id="broken",
            notebook=NOTEBOOKS / "raises_value_error.ipynb",
            output=tmp_path / "out" / "broken.ipynb",
        ),
        Job(
            id="after",
            notebook=NOTEBOOKS / "parameters_printed.ipynb",
            output=tmp_path / "out" / "after.ipynb",
            parameters={"greeting": "still ran"},
        ),
    ]


def test_a_failing_job_is_recorded_and_the_rest_still_run(tmp_path: Path) -> None:
    manifest = tmp_path / "runs" / "demo.json"
    records = run_jobs(_jobs(tmp_path), manifest)
    assert [(r.id, r.status) for r in records] == [
        ("hello", "done"),
        ("broken", "failed"),
        ("after", "done"),
    ]
    assert records[1].error is not None
    assert "ValueError: this notebook always fails" in records[1].error
    out = nbformat.read(tmp_path / "out" / "after.ipynb", as_version=4)
    assert "still ran" in out.cells[-1].outputs[0]["text"]
    assert "hello, Tandem" in (tmp_path / "out" / "hello.html").read_text()
    saved = json.loads(manifest.read_text())
    assert [(j["id"], j["status"]) for j in saved["jobs"]] == [
        ("hello", "done"),
        ("broken", "failed"),
        ("after", "done"),
    ]
    assert all(j["seconds"] > 0 for j in saved["jobs"])
    with pytest.raises(BatchError, match="1 of 3 jobs failed: broken: cell 1: ValueError"):
        raise_for_failures(records)


def test_a_rerun_skips_finished_jobs_unless_forced(tmp_path: Path) -> None:
    manifest = tmp_path / "runs" / "demo.json"
    run_jobs(_jobs(tmp_path), manifest)
    again = run_jobs(_jobs(tmp_path), manifest)
    assert [r.status for r in again] == ["skipped", "failed", "skipped"]
    assert [j["status"] for j in json.loads(manifest.read_text())["jobs"]] == [
        "done",
        "failed",
        "done",
    ]
    forced = run_jobs(_jobs(tmp_path)[:1], manifest, force=True)
    assert [r.status for r in forced] == ["done"]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"not valid": 1}, "'not valid' is not a Python identifier"),
        ({"class": 1}, "'class' is not a Python identifier"),
        ({"x": math.nan}, "nan is not a plain JSON number"),
        ({"x": {1: "a"}}, "object keys must be strings"),
        ({"x": object()}, "object is not a plain JSON value"),
    ],
)
def test_parameters_must_be_identifiers_and_plain_json(
    parameters: dict[str, object], message: str
) -> None:
    with pytest.raises(TandemError, match=message):
        check_parameters(parameters, job="j")


def test_bad_parameters_are_refused_before_anything_runs(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path)
    jobs.append(
        Job(
            id="bad",
            notebook=NOTEBOOKS / "parameters_printed.ipynb",
            output=tmp_path / "bad.ipynb",
            parameters={"2x": 1},
        )
    )
    with pytest.raises(TandemError, match="bad"):
        run_jobs(jobs, tmp_path / "m.json")
    assert not (tmp_path / "out").exists()


def test_plain_json_parameters_pass() -> None:
    check_parameters({"a": [1, 2.5, None, True, {"b": "c"}], "_private": ""})


def _table(tmp_path: Path, csv_text: str) -> list[tuple[str, dict[str, object]]]:
    rows = tmp_path / "jobs.csv"
    rows.write_text(csv_text, encoding="utf-8")
    return load_job_table(rows)


def test_job_ids_in_other_scripts_stay_distinct(tmp_path: Path) -> None:
    rows = _table(tmp_path, "id,greeting\n日本,a\n中国,b\nВесна 2027,c\nОсень 2027,d\n")
    jobs = table_jobs(NOTEBOOKS / "parameters_printed.ipynb", rows, tmp_path / "out")
    assert [job.id for job in jobs] == ["riben", "zhongguo", "vesna-2027", "osen-2027"]


def test_two_rows_giving_one_job_id_are_refused_naming_both(tmp_path: Path) -> None:
    rows = _table(tmp_path, "id,greeting\nAmara,a\nBo,b\namara,c\n")
    with pytest.raises(TandemError) as refused:
        table_jobs(NOTEBOOKS / "parameters_printed.ipynb", rows, tmp_path / "out")
    assert str(refused.value) == (
        "jobs.csv:4: job id 'amara' repeats jobs.csv:2 "
        "(made from 'Amara' there and 'amara' here): make the two distinct"
    )


def test_a_job_id_with_no_letter_or_digit_is_refused(tmp_path: Path) -> None:
    rows = _table(tmp_path, "id,greeting\n!!!,a\n")
    with pytest.raises(TandemError, match=r"jobs\.csv:2: job id '!!!' has no letter or digit"):
        table_jobs(NOTEBOOKS / "parameters_printed.ipynb", rows, tmp_path / "out")


def test_a_look_alike_parameter_name_is_refused_naming_the_one_it_overrides(
    tmp_path: Path,
) -> None:
    rows = tmp_path / "jobs.csv"
    rows.write_text("id,value,ｖalue\na,1,2\n", encoding="utf-8")
    with pytest.raises(TandemError) as refused:
        load_job_table(rows)
    assert "jobs.csv:2: parameter name 'ｖalue' reads as 'value' in Python" in str(refused.value)


def test_parameter_names_must_be_ascii(tmp_path: Path) -> None:
    with pytest.raises(TandemError, match="'größe' is not ASCII"):
        check_parameters({"größe": 1}, job="j")


def test_only_json_numbers_in_csv_cells_become_numbers(tmp_path: Path) -> None:
    cells = {
        "zeros": ("007", "007"),
        "underscore": ("1_000", "1_000"),
        "plus": ("+5", "+5"),
        "bare_point": (".5", ".5"),
        "too_big": ("1e999", "1e999"),
        "integer": ("7", 7),
        "negative": ("-0.5", -0.5),
        "exponent": ("1e3", 1000.0),
        "zero": ("0", 0),
    }
    header = ",".join(cells)
    row = ",".join(cell for cell, _ in cells.values())
    [(_, parameters)] = _table(tmp_path, f"{header}\n{row}\n")
    expected = {name: value for name, (_, value) in cells.items()}
    assert parameters == expected
    assert {k: type(v) for k, v in parameters.items()} == {k: type(v) for k, v in expected.items()}


def test_a_multi_line_csv_cell_reaches_the_notebook_exactly(tmp_path: Path) -> None:
    rows = _table(tmp_path, 'id,greeting\na,"line1\nline2"\nb,"x\r\n  y"\nc,plain\n')
    assert rows == [
        ("jobs.csv:2", {"id": "a", "greeting": "line1\nline2"}),
        ("jobs.csv:4", {"id": "b", "greeting": "x\r\n  y"}),
        ("jobs.csv:6", {"id": "c", "greeting": "plain"}),
    ]
    jobs = table_jobs(NOTEBOOKS / "parameters_printed.ipynb", rows[:1], tmp_path / "out")
    [record] = run_jobs(jobs, tmp_path / "out" / "manifest.json")
    assert record.status == "done", record.error
    out = nbformat.read(tmp_path / "out" / "a.ipynb", as_version=4)
    assert out.cells[-1].outputs[0]["text"] == "line1\nline2\n"


def test_a_misspelt_parameter_column_is_refused_naming_it_and_the_notebooks_parameters(
    tmp_path: Path,
) -> None:
    rows = _table(tmp_path, "id,greting\na,hi\n")
    with pytest.raises(BatchError) as refused:
        table_jobs(NOTEBOOKS / "parameters_printed.ipynb", rows, tmp_path / "out")
    assert str(refused.value) == (
        "jobs.csv:2: column 'greting' is not a parameter of parameters_printed.ipynb "
        "(did you mean 'greeting'? its parameters: greeting)"
    )
    assert not (tmp_path / "out").exists()


def test_parameters_for_a_notebook_without_a_parameters_cell_are_refused(
    tmp_path: Path,
) -> None:
    rows = _table(tmp_path, "id,level\na,3\n")
    with pytest.raises(BatchError, match=r"column 'level' .* no cell tagged 'parameters'"):
        table_jobs(NOTEBOOKS / "raises_value_error.ipynb", rows, tmp_path / "out")


def test_every_name_a_parameters_cell_assigns_is_a_parameter(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "low, high = 1, 5\nlabel: str = 'x'\nif True:\n    hidden = 1",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell("print(low, high, label)"),
    ]
    path = tmp_path / "ranges.ipynb"
    nbformat.write(notebook, path)
    rows = _table(tmp_path, "low,high,label\n2,4,y\n")
    [job] = table_jobs(path, rows, tmp_path / "out")
    assert job.parameters == {"low": 2, "high": 4, "label": "y"}


def test_a_failed_cell_is_numbered_as_the_author_sees_it(tmp_path: Path) -> None:
    """Cell 4 of the notebook as written, markdown cells included: not papermill's
    execution count (3, with its injected parameters cell), nor its index."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A report"),
        nbformat.v4.new_code_cell("pair = ''", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("Now the figures."),
        nbformat.v4.new_code_cell("raise ValueError(pair)"),
    ]
    path = tmp_path / "fails.ipynb"
    nbformat.write(notebook, path)
    job = Job(id="p1", notebook=path, output=tmp_path / "p1.ipynb", parameters={"pair": "p1"})
    [record] = run_jobs([job], tmp_path / "manifest.json")
    assert record.error == "cell 4: ValueError: p1"
