"""Output limits, applied by the kernel client as IOPub messages arrive (real kernels)."""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest

from tandem.engine.jobs import Work, run_work
from tandem.engine.kernelclient import OutputLimiter

pytestmark = pytest.mark.slow  # real kernels


def notebook(*sources: str) -> str:
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    node.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nbformat.writes(node)


def outputs(text: str) -> list[list[dict[str, Any]]]:
    cells = json.loads(text)["cells"]
    return [c["outputs"] for c in cells if c["cell_type"] == "code"]


def stream_text(cell: list[dict[str, Any]]) -> str:
    return "".join("".join(o["text"]) for o in cell if o["output_type"] == "stream")


@pytest.fixture(scope="module")
def executed() -> tuple[str, list[list[dict[str, Any]]]]:
    """One notebook, run once with small limits: 100 kB per stream, 300 kB in all."""
    work = Work(
        "limits",
        "papermill",
        notebook(
            "import time\nend = time.time() + 2\nwhile time.time() < end:\n    print('y' * 1000)",
            "import sys\nfor _ in range(20):\n    print('x' * 100_000, file=sys.stderr)",
            "print('small')",
            "for _ in range(5):\n    print('z' * 100_000)",
            "print('after the notebook is full')",
            "raise ValueError('v' * 500_000)",
        ),
        kernels="fork",
        cell_timeout=60,
        max_stream_bytes=100_000,
        max_output_bytes=300_000,
    )
    outcome = run_work(work)
    assert outcome.notebook is not None, outcome.error
    return outcome.notebook, outputs(outcome.notebook)


def test_a_print_loop_keeps_its_first_bytes_and_a_marker(
    executed: tuple[str, list[list[dict[str, Any]]]],
) -> None:
    _, cells = executed
    text = stream_text(cells[0])
    assert text.startswith("y" * 1000)
    assert text.endswith("[Tandem: output truncated: this cell wrote more than 0.1 MB to stdout]\n")
    assert 99_000 < len(text) < 101_000


def test_each_stream_of_a_cell_has_its_own_limit(
    executed: tuple[str, list[list[dict[str, Any]]]],
) -> None:
    _, cells = executed
    [stderr] = [o for o in cells[1] if o["output_type"] == "stream"]
    assert stderr["name"] == "stderr"
    assert "to stderr]" in "".join(stderr["text"])
    assert stream_text(cells[2]) == "small\n"


def test_the_notebooks_outputs_stop_at_its_limit_with_a_marker_per_cell(
    executed: tuple[str, list[list[dict[str, Any]]]],
) -> None:
    _, cells = executed
    assert "this notebook's outputs reached 0.3 MB" in stream_text(cells[3])
    assert "this notebook's outputs reached 0.3 MB" in stream_text(cells[4])
    assert "after the notebook is full" not in stream_text(cells[4])


def test_an_error_is_always_kept_and_cut_to_its_ends(
    executed: tuple[str, list[list[dict[str, Any]]]],
) -> None:
    text, cells = executed
    [error] = [o for o in cells[5] if o["output_type"] == "error"]
    assert error["ename"] == "ValueError"
    assert error["evalue"].endswith("[Tandem: line truncated]")
    assert len(error["evalue"]) < 100_000
    assert len(text) < 700_000  # 0.3 MB of outputs and the error, JSON-escaped


def test_a_long_traceback_keeps_its_first_and_last_lines() -> None:
    limiter = OutputLimiter(max_stream_bytes=10_000, max_output_bytes=100_000)
    lines = [f"frame {i}: " + "t" * 200 for i in range(200)]
    message = {
        "msg_type": "error",
        "parent_header": {"msg_id": "cell"},
        "content": {"ename": "RecursionError", "evalue": "deep", "traceback": lines},
    }
    kept = limiter.admit(message)
    assert kept is not None
    traceback = kept["content"]["traceback"]
    assert traceback[0].startswith("frame 0:") and traceback[-1].startswith("frame 199:")
    assert "[Tandem: 160 traceback lines not kept]" in traceback
    assert sum(len(line) for line in traceback) <= 12_000
