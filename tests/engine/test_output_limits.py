"""Output limits, applied by the kernel client as IOPub messages arrive (real kernels)."""

from __future__ import annotations

import json
import re
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


# -- the kernel's own cap (tandem.engine.kernelcap), below the client's limits ---------

KERNEL_CAP = 300_000
FLOOD = (
    "import sys\n"
    "for _ in range(50):\n"
    "    print('y' * 100_000)\n"
    "for _ in range(50):\n"
    "    print('e' * 100_000, file=sys.stderr)"
)
CELLS = (FLOOD, "print('small')", "for _ in range(50):\n    print('z' * 100_000)\n1 / 0")


async def _run_in_one_kernel(level: str, folder: str) -> list[dict[str, Any]]:
    """Run :data:`CELLS` in one kernel whose manager asks for a 0.3 MB cap, through a
    client whose own limits are far above it: what arrives is what the kernel sent.
    ``folder`` is the job's folder (the sandbox gives it to the kernel's uid)."""
    import os

    from traitlets.config import Config

    from tandem.engine import kernelcap, sandbox
    from tandem.engine.jobs import QUIET_KERNEL
    from tandem.engine.kernelclient import KernelManager

    config = Config(
        {
            kernelcap.SECTION: {kernelcap.TRAIT: KERNEL_CAP},
            "ReadyKernelClient": {"max_stream_bytes": 10**9, "max_output_bytes": 10**10},
        }
    )
    km = KernelManager(kernel_name="python3", config=config)
    await km.start_kernel(
        extra_arguments=list(QUIET_KERNEL),
        env={**os.environ, sandbox.SANDBOX_ENV: level},
        cwd=folder,
    )
    kc = km.client()
    kc.start_channels()
    cells: list[dict[str, Any]] = []
    try:
        await kc.wait_for_ready(timeout=60)
        for code in CELLS:
            cell: dict[str, Any] = {"stdout": [], "stderr": [], "errors": []}

            def hook(message: dict[str, Any], cell: dict[str, Any] = cell) -> None:
                if message["msg_type"] == "stream":
                    cell[message["content"]["name"]].append(message["content"]["text"])
                elif message["msg_type"] == "error":
                    cell["errors"].append(message["content"])

            reply = await kc.execute_interactive(code, output_hook=hook, timeout=60)
            cell["reply"] = reply["content"]
            cells.append(
                {k: "".join(v) if k in ("stdout", "stderr") else v for k, v in cell.items()}
            )
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return cells


@pytest.fixture(
    scope="module",
    params=[("fork", "off"), ("fork", "auto"), ("plain", "off")],
    ids=["forked", "forked-sandboxed", "cold"],
)
def capped(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    import asyncio
    import tempfile

    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    from tandem.engine import kernels, sandbox

    mode, choice = request.param
    level = sandbox.resolve(choice, kernels=mode)
    if choice != "off" and level == "off":
        pytest.skip("no sandbox for kernels here")
    factory = KernelProvisionerFactory.instance()
    before = factory.default_provisioner_name
    kernels.use(mode)
    try:
        # a folder like the ones jobs run in: the sandbox hands it to the kernel's uid
        with tempfile.TemporaryDirectory(prefix="tandem-job-") as folder:
            return asyncio.run(_run_in_one_kernel(level, folder))
    finally:
        factory.default_provisioner_name = before


def test_the_kernel_drops_what_a_cell_prints_beyond_its_cap(
    capped: list[dict[str, Any]],
) -> None:
    """5 MB printed to each stream: the kernel sends 0.3 MB of each and one marker."""
    flood = capped[0]
    for name, char in (("stdout", "y"), ("stderr", "e")):
        text = flood[name]
        assert text.startswith(char * 1000), name
        marker = (
            f"[Tandem: output dropped by the kernel: this cell wrote more than 0.3 MB to {name}]\n"
        )
        assert text.endswith(marker), text[-200:]
        assert text.count("[Tandem:") == 1
        assert len(text) == KERNEL_CAP + len(marker) + 1  # the kept bytes, a newline, the marker


def test_the_kernels_count_starts_again_at_each_request(capped: list[dict[str, Any]]) -> None:
    assert capped[1]["stdout"] == "small\n"
    assert capped[1]["reply"]["status"] == "ok"
    assert capped[2]["stdout"].endswith("more than 0.3 MB to stdout]\n")
    assert KERNEL_CAP < len(capped[2]["stdout"]) < KERNEL_CAP + 200


def test_an_error_after_a_flood_is_sent_whole(capped: list[dict[str, Any]]) -> None:
    [error] = capped[2]["errors"]
    assert error["ename"] == "ZeroDivisionError"
    assert error["evalue"] == "division by zero"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))  # no colours
    assert "----> 3 1 / 0" in plain
    assert capped[2]["reply"]["status"] == "error"
    assert capped[2]["reply"]["ename"] == "ZeroDivisionError"


@pytest.mark.parametrize("kernels", ["fork", "plain"])
def test_a_jobs_kernel_caps_its_streams_at_twice_the_clients_limit(kernels: str) -> None:
    work = Work(
        f"cap-{kernels}",
        "papermill",
        notebook(
            "import sys\nfrom tandem.engine import kernelcap\n"
            "print(kernelcap.cap(), [a for a in sys.argv if 'KernelOutputCap' in a])"
        ),
        kernels=kernels,
        cell_timeout=60,
        max_stream_bytes=123_000,
    )
    outcome = run_work(work)
    assert outcome.ok and outcome.notebook is not None, outcome.error
    assert stream_text(outputs(outcome.notebook)[0]) == "246000 []\n"
