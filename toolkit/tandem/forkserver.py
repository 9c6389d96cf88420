"""The template process that fork-starts ipykernel kernels (run as ``python -m tandem.forkserver``).

It imports ipykernel and the notebooks' heavy libraries once, before any zmq context,
thread or event loop exists, then serves requests read line by line (JSON) on stdin:

- ``{"op": "spawn", "argv": [...], "env": {...}, "cwd": "..."}`` forks a child that
  starts its own session (``setsid``), takes the requested environment and working
  directory and runs ``IPKernelApp`` with ``argv``; the reply is ``{"pid": N}``.
- ``{"op": "reap", "pid": N}`` collects an exited child; the reply is
  ``{"status": CODE}`` (negative for a signal, null while it still runs).

Each child is a kernel no other job has used: its memory is a copy of the template's,
so nothing one kernel does is visible to another. When stdin closes (the client went
away) every child still running is killed and the server exits.

This module must stay import-light: the client starts it with ``-m``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from typing import Any

#: Imported in the template so that no kernel pays for them again. Not matplotlib_inline:
#: its backend hooks into IPython when first imported, which must happen in the kernel.
DEFAULT_PRELOAD = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot")
#: Imported by a preload, these would have done their set-up without a kernel: refuse them.
MUST_NOT_PRELOAD = ("matplotlib_inline.backend_inline",)
#: Set before the template imports anything: ipykernel and matplotlib read them at import.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def _prepare_template(preload: list[str]) -> None:
    # Like ipykernel_launcher: do not import from the directory we were started in;
    # IPython puts the kernel's working directory back on sys.path at start-up.
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    for name in ("JPY_PARENT_PID", "JPY_INTERRUPT_EVENT"):
        os.environ.pop(name, None)
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell  # noqa: F401

    for name in preload:
        try:
            __import__(name)
        except Exception:  # a missing optional library only costs its import later
            continue
    _warm_up()
    for name in MUST_NOT_PRELOAD:
        if name in sys.modules:
            raise SystemExit(f"tandem.forkserver: {name} must not be imported in the template")


def _warm_up() -> None:
    """Do once what every report's first chart and first styled table would do: load
    the Agg renderer, fonts and Pillow, and compile pandas' Styler templates. These are
    caches, not state: no pyplot figure, rcParams or option is left changed."""
    try:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(3, 2))
        axes = figure.add_subplot()
        axes.barh(["warm"], [1.0])
        axes.set_title("Tandem")
        axes.set_xlabel("points")
        FigureCanvasAgg(figure).print_png(io.BytesIO())  # type: ignore[no-untyped-call]
    except Exception:  # no matplotlib: nothing to warm
        pass
    with contextlib.suppress(Exception):
        import pandas.io.formats.style  # noqa: F401 - compiles its Jinja templates


def _serve(stdin: Any, stdout: Any) -> dict[str, Any] | None:
    """Answer requests until stdin closes. Returns only in a forked child, with its request."""
    children: set[int] = set()
    for line in stdin:
        request: dict[str, Any] = json.loads(line)
        if request["op"] == "spawn":
            ready_r, ready_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                os.setsid()  # its own process group: an interrupt reaches it alone
                os.write(ready_w, b"1")
                os.close(ready_w)
                return request
            os.close(ready_w)
            os.read(ready_r, 1)
            os.close(ready_r)
            children.add(pid)
            reply: dict[str, Any] = {"pid": pid}
        elif request["op"] == "reap":
            reply = {"status": _reap(int(request["pid"]), children)}
        else:
            reply = {"error": f"unknown op {request['op']!r}"}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    return None


def _reap(pid: int, children: set[int]) -> int | None:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        children.discard(pid)
        return -1
    if done == 0:
        return None
    children.discard(pid)
    return os.waitstatus_to_exitcode(status)


def _run_kernel(request: dict[str, Any]) -> None:
    """In the forked child: become the requested kernel and run it until it shuts down."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # the template's request pipe is not the kernel's business
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the kernel
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("cwd"):
        os.chdir(request["cwd"])
    argv = list(request["argv"])
    sys.argv = argv
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=argv[3:])


def main() -> None:
    _prepare_template(sys.argv[1:] or list(DEFAULT_PRELOAD))
    stdout = os.fdopen(os.dup(1), "w")
    stdin = os.fdopen(os.dup(0), "r")
    stdout.write(json.dumps({"ready": os.getpid()}) + "\n")
    stdout.flush()
    request = _serve(stdin, stdout)
    if request is None:
        return
    stdin.close()
    stdout.close()
    _run_kernel(request)


if __name__ == "__main__":
    main()
