"""Fresh, isolated kernels that start fast: a jupyter_client kernel provisioner.

Every job Tandem runs gets a kernel no other job has used. Starting one cold costs a
new interpreter plus the notebook's imports (~0.8 s bare, ~2.5-3 s with pandas and
matplotlib here). :class:`ForkProvisioner` instead asks a *template* process
(:mod:`tandem.engine.forkserver`) that has already imported ipykernel, numpy, pandas and
matplotlib, and has no zmq context, thread or event loop, to ``fork()`` the kernel.
The child is a copy of the template, so one kernel's globals, environment, working
directory, module attributes or rcParams never reach another.

It plugs into Jupyter's own extension point (entry point group
``jupyter_client.kernel_provisioners``), so papermill, nbclient and nbgrader's
``Execute`` use it unchanged. :func:`use` selects it for this process.

A request the template cannot honour falls back to a cold start (Jupyter's own
``LocalProvisioner``): another interpreter or kernel, environment variables that
Python or the libraries read at import (``PYTHON*``, ``MPL*``, BLAS thread counts,
locale), or a platform without ``fork``. ``--kernels plain`` uses cold starts always.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from tandem.engine import kernelcap, sandbox
from tandem.engine.forked import ForkedKernel

KernelMode = Literal["fork", "plain"]
KERNEL_MODES: tuple[str, ...] = ("fork", "plain")
PROVISIONERS = {"fork": "tandem-fork", "plain": "tandem-plain"}
#: Environment variables read at interpreter or library import: a change needs a cold start.
IMPORT_TIME_ENV = ("PYTHON", "MPL", "OMP_", "OPENBLAS", "MKL_", "NUMEXPR", "LC_", "LANG", "PYDEVD")

#: What a cold kernel with an output cap runs in place of ``ipykernel_launcher``.
KERNEL_LAUNCHER = "tandem.engine.kernelmain"

#: Kernels started by this process, by pid: lets a job enforce a whole-notebook timeout.
LIVE: dict[int, int] = {}
_LIVE_LOCK = threading.Lock()


def fork_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def use(mode: str, shared: str | None = None, token: str | None = None) -> None:
    """Make every kernel this process starts from now on use ``mode`` (fork or plain).

    ``shared`` is the address of a template another process owns (a pool's, see
    ``Template(listen=True)``), and ``token`` the secret it asks of its clients (its
    owner hands both to its workers, never through the environment, which kernels
    inherit): forks come from it while it answers."""
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    global _SHARED, _SHARED_TOKEN
    if mode not in PROVISIONERS:
        raise ValueError(f"unknown kernel mode {mode!r}; choose from {', '.join(KERNEL_MODES)}")
    KernelProvisionerFactory.instance().default_provisioner_name = PROVISIONERS[mode]
    _SHARED, _SHARED_TOKEN = shared, token
    if mode == "fork" and fork_supported():
        template()  # start importing now, while the caller does its own imports


def kill_live_kernels() -> int:
    """Kill every kernel this process started (their whole process groups)."""
    with _LIVE_LOCK:
        groups = list(LIVE.values())
    for group in groups:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    return len(groups)


class PlainProvisioner(LocalProvisioner):
    """Jupyter's local provisioner (a cold ``Popen``), recording its kernels in :data:`LIVE`.

    On POSIX its kernels talk to their client over Unix sockets in a folder of their own
    (``ipc`` transport) rather than TCP ports on localhost: jupyter_client picks free
    ports by binding and releasing them, so kernels started side by side by different
    processes can pick the same port, and one client then talks to another's kernel
    ("Invalid Signature", then a 60 s start-up timeout). A path cannot collide.
    """

    _ipc_dir: str | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if km is not None and self._ipc_dir is None and _default_tcp(km):
            self._ipc_dir = tempfile.mkdtemp(prefix="tandem-kernel-")
            km.transport = "ipc"
            km.ip = os.path.join(self._ipc_dir, "ipc")
        result: dict[str, Any] = await super().pre_launch(**kwargs)
        limit = _output_cap(km)
        if limit and _is_ipykernel(result["cmd"]):
            result["cmd"] = [*result["cmd"], kernelcap.argument(limit)]
        return result

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if any(arg.startswith(kernelcap.PREFIX) for arg in cmd) and _is_ipykernel(cmd):
            cmd = [cmd[0], "-m", KERNEL_LAUNCHER, *cmd[3:]]  # installs the cap, then ipykernel
        info = await super().launch_kernel(cmd, **kwargs)
        self._register()
        return info

    async def kill(self, restart: bool = False) -> None:
        """Kill the kernel and wait (at most 0.1 s) until it is gone: the manager checks
        right after, and a kernel still alive then costs a whole 0.1 s poll interval."""
        await super().kill(restart=restart)
        deadline = time.monotonic() + 0.1
        while self.process is not None and self.process.poll() is None:
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.002)

    def _register(self) -> None:
        if self.pid is not None:
            with _LIVE_LOCK:
                LIVE[self.pid] = self.pgid or self.pid

    async def cleanup(self, restart: bool = False) -> None:
        if self.pid is not None:
            with _LIVE_LOCK:
                LIVE.pop(self.pid, None)
        await super().cleanup(restart=restart)
        if self._ipc_dir is not None and not restart:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None


def _output_cap(km: Any) -> int:
    """The kernel's output cap, from the manager's configuration (``jobs.Work`` sets it):
    bytes per output stream per request; 0 for none."""
    if km is None or f"{kernelcap.SECTION}.{kernelcap.TRAIT}" not in km.config:
        return 0
    return max(0, int(km.config[kernelcap.SECTION][kernelcap.TRAIT]))


def _sandbox_level(km: Any) -> str:
    """The kernel's sandbox level, from the manager's configuration (``jobs.Work`` sets it
    for autograde work); ``off`` when none is configured (papermill work). Never from the
    environment, which a worker's threads share: two jobs' levels could cross."""
    key = f"{sandbox.SECTION}.{sandbox.TRAIT}"
    if km is None or key not in km.config:
        return "off"
    level = km.config[sandbox.SECTION][sandbox.TRAIT]
    if level not in sandbox.LEVELS:
        raise RuntimeError(f"unknown sandbox level {level!r} for a kernel")
    return str(level)


def _is_ipykernel(cmd: list[str]) -> bool:
    """ipykernel on this interpreter: the kernels that can take the cap."""
    return (
        len(cmd) >= 3
        and cmd[1] == "-m"
        and cmd[2] in ("ipykernel_launcher", "ipykernel")
        and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)
    )


def _default_tcp(km: Any) -> bool:
    """A manager on POSIX left to pick its own TCP ports on localhost (nothing preset)."""
    ports = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    return (
        os.name == "posix"
        and km.transport == "tcp"
        and not getattr(km, "_connection_file_written", False)
        # reading km.ip would list the machine's interfaces (~0.15 s): only a set one counts
        and (not km.trait_has_value("ip") or km.ip in ("127.0.0.1", "localhost"))
        and not any(getattr(km, port, 0) for port in ports)
    )


class ForkProvisioner(PlainProvisioner):
    """Fork the kernel from the template process when it can; start it cold otherwise."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        env = kwargs.get("env") or dict(os.environ)
        cwd = kwargs.get("cwd") or os.getcwd()
        confined = self._sandbox(env, str(cwd))
        server = template() if fork_supported() else None
        if server is None or not server.can_start(cmd, env):
            if not confined:
                return await super().launch_kernel(cmd, **kwargs)
            # a sandbox is applied only in a forked child: when this process's environment
            # no longer matches the template's (e.g. Dask set thread counts since), fork
            # from a template started with today's environment rather than start cold
            server = matching_template() if fork_supported() else None
            if server is None or not server.can_start(cmd, env):
                raise RuntimeError(f"a sandboxed kernel ({confined['level']}) must be forked")
        try:
            kernel = server.spawn(cmd, env, str(cwd), sandbox=confined)
        except (OSError, RuntimeError, ValueError):  # the template is gone: start cold
            if confined:
                raise
            return await super().launch_kernel(cmd, **kwargs)
        self.process = kernel  # type: ignore[assignment]  # Popen's interface, not its type
        self.pid = self.pgid = kernel.pid
        self.cwd = cwd
        self._register()
        return self.connection_info

    def _sandbox(self, env: dict[str, str], cwd: str) -> dict[str, Any] | None:
        """What the template needs to confine the kernel (see :mod:`tandem.engine.sandbox`):
        the level the job chose (:func:`_sandbox_level`), its job folder and ipc folder."""
        env.pop(sandbox.SANDBOX_ENV, None)  # never the kernel's business, nor a level
        km = self.parent
        level = _sandbox_level(km)
        if level == "off":
            return None
        if self._ipc_dir is None or km is None:
            raise RuntimeError("a sandboxed kernel needs the ipc transport Tandem sets up")
        return {
            "level": level,
            "job_dir": cwd,
            "ipc_dir": self._ipc_dir,
            "connection_file": km.connection_file,
        }


class _TemplateClient:
    """What every client of a template process (:mod:`tandem.engine.forkserver`) can ask."""

    def __init__(self, reader: Any = None, writer: Any = None) -> None:
        self._lock = threading.Lock()
        self._hello: dict[str, Any] | None = None
        self._reader, self._writer = reader, writer  # text files: one JSON line each way
        self._lost = False  # the template stopped answering

    def _exchange(self, request: dict[str, Any] | None) -> str:
        try:
            if request is not None:
                self._writer.write(json.dumps(request) + "\n")
                self._writer.flush()
            line: str = self._reader.readline()
        except OSError:
            line = ""
        self._lost = self._lost or not line
        return line

    def alive(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def hello(self) -> dict[str, Any]:
        """The template's greeting (its pid, interpreter and environment), once it is ready."""
        with self._lock:
            return self._greeted()

    def _greeted(self) -> dict[str, Any]:
        if self._hello is None:
            line = self._exchange(None)
            if not line:
                raise RuntimeError("the kernel template process exited at start-up")
            self._hello = json.loads(line)
        return self._hello

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._greeted()
            line = self._exchange(request)
        if not line:
            raise RuntimeError("the kernel template process exited")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def can_start(self, cmd: list[str], env: dict[str, str]) -> bool:
        """Only ipykernel on the template's interpreter, with no import-time variable
        changed from the template's environment."""
        if len(cmd) < 3 or cmd[1] != "-m" or cmd[2] not in ("ipykernel_launcher", "ipykernel"):
            return False
        if not self.alive():
            return False
        try:
            hello = self.hello()  # waits until the template has done its imports
        except (OSError, RuntimeError, ValueError):
            return False
        if os.path.realpath(cmd[0]) != hello["python"]:
            return False
        base: dict[str, str] = hello["env"]
        return not any(
            name.startswith(IMPORT_TIME_ENV) and env.get(name) != base.get(name)
            for name in set(env) | set(base)
        )

    def spawn(
        self, cmd: list[str], env: dict[str, str], cwd: str, sandbox: dict[str, Any] | None = None
    ) -> ForkedKernel:
        env = {k: v for k, v in env.items() if k != "JPY_PARENT_PID"}
        request = {"op": "spawn", "argv": cmd, "env": env, "cwd": cwd}
        if sandbox:
            request["sandbox"] = sandbox
        reply = self._call(request)
        if "pid" not in reply:
            raise RuntimeError(f"the kernel template could not start a kernel: {reply}")
        return ForkedKernel(self, int(reply["pid"]))

    def reap(self, pid: int) -> int | None:
        status = self._call({"op": "reap", "pid": pid})["status"]
        return None if status is None else int(status)


class Template(_TemplateClient):
    """A template process this process starts and owns (it ends when we close it).

    With ``listen=True`` it also serves other processes, which connect to
    :attr:`address` with :class:`SharedTemplate`: a pool's workers share one template
    (one set of imports, one copy of the libraries in memory) instead of one each."""

    def __init__(
        self, preload: list[str] | None = None, *, listen: bool = False, token: str | None = None
    ) -> None:
        super().__init__()
        env = {k: v for k, v in os.environ.items() if k not in ("JPY_PARENT_PID", "MPLBACKEND")}
        self._folder = self.address = None
        #: What a client must send first (``SharedTemplate(address, token)``); the template
        #: gets only its hash, so that no kernel forked from it can find it in its memory.
        self.token: str | None = None
        listen_args: list[str] = []
        listener = None
        if listen:  # bound before anyone can try to connect; queued until the imports end
            import hashlib
            import secrets
            import socket

            self.token = token or secrets.token_hex(32)
            self._folder = tempfile.mkdtemp(prefix="tandem-template-")
            self.address = os.path.join(self._folder, "socket")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.address)
            listener.listen(64)
            digest = hashlib.sha256(self.token.encode()).hexdigest()
            listen_args = ["--listen-fd", str(listener.fileno()), "--token-hash", digest]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tandem.engine.forkserver", *listen_args, *(preload or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=str(Path.home()) if Path.home().is_dir() else "/",
            text=True,
            bufsize=1,
            start_new_session=True,
            pass_fds=(listener.fileno(),) if listener else (),
        )
        if listener is not None:
            listener.close()  # the template holds it now
        self._reader, self._writer = self.proc.stdout, self.proc.stdin

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


class SharedTemplate(_TemplateClient):
    """A connection to a template another process owns (see ``Template(listen=True)``),
    authenticated with the ``token`` its owner gave us."""

    def __init__(self, address: str, token: str) -> None:
        import socket

        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(address)
            self.sock.sendall(token.encode() + b"\n")
        except OSError:
            self.sock.close()
            raise
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")
        super().__init__(self.file, self.file)

    def alive(self) -> bool:
        """False once the template has closed the connection (it died): the socket then
        reads as end-of-file, with nothing pending between requests."""
        import socket

        if not self._lost:
            try:
                self._lost = not self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:  # nothing to read: still connected
                pass
            except OSError:
                self._lost = True
        return not self._lost

    def close(self) -> None:
        self._lost = True
        with contextlib.suppress(OSError):
            self.file.close()
            self.sock.close()


_TEMPLATE: _TemplateClient | None = None
_TEMPLATE_LOCK = threading.Lock()
#: The address of a template another process owns (a pool's), set by :func:`use`.
_SHARED: str | None = None
#: The token the shared template's owner gave us for it.
_SHARED_TOKEN: str | None = None
#: How long to wait for the owner of a shared template that died to start a new one.
RECONNECT_SECONDS = 10.0


def template() -> _TemplateClient:
    """This process's template: the shared one :func:`use` named if it answers, else
    one of our own, started on first use (and again if it died). When a shared template
    dies, its owner starts another at the same address: connect to that one."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _SHARED is not None and (_TEMPLATE is None or not _TEMPLATE.alive()):
            if _TEMPLATE is not None:
                _TEMPLATE.close()
            # refused while the owner replaces a template that died: wait for the new one
            _TEMPLATE = _connect(_SHARED, _SHARED_TOKEN or "", RECONNECT_SECONDS)
        if _TEMPLATE is None or not _TEMPLATE.alive():
            _TEMPLATE = Template()
        return _TEMPLATE


def matching_template() -> _TemplateClient:
    """A template of this process started with the environment it has now, for kernels
    that must be forked when :func:`template`'s was started with another environment. The
    one it replaces is closed at exit, not now: kernels forked from it may still run."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _TEMPLATE is not None:
            atexit.register(_TEMPLATE.close)
        _TEMPLATE = Template()
        return _TEMPLATE


def _connect(address: str, token: str, patience: float) -> SharedTemplate | None:
    """A connection to the shared template at ``address``, trying for ``patience`` s."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return SharedTemplate(address, token)
        except OSError:
            if time.monotonic() >= deadline:
                return None
        time.sleep(0.02)
