"""The template process that fork-starts ipykernel kernels.

Run as ``python -m tandem.engine.forkserver``.

It imports ipykernel and the notebooks' heavy libraries once, before any zmq context,
thread or event loop exists, then serves requests read line by line (JSON) on stdin
and, started with ``--listen-fd FD`` (a listening Unix socket its owner bound), from
any number of clients (a process pool's workers share one template). A socket client must
first send the secret token its owner gave it, on a line of its own: the template, given
only the token's SHA-256 (``--token-hash HEX``), drops a client whose first line does not
hash to it (a kernel of the same uid could otherwise connect and ask for an unconfined
process). The template never holds the token itself (kernels are forked from its memory):
the line is read into a buffer that is wiped once hashed. The owner (stdin/stdout) needs
no token. Each client then receives ``{"ready": PID, "python": ..., "env": {...}}``: the
interpreter and environment every kernel starts from. Requests:

- ``{"op": "spawn", "argv": [...], "env": {...}, "cwd": "..."}`` forks a child that
  starts its own session (``setsid``), takes the requested environment and working
  directory and runs ``IPKernelApp`` with ``argv`` (whose output cap, if it gives one,
  :mod:`tandem.engine.kernelcap` installs first); the reply is ``{"pid": N}``.
- ``{"op": "reap", "pid": N}`` collects an exited child; the reply is
  ``{"status": CODE}`` (negative for a signal, null while it still runs).

Each child is a kernel no other job has used: its memory is a copy of the template's,
so nothing one kernel does is visible to another. When stdin closes (the owner went
away) every child still running is killed and the server exits.

This module must stay import-light: the client starts it with ``-m``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import json
import os
import selectors
import signal
import socket
import sys
from typing import Any

from tandem.engine import kernelcap, sandbox

#: Imported in the template so that no kernel pays for them again. Not matplotlib_inline:
#: its backend hooks into IPython when first imported, which must happen in the kernel.
DEFAULT_PRELOAD = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot")
#: What every kernel imports while it starts or runs its first cell, whatever the notebook.
KERNEL_MODULES = (
    "ipykernel.ipkernel",
    "ipykernel.kernelapp",
    "ipykernel.zmqshell",
    "IPython.core.completerlib",
    "IPython.extensions.storemagic",
    "pdb",
    "psutil",
    "sqlite3",
)
#: Imported by a preload, these would have done their set-up without a kernel: refuse them.
MUST_NOT_PRELOAD = ("matplotlib_inline.backend_inline",)
#: Set before the template imports anything: ipykernel and matplotlib read them at import.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

_SERVER_PID = 0
_BASE_ENV: dict[str, str] = {}
#: In a sandboxed child: where its supervisor writes the kernel's pid for the template.
_READY_FD = -1
#: The longest first line (the token) a socket client may send.
TOKEN_LINE_MAX = 256


def _prepare_template(preload: list[str]) -> None:
    # Like ipykernel_launcher: do not import from the directory we were started in;
    # IPython puts the kernel's working directory back on sys.path at start-up.
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    for name in ("JPY_PARENT_PID", "JPY_INTERRUPT_EVENT"):
        os.environ.pop(name, None)
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in KERNEL_MODULES:
        _try_import(name)
    _import_debugger()

    for name in preload:
        _try_import(name)
    _warm_up()
    for name in MUST_NOT_PRELOAD:
        if name in sys.modules:
            raise SystemExit(
                f"tandem.engine.forkserver: {name} must not be imported in the template"
            )


def _try_import(name: str) -> None:
    with contextlib.suppress(Exception):  # a missing optional library only costs its import later
        __import__(name)


def _import_debugger() -> None:
    """Import what every kernel imports at start-up for its debugger (debugpy's pydevd,
    ~0.1 s a kernel). It starts no thread; its check for frozen modules only prints a
    warning, silenced here as ipykernel's own kernel spec does."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    _try_import("ipykernel.debugger")


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


class _Channel:
    """One client's line-oriented connection: the owner's pipes, or a Unix socket."""

    def __init__(self, read_fd: int, write_fd: int, sock: socket.socket | None = None) -> None:
        self.read_fd, self.write_fd, self.sock = read_fd, write_fd, sock
        self.pending = b""
        self.trusted = sock is None  # the owner's pipes are ours by construction
        self._token = bytearray(TOKEN_LINE_MAX)  # a socket client's first line, until hashed
        self._filled = 0

    def authenticate(self, token_hash: str | None) -> bool | None:
        """Read a socket client's first line: True if it hashes to ``token_hash``, False
        if not (or the client went, or sent too much), None while it is incomplete. The
        line is read into a fixed buffer and wiped at once: no copy of the token stays
        in this process, whose memory every kernel forked later inherits."""
        assert self.sock is not None
        with memoryview(self._token) as view:
            try:
                count = self.sock.recv_into(view[self._filled :], 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return None
            except OSError:
                count = 0
            self._filled += count
            end = self._token.find(b"\n", 0, self._filled)
            if count and end < 0 and self._filled < len(self._token):
                return None  # the rest of the line is still to come
            digest = hashlib.sha256(view[:end]).hexdigest() if end >= 0 else ""
            self.pending = bytes(view[end + 1 : self._filled]) if end >= 0 else b""
            view[:] = bytes(len(self._token))  # wipe the token
            self._filled = 0
        return bool(digest) and token_hash is not None and hmac.compare_digest(digest, token_hash)

    def lines(self) -> list[bytes] | None:
        """The complete lines now readable; None once the client has gone."""
        try:
            data = os.read(self.read_fd, 65536)
        except OSError:
            data = b""
        if not data:
            return None
        *complete, self.pending = (self.pending + data).split(b"\n")
        return complete

    def send(self, reply: dict[str, Any]) -> None:
        data = (json.dumps(reply) + "\n").encode()
        with contextlib.suppress(OSError):  # a client that went away needs no answer
            while data:
                data = data[os.write(self.write_fd, data) :]

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        else:
            for fd in {self.read_fd, self.write_fd}:
                with contextlib.suppress(OSError):
                    os.close(fd)


def _hello() -> dict[str, Any]:
    """What a client checks before asking for a kernel: who we are, in what environment."""
    return {"ready": os.getpid(), "python": os.path.realpath(sys.executable), "env": _BASE_ENV}


def _serve(
    owner: _Channel, listener: socket.socket | None, token_hash: str | None = None
) -> dict[str, Any] | None:
    """Answer requests until the owner's pipe closes. Returns only in a forked child,
    with its request, after closing every descriptor the server holds. A socket client
    is served once its first line hashes to ``token_hash`` (none: no socket client is)."""
    children: set[int] = set()
    supervised: dict[int, int] = {}  # a sandboxed kernel's pid -> its supervisor's
    channels = {owner.read_fd: owner}
    selector = selectors.DefaultSelector()
    selector.register(owner.read_fd, selectors.EVENT_READ)
    if listener is not None:
        selector.register(listener, selectors.EVENT_READ)
    owner.send(_hello())
    try:
        while True:
            for key, _ in selector.select():
                if listener is not None and key.fileobj is listener:
                    sock, _ = listener.accept()
                    channel = _Channel(sock.fileno(), sock.fileno(), sock)
                    channels[sock.fileno()] = channel
                    selector.register(sock.fileno(), selectors.EVENT_READ)
                    continue
                channel = channels[key.fd]
                lines: list[bytes] | None = []
                if not channel.trusted:
                    trusted = channel.authenticate(token_hash)
                    if trusted is None:
                        continue
                    if trusted:
                        channel.trusted = True
                        channel.send(_hello())
                        *lines, channel.pending = channel.pending.split(b"\n")
                    else:
                        lines = None
                else:
                    lines = channel.lines()
                if lines is None:
                    if channel is owner:
                        return None
                    selector.unregister(key.fd)
                    del channels[key.fd]
                    channel.close()
                    continue
                for line in lines:
                    request: dict[str, Any] = json.loads(line)
                    if request["op"] == "spawn":
                        pid, kernel = _fork(bool(request.get("sandbox")))
                        if pid == 0:  # the new kernel: drop everything the server holds
                            selector.close()
                            for other in channels.values():
                                other.close()
                            if listener is not None:
                                listener.close()
                            return request
                        children.add(pid)
                        reply: dict[str, Any] = {"pid": kernel}
                        if kernel is None:
                            reply = {"error": "the sandboxed kernel did not start"}
                        elif kernel != pid:
                            supervised[kernel] = pid
                    elif request["op"] == "reap":
                        reply = {"status": _reap(int(request["pid"]), children, supervised)}
                    else:
                        reply = {"error": f"unknown op {request['op']!r}"}
                    channel.send(reply)
    finally:
        if children and os.getpid() == _SERVER_PID:
            _end_children(children, set(supervised.values()))


def _end_children(children: set[int], supervisors: set[int]) -> None:
    """Kill every kernel; a sandboxed one's supervisor (SIGTERM) kills what its job left,
    and we wait for that (at most 5 s) so that nothing of the run outlives it."""
    for pid in children:
        with contextlib.suppress(OSError):
            if pid in supervisors:
                os.kill(pid, signal.SIGTERM)
            else:
                os.killpg(pid, signal.SIGKILL)
    import time

    deadline = time.monotonic() + 5
    for pid in supervisors & children:
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    time.sleep(0.002)
                    continue
            break


def _fork(sandboxed: bool = False) -> tuple[int, int | None]:
    """Fork a child that has become its own session leader before the parent returns:
    (its pid, the kernel's pid). A sandboxed child is the job's supervisor: it forks the
    kernel (:func:`tandem.engine.sandbox.enter`) and sends its pid (None if it failed)."""
    global _READY_FD
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.setsid()  # its own process group: an interrupt reaches it alone
        if sandboxed:
            _READY_FD = ready_w
            return 0, None
        os.write(ready_w, b"1")
        os.close(ready_w)
        return 0, None
    os.close(ready_w)
    answer = os.read(ready_r, 32)
    os.close(ready_r)
    if not sandboxed:
        return pid, pid
    return pid, int(answer) if answer.isdigit() else None


def _reap(pid: int, children: set[int], supervised: dict[int, int] | None = None) -> int | None:
    """A kernel's exit status; a sandboxed kernel's is its supervisor's, once it has
    killed and reaped every process of the job."""
    if supervised and pid in supervised:
        status = _reap(supervised[pid], children)
        if status is not None:
            del supervised[pid]
        return status
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
    argv, env = list(request["argv"]), dict(request["env"])
    if request.get("sandbox"):
        try:  # returns in the kernel only, confined; the supervisor exits in there
            argv, env = sandbox.enter({**request["sandbox"], "argv": argv, "env": env}, _READY_FD)
        except BaseException as exc:  # never run a kernel that should be confined unconfined
            os.write(2, f"tandem sandbox: {exc!r}\n".encode())
            os._exit(70)
    elif request.get("cwd"):
        os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(env)
    argv, limit = kernelcap.take(argv)
    if limit:  # before IPKernelApp makes its output streams
        kernelcap.install(limit)
    sys.argv = argv
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=argv[3:])


def main(argv: list[str] | None = None) -> None:
    global _SERVER_PID, _BASE_ENV
    args = list(sys.argv[1:] if argv is None else argv)
    listener, token_hash = None, None
    while args[:1] in (["--listen-fd"], ["--token-hash"]):
        if args[0] == "--listen-fd":  # a listening Unix socket our owner bound for us
            listener = socket.socket(fileno=int(args[1]))
        else:  # the SHA-256 (hex) of the token a socket client must send first
            token_hash = args[1].lower()
        args = args[2:]
    _BASE_ENV = dict(os.environ)  # as the client started us, before our own settings
    _prepare_template(args or list(DEFAULT_PRELOAD))
    # Everything imported so far lives as long as any kernel: keep it out of the kernels'
    # garbage collections, which would otherwise touch (and so copy) its pages in each.
    gc.collect()
    gc.freeze()
    _SERVER_PID = os.getpid()
    owner = _Channel(os.dup(0), os.dup(1))
    request = _serve(owner, listener, token_hash)
    if request is None:
        return
    _run_kernel(request)


if __name__ == "__main__":
    main()
