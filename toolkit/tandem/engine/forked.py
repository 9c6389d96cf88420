"""A ``Popen``-like handle on a kernel the template process forked: the kernel is the
template's child (or its sandbox supervisor's), not ours, so it is watched through a
pidfd and reaped by asking the template."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Protocol


class Reaper(Protocol):
    """What reaps a forked kernel: the template client (:mod:`tandem.engine.kernels`)."""

    def reap(self, pid: int) -> int | None: ...


class ForkedKernel:
    """A ``Popen``-like handle on a kernel forked by the template (not our own child)."""

    def __init__(self, server: Reaper, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        self.stdout = self.stderr = self.stdin = None
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # gone already (a sandboxed kernel refused at its start)
            raise RuntimeError(
                f"the kernel (pid {pid}) exited as it started; the template's log says why"
            ) from None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        import select

        readable, _, _ = select.select([self._pidfd], [], [], 0)
        if not readable:
            return None
        try:
            self.returncode = self.server.reap(self.pid)
        except RuntimeError:  # the template died: the kernel's new parent reaps it
            self.returncode = -1
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
