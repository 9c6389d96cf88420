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
(``Execute.kernel_manager_class``); kernels and provisioners are unchanged.

Its client also bounds what a kernel can make its client hold (:class:`OutputLimiter`),
as IOPub messages arrive, before nbclient adds them to the notebook: at most
``max_stream_bytes`` per output stream per cell and ``max_output_bytes`` of outputs per
notebook, cut with a visible marker; later stream messages of a cut stream are read and
dropped, so a print loop costs CPU until the cell's timeout, not memory. Error outputs are
always kept (a long traceback keeps its first and last lines).
"""

from __future__ import annotations

import math
import re
import time
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Int, Type

#: The dotted name of :class:`KernelManager`, for configuration that travels as JSON.
MANAGER = "tandem.engine.kernelclient.KernelManager"
#: How long a silent IOPub means "not connected yet", as in jupyter_client.
IOPUB_SILENCE = 0.2
#: Output limits (bytes of UTF-8 text or JSON): per output stream per cell, per notebook.
MAX_STREAM_BYTES = 1_000_000
MAX_OUTPUT_BYTES = 10_000_000
#: IOPub messages the client's socket queues before the kernel's side holds them.
IOPUB_QUEUE = 4
#: A long traceback keeps this many of its first and of its last lines.
TRACEBACK_ENDS = 20
RICH_OUTPUTS = ("display_data", "execute_result", "update_display_data")


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 (never inside a character)."""
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= limit else data[: max(0, limit)].decode("utf-8", "ignore")


def _megabytes(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB"


class OutputLimiter:
    """What one kernel's outputs may cost its client, applied message by message.

    ``admit`` returns the message to hand on (possibly cut, or replaced by a marker) or
    None to drop it. Counts never go down (``clear_output`` frees nothing here)."""

    def __init__(self, max_stream_bytes: int, max_output_bytes: int) -> None:
        self.max_stream_bytes, self.max_output_bytes = max_stream_bytes, max_output_bytes
        self.streams: dict[tuple[str, str], int] = {}  # (cell's request, stream) -> bytes
        self.cut: set[tuple[str, str]] = set()  # streams already cut: their marker is out
        self.total = 0
        self.full_cells: set[str] = set()  # cells told that the notebook's outputs are full

    def admit(self, message: dict[str, Any]) -> dict[str, Any] | None:
        kind = message["msg_type"]
        if kind == DROPPED:
            return None
        if kind == "stream":
            return self._stream(message)
        if kind == "error":
            return self._error(message)
        if kind in RICH_OUTPUTS:
            return self._rich(message)
        return message

    def _parent(self, message: dict[str, Any]) -> str:
        return str(message.get("parent_header", {}).get("msg_id", ""))

    def _stream(self, message: dict[str, Any]) -> dict[str, Any] | None:
        content = message["content"]
        key = (self._parent(message), str(content.get("name", "stdout")))
        if key in self.cut:
            return None
        text = str(content.get("text", ""))
        size = _size(text)
        used = self.streams.get(key, 0)
        room = min(self.max_stream_bytes - used, self.max_output_bytes - self.total)
        if size <= room:
            self.streams[key] = used + size
            self.total += size
            return message
        self.cut.add(key)
        if self.max_output_bytes - self.total < self.max_stream_bytes - used:
            why = f"this notebook's outputs reached {_megabytes(self.max_output_bytes)}"
            self.full_cells.add(key[0])
        else:
            why = f"this cell wrote more than {_megabytes(self.max_stream_bytes)} to {key[1]}"
        kept = _cut(text, max(0, room))
        self.streams[key] = used + _size(kept)
        self.total += _size(kept)
        marker = f"\n[Tandem: output truncated: {why}]\n"
        return {**message, "content": {**content, "text": kept + marker}}

    def _rich(self, message: dict[str, Any]) -> dict[str, Any] | None:
        import json

        parent = self._parent(message)
        size = _size(json.dumps(message["content"].get("data", {})))
        if size <= self.max_output_bytes - self.total:
            self.total += size
            return message
        if parent in self.full_cells:
            return None
        self.full_cells.add(parent)
        why = f"this notebook's outputs reached {_megabytes(self.max_output_bytes)}"
        text = f"[Tandem: output not kept: {why}]\n"
        return {**message, "msg_type": "stream", "content": {"name": "stdout", "text": text}}

    def _error(self, message: dict[str, Any]) -> dict[str, Any]:
        """Always kept; cut to its first and last lines when longer than a stream's limit."""
        content = message["content"]
        lines = [str(line) for line in content.get("traceback", [])]
        budget = self.max_stream_bytes
        size = sum(map(_size, lines)) + _size(str(content.get("evalue", "")))
        if size > budget:
            line_budget = max(1, budget // (2 * TRACEBACK_ENDS + 2))
            if len(lines) > 2 * TRACEBACK_ENDS:
                skipped = len(lines) - 2 * TRACEBACK_ENDS
                note = f"[Tandem: {skipped} traceback lines not kept]"
                lines = [*lines[:TRACEBACK_ENDS], note, *lines[-TRACEBACK_ENDS:]]
            lines = [_cut_line(line, line_budget) for line in lines]
            content = {
                **content,
                "evalue": _cut_line(str(content.get("evalue", "")), line_budget),
                "traceback": lines,
            }
            message = {**message, "content": content}
            size = sum(map(_size, lines))
        self.total += size
        return message


def _cut_line(line: str, limit: int) -> str:
    return line if _size(line) <= limit else _cut(line, limit) + " [Tandem: line truncated]"


#: A stream message's packed content starts with its name (ipykernel's ``OutStream``).
_STREAM_NAME = re.compile(rb'"name":\s*"(\w+)"')
#: The type given to a message dropped before its content was unpacked.
DROPPED = "tandem_dropped"


class LimitedIOPubChannel(AsyncZMQSocketChannel):
    """The IOPub channel, handing on only what its :class:`OutputLimiter` admits.

    A stream message of a stream already cut is dropped once its signature is checked,
    without unpacking its content: a kernel that prints 1 MB lines costs the client little
    more than reading them."""

    limiter: OutputLimiter | None = None

    async def _recv(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        raw = await self.socket.recv_multipart(**kwargs)
        _, parts = self.session.feed_identities(raw)
        if self.limiter is None or not self.limiter.cut:
            message: dict[str, Any] = self.session.deserialize(parts)
            return message
        message = self.session.deserialize(parts, content=False)
        packed = bytes(message["content"])
        if message["msg_type"] == "stream":
            name = _STREAM_NAME.search(packed[:80])
            parent = str(message.get("parent_header", {}).get("msg_id", ""))
            if name and (parent, name.group(1).decode()) in self.limiter.cut:
                return {**message, "msg_type": DROPPED, "content": {}}
        message["content"] = self.session.unpack(packed)
        return message

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message: dict[str, Any] = await super().get_msg(timeout)
            admitted = message if self.limiter is None else self.limiter.admit(message)
            if admitted is not None:
                return admitted
            if deadline is not None:
                timeout = max(0.0, deadline - time.monotonic())


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's async client, ready when the kernel reports idle after kernel_info,
    whose IOPub channel bounds the kernel's outputs (see :class:`OutputLimiter`)."""

    iopub_channel_class = Type(LimitedIOPubChannel)
    max_stream_bytes = Int(
        MAX_STREAM_BYTES, config=True, help="Bytes kept per output stream per cell."
    )
    max_output_bytes = Int(MAX_OUTPUT_BYTES, config=True, help="Bytes of outputs per notebook.")

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
        """Sockets as jupyter_client makes them; IOPub's holds at most :data:`IOPUB_QUEUE`
        messages received and not yet read (zmq's default is 1000: a kernel that prints
        faster than the client reads had up to 1000 messages of up to ~50 MB each queued
        in the client). The backlog then waits in the kernel, whose memory the sandbox
        bounds."""
        if channel != "iopub":
            return super()._create_connected_socket(channel, identity)
        options = self.context.sockopts
        before = options.get(zmq.RCVHWM)
        options[zmq.RCVHWM] = IOPUB_QUEUE
        try:
            return super()._create_connected_socket(channel, identity)
        finally:
            if before is None:
                options.pop(zmq.RCVHWM, None)
            else:
                options[zmq.RCVHWM] = before

    @property
    def iopub_channel(self) -> Any:
        channel = super().iopub_channel
        if isinstance(channel, LimitedIOPubChannel) and channel.limiter is None:
            channel.limiter = OutputLimiter(self.max_stream_bytes, self.max_output_bytes)
        return channel

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
