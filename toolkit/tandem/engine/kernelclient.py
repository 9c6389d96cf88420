"""A kernel manager whose client is ready as soon as its kernel is.

jupyter_client's ``wait_for_ready`` sends ``kernel_info`` until a reply comes, checks that
IOPub is connected, then *flushes* IOPub: it reads until 0.2 s pass with no message.
That flush is idle time paid by every kernel start (0.2 s a job; a report's whole
in-kernel run is ~0.3 s). :class:`ReadyKernelClient` ends the wait on a fact instead:
the kernel's ``status: idle`` on IOPub for the very ``kernel_info`` request it answered.
ipykernel publishes that status after the reply, so once it is read IOPub is connected
and every message the start-up produced has been consumed, which is what the flush is
for. If IOPub was not connected yet, the status was lost: the client asks again as soon as
IOPub says it has connected (ipykernel's ``iopub_welcome``), or after 0.2 s of silence
from a kernel that does not say so, as jupyter_client does.

:class:`KernelManager` is jupyter_client's ``AsyncKernelManager`` with that client. Tandem
hands it to papermill (``kernel_manager_class``) and to nbgrader's ``Execute``
(``Execute.kernel_manager_class``); kernels, provisioners and messages are unchanged.
"""

from __future__ import annotations

import math
import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

#: The dotted name of :class:`KernelManager`, for configuration that travels as JSON.
MANAGER = "tandem.engine.kernelclient.KernelManager"
#: How long a silent IOPub means "not connected yet", as in jupyter_client.
IOPUB_SILENCE = 0.2


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's async client, ready when the kernel reports idle after kernel_info."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Wait until the kernel answers kernel_info and IOPub has delivered its idle status."""
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            asked = self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            answered = reply is not None and reply["msg_type"] == "kernel_info_reply"
            if answered and await self._idle_after(asked):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _idle_after(self, asked: str) -> bool:
        """Read IOPub up to the kernel's idle status after the ``asked`` request.

        False, to ask again, when IOPub has only just connected (ipykernel's
        ``iopub_welcome``: the status may have been published before) or stays silent for
        :data:`IOPUB_SILENCE` (a kernel without the welcome, not connected yet)."""
        while True:
            try:
                message: dict[str, Any] = await self.iopub_channel.get_msg(timeout=IOPUB_SILENCE)
            except Empty:
                return False
            kind = message["msg_type"]
            if kind == "iopub_welcome":
                return False
            if (
                kind == "status"
                and message["content"].get("execution_state") == "idle"
                and message["parent_header"].get("msg_id") == asked
            ):
                return True


class KernelManager(AsyncKernelManager):
    """jupyter_client's async kernel manager, with :class:`ReadyKernelClient` as client."""

    client_class = DottedObjectName("tandem.engine.kernelclient.ReadyKernelClient", config=True)
    client_factory = Type(klass=ReadyKernelClient, config=True)  # what client() builds
