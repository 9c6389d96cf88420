"""A real `jupyter lab` server for browser tests, isolated in a temporary folder."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("TANDEM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
    "--disable-sync",
]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(
            f"{self.url}{path}?token={self.token}",
            method=method,
            data=b"" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_lab(root: Path, state: Path, env: dict[str, str], cwd: Path | None = None) -> Lab:
    """Start JupyterLab on 127.0.0.1 with a random token; wait until it answers.

    ``cwd`` is the server's working directory (default: this process's). nbgrader's
    server extensions take the course directory and ``nbgrader_config.json`` from it.
    """
    token = secrets.token_hex(16)
    port = _free_port()
    settings = state / "settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    (
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    ).write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    environment = {
        **os.environ,
        **env,
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
    }
    log = state / "lab.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",
            "--LabApp.expose_app_in_browser=True",
        ],
        env=environment,
        cwd=cwd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    lab = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {log.read_text()[-2000:]}")
        try:
            lab.api("/api/status")
            return lab
        except OSError:
            time.sleep(0.25)
    lab.stop()
    raise RuntimeError(f"jupyter lab did not start: {log.read_text()[-2000:]}")


#: ms: kernel starts and full runs on a 2-core machine
SLOW = 60_000


def run_all_until(page: Any, ready: Callable[[int], None], timeout: int = SLOW) -> None:
    """Run every cell of the open notebook until ``ready(ms)`` passes, then wait for the
    kernel to be idle.

    The command acts on the active notebook, so the notebook is focused first (after
    accepting a kernel dialog JupyterLab may show while it loads kernelspecs: its default
    is the notebook's own kernel); if the page was not ready to take the command, it is
    given again, up to three times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect

    for _ in range(3):
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        try:
            page.locator(".jp-Notebook .jp-Cell").first.click(timeout=5_000)
        except PlaywrightTimeoutError:
            continue
        # Not awaited: the command's promise settles only when every cell has run.
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            ready(timeout // 2)
            break
        except AssertionError:
            continue
    ready(timeout)
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=timeout
    )
