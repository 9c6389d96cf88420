"""A cap, inside the kernel, on what one request may print to each output stream.

ipykernel's ``OutStream`` (``sys.stdout``, ``sys.stderr``) buffers everything written
between two sends (every 0.2 s) and sends it as one message: a cell that prints 1 MB
lines in a loop makes the kernel hold and send messages of tens of MB, whatever its
client keeps (:class:`tandem.engine.kernelclient.OutputLimiter` cuts them only once they
have arrived). :func:`install` wraps ``OutStream.write`` so that, per stream and per
request (the ``msg_id`` of the stream's parent header: each cell's execute request has
its own), bytes beyond the cap are dropped as they are written, after one marker line.
The engine sets the cap at twice the client's limit, so the client still cuts the
stream itself and shows its own marker.

Errors are not stream output (ipykernel publishes them as ``error`` messages and in the
``execute_reply``): a traceback after a flood is kept whole. This bounds what an honest
mistake (a print in an endless loop) costs the kernel; code that means harm can undo
it, and the sandbox's memory limit bounds that kernel.

The cap travels in the kernel's command line (:func:`argument`), not in its environment
(the sandbox keeps an allowlist of variables): the provisioners
(:mod:`tandem.engine.kernels`) add it when the kernel manager's configuration has
``KernelOutputCap.max_stream_bytes``; the template's forked child
(:mod:`tandem.engine.forkserver`) and the cold-start launcher
(:mod:`tandem.engine.kernelmain`) take it out of the arguments and install it before
``IPKernelApp`` starts. This module must stay import-light (the standard library only).
"""

from __future__ import annotations

import threading
from typing import Any

#: The configuration the engine sets (``jobs.Work``) and the provisioners read.
SECTION, TRAIT = "KernelOutputCap", "max_stream_bytes"
#: The kernel argument that carries the cap, in traitlets' own form (harmless if left).
PREFIX = f"--{SECTION}.{TRAIT}="
#: Requests remembered per stream: a stream's counts never grow without end.
REMEMBERED = 64

_CAP = 0  # bytes per stream per request; 0: no cap
_LOCK = threading.Lock()
_CUT = -1  # the count of a request whose stream was cut: everything else is dropped


def argument(cap: int) -> str:
    """The kernel argument for a cap of ``cap`` bytes."""
    return f"{PREFIX}{int(cap)}"


def take(argv: list[str]) -> tuple[list[str], int]:
    """``argv`` without the cap's argument, and the cap it gave (0: none)."""
    kept, cap = [], 0
    for arg in argv:
        if arg.startswith(PREFIX):
            cap = max(0, int(arg[len(PREFIX) :]))
        else:
            kept.append(arg)
    return kept, cap


def cap() -> int:
    """The cap installed in this process (0: none)."""
    return _CAP


def install(limit: int) -> None:
    """Cap every ipykernel output stream of this process at ``limit`` bytes per request
    (0 removes the cap). Call it before ``IPKernelApp`` writes anything; calling it
    again only changes the limit."""
    global _CAP
    from ipykernel.iostream import OutStream

    _CAP = max(0, int(limit))
    if not getattr(OutStream.write, "tandem_capped", False):
        wrapped = _capped(OutStream.write)
        wrapped.tandem_capped = True
        setattr(OutStream, "write", wrapped)  # noqa: B010 - mypy: assigning to a method


def _capped(write: Any) -> Any:
    def capped_write(self: Any, string: str) -> int | None:
        limit = _CAP
        if limit <= 0 or not isinstance(string, str) or not string:
            return write(self, string)  # type: ignore[no-any-return]
        request = str((self.parent_header or {}).get("msg_id", ""))
        with _LOCK:
            counts = self.__dict__.setdefault("_tandem_counts", {})
            used = counts.get(request, 0)
            if used == _CUT:
                return len(string)
            size = _size(string)
            if used + size <= limit:
                _remember(counts, request, used + size)
                kept = None
            else:
                _remember(counts, request, _CUT)
                kept = _cut(string, limit - used)
        if kept is None:
            return write(self, string)  # type: ignore[no-any-return]
        why = f"this cell wrote more than {limit / 1_000_000:g} MB to {self.name}"
        newline = "" if not kept or kept.endswith("\n") else "\n"
        write(self, f"{kept}{newline}[Tandem: output dropped by the kernel: {why}]\n")
        return len(string)

    capped_write.__doc__ = write.__doc__
    capped_write.__name__ = getattr(write, "__name__", "write")
    capped_write.__qualname__ = getattr(write, "__qualname__", "write")
    return capped_write


def _remember(counts: dict[str, int], request: str, used: int) -> None:
    if request in counts:
        del counts[request]  # to the end: the first is the one written to least recently
    elif len(counts) >= REMEMBERED:
        del counts[next(iter(counts))]
    counts[request] = used


def _size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 (never inside a character)."""
    if text.isascii():
        return text[: max(0, limit)]
    data = text.encode("utf-8", "surrogatepass")
    return data[: max(0, limit)].decode("utf-8", "ignore")
