"""Fresh, isolated kernels that start fast: a jupyter_client kernel provisioner.

Every job Tandem runs gets a kernel no other job has used. Starting one cold costs a
new interpreter plus the notebook's imports (~0.8 s bare, ~2.5-3 s with pandas and
matplotlib here). :class:`ForkProvisioner` instead asks a *template* process
(:mod:`tandem.forkserver`) that has already imported ipykernel, numpy, pandas and
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

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Literal

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

KernelMode = Literal["fork", "plain"]
KERNEL_MODES: tuple[str, ...] = ("fork", "plain")
PROVISIONERS = {"fork": "tandem-fork", "plain": "tandem-plain"}
#: Environment variables read at interpreter or library import: a change needs a cold start.
IMPORT_TIME_ENV = ("PYTHON", "MPL", "OMP_", "OPENBLAS", "MKL_", "NUMEXPR", "LC_", "LANG")

#: Kernels started by this process, by pid: lets a job enforce a whole-notebook timeout.
LIVE: dict[int, int] = {}
_LIVE_LOCK = threading.Lock()


def fork_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def use(mode: str) -> None:
    """Make every kernel this process starts from now on use ``mode`` (fork or plain)."""
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    if mode not in PROVISIONERS:
        raise ValueError(f"unknown kernel mode {mode!r}; choose from {', '.join(KERNEL_MODES)}")
    KernelProvisionerFactory.instance().default_provisioner_name = PROVISIONERS[mode]
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
    """Jupyter's local provisioner (a cold ``Popen``), recording its kernels in :data:`LIVE`."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        info = await super().launch_kernel(cmd, **kwargs)
        self._register()
        return info

    def _register(self) -> None:
        if self.pid is not None:
            with _LIVE_LOCK:
                LIVE[self.pid] = self.pgid or self.pid

    async def cleanup(self, restart: bool = False) -> None:
        if self.pid is not None:
            with _LIVE_LOCK:
                LIVE.pop(self.pid, None)
        await super().cleanup(restart=restart)


class ForkProvisioner(PlainProvisioner):
    """Fork the kernel from the template process when it can; start it cold otherwise."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        env = kwargs.get("env") or dict(os.environ)
        server = template() if fork_supported() else None
        if server is None or not server.can_start(cmd, env):
            return await super().launch_kernel(cmd, **kwargs)
        cwd = kwargs.get("cwd") or os.getcwd()
        try:
            kernel = server.spawn(cmd, env, str(cwd))
        except (OSError, RuntimeError, ValueError):  # the template is gone: start cold
            return await super().launch_kernel(cmd, **kwargs)
        self.process = kernel  # type: ignore[assignment]  # Popen's interface, not its type
        self.pid = self.pgid = kernel.pid
        self.cwd = cwd
        self._register()
        return self.connection_info


class ForkedKernel:
    """A ``Popen``-like handle on a kernel forked by the template (not our own child)."""

    def __init__(self, server: Template, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        self.stdout = self.stderr = self.stdin = None
        self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        import select

        readable, _, _ = select.select([self._pidfd], [], [], 0)
        if not readable:
            return None
        self.returncode = self.server.reap(self.pid)
        if self.returncode is not None:
            os.close(self._pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import select

        if self.returncode is None:
            readable, _, _ = select.select([self._pidfd], [], [], timeout)
            if not readable:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        while self.poll() is None:  # exited but not yet reaped by the template
            select.select([], [], [], 0.01)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Template:
    """Client side of one template process (:mod:`tandem.forkserver`)."""

    def __init__(self, preload: list[str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("JPY_PARENT_PID", "MPLBACKEND")}
        self.env = dict(env)
        self.python = os.path.realpath(sys.executable)
        self._lock = threading.Lock()
        self._ready = False
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tandem.forkserver", *(preload or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=str(Path.home()) if Path.home().is_dir() else "/",
            text=True,
            bufsize=1,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def can_start(self, cmd: list[str], env: dict[str, str]) -> bool:
        """Only ipykernel on this interpreter, with no import-time variable changed."""
        if len(cmd) < 3 or cmd[1] != "-m" or cmd[2] not in ("ipykernel_launcher", "ipykernel"):
            return False
        if os.path.realpath(cmd[0]) != self.python:
            return False
        for name in set(env) | set(self.env):
            if name.startswith(IMPORT_TIME_ENV) and env.get(name) != self.env.get(name):
                return False
        return self.alive()

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            if not self._ready:
                hello = self.proc.stdout.readline()
                if not hello:
                    raise RuntimeError("the kernel template process exited at start-up")
                self._ready = True
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the kernel template process exited")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def spawn(self, cmd: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
        env = {k: v for k, v in env.items() if k != "JPY_PARENT_PID"}
        reply = self._call({"op": "spawn", "argv": cmd, "env": env, "cwd": cwd})
        return ForkedKernel(self, int(reply["pid"]))

    def reap(self, pid: int) -> int | None:
        status = self._call({"op": "reap", "pid": pid})["status"]
        return None if status is None else int(status)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_TEMPLATE: Template | None = None
_TEMPLATE_LOCK = threading.Lock()


def template() -> Template:
    """This process's template, started on first use (and again if it died)."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _TEMPLATE is None or not _TEMPLATE.alive():
            _TEMPLATE = Template()
        return _TEMPLATE
