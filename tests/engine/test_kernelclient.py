"""Tandem's kernel manager: ready as soon as the kernel is, nothing lost or left over."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from tandem.engine import kernels
from tandem.engine.jobs import QUIET_KERNEL
from tandem.engine.kernelclient import KernelManager, ReadyKernelClient


@pytest.fixture(params=["fork", "plain"])
def kernel_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    factory = KernelProvisionerFactory.instance()
    before = factory.default_provisioner_name
    kernels.use(request.param)
    try:
        yield request.param
    finally:
        factory.default_provisioner_name = before


async def _start_run_stop(code: str) -> dict[str, Any]:
    km = KernelManager(kernel_name="python3")
    await km.start_kernel(extra_arguments=list(QUIET_KERNEL))
    pid = km.provisioner.pid  # type: ignore[union-attr]
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        left = {
            "iopub": await kc.iopub_channel.msg_ready(),
            "shell": await kc.shell_channel.msg_ready(),
        }
        printed: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])

        reply = await kc.execute_interactive(code, output_hook=hook, timeout=30)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return {
        "client": kc,
        "left": left,
        "printed": "".join(printed),
        "status": reply["content"]["status"],
        "alive_after_shutdown": psutil.pid_exists(pid)
        and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE,
    }


def _run(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an
    event loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.mark.parametrize("attempt", range(3))
def test_the_client_is_ready_with_nothing_left_over_from_start_up(
    kernel_mode: str, attempt: int
) -> None:
    """Three kernels in a row per mode: IOPub connects at a different moment each time."""
    result = _run(_start_run_stop("print('first cell', 6 * 7)"))
    assert isinstance(result["client"], ReadyKernelClient)
    # Everything start-up produced was consumed, as jupyter_client's flush guarantees ...
    assert result["left"] == {"iopub": False, "shell": False}
    # ... and IOPub is connected: the very first cell's output arrives.
    assert result["status"] == "ok"
    assert result["printed"] == "first cell 42\n"
    # Shutting down waits until the kernel is gone.
    assert not result["alive_after_shutdown"]
