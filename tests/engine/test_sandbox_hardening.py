"""The grading sandbox's plumbing: who may ask the kernel template for a process, and how
a job's sandbox level reaches its kernel."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tandem.engine import kernels

pytestmark = pytest.mark.skipif(not kernels.fork_supported(), reason="fork-started kernels only")

#: A spawn request whose kernel would only print ipykernel's version and exit.
SPAWN = {
    "op": "spawn",
    "argv": [sys.executable, "-m", "ipykernel_launcher", "--version"],
    "env": {},
    "cwd": "/",
}


@pytest.fixture(scope="module")
def shared_template() -> Iterator[kernels.Template]:
    template = kernels.Template(["json"], listen=True)
    try:
        template.hello()  # its imports done: it answers clients at once from now on
        yield template
    finally:
        template.close()


def _first_bytes(address: str, sent: bytes) -> bytes:
    """Everything the template sends a client that sent ``sent``, until it hangs up."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(address)
        received = b""
        try:
            client.sendall(sent)
            while chunk := client.recv(65536):
                received += chunk
        except TimeoutError:  # still connected: it did not drop us
            received += b"<still connected>"
        except (ConnectionResetError, BrokenPipeError):  # dropped with our bytes unread
            pass
    return received


@pytest.mark.parametrize(
    "first_line",
    [b"", b"not-the-token\n", b"\n", b"x" * 5000 + b"\n"],
    ids=["no token", "a wrong token", "an empty line", "a flood"],
)
def test_a_client_without_the_token_gets_no_greeting_and_cannot_spawn(
    shared_template: kernels.Template, first_line: bytes
) -> None:
    """Any process of the facilitator's uid (a kernel at the landlock level) can connect
    to the template's socket: without the token, it is dropped before a word is said."""
    assert shared_template.address is not None
    request = first_line + json.dumps(SPAWN).encode() + b"\n"
    assert _first_bytes(shared_template.address, request) == b""
    assert shared_template.alive()


def test_the_token_hash_is_public_the_token_is_not(shared_template: kernels.Template) -> None:
    """The template's command line shows the token's hash, which does not open it."""
    import hashlib

    assert shared_template.address is not None and shared_template.token is not None
    cmdline = Path(f"/proc/{shared_template.proc.pid}/cmdline").read_bytes()
    assert shared_template.token.encode() not in cmdline
    digest = hashlib.sha256(shared_template.token.encode()).hexdigest()
    assert digest.encode() in cmdline
    assert _first_bytes(shared_template.address, digest.encode() + b"\n") == b""


def test_a_worker_with_the_token_is_greeted_and_can_spawn(
    shared_template: kernels.Template, tmp_path: Path
) -> None:
    assert shared_template.address is not None and shared_template.token is not None
    worker = kernels.SharedTemplate(shared_template.address, shared_template.token)
    try:
        assert worker.hello()["ready"] == shared_template.proc.pid
        kernel = worker.spawn(SPAWN["argv"], dict(os.environ), str(tmp_path))  # type: ignore[arg-type]
        assert kernel.wait(timeout=60) == 0
    finally:
        worker.close()
    # the owner's pipe needs no token
    assert shared_template.hello()["ready"] == shared_template.proc.pid


def test_pool_workers_get_the_token_as_an_argument_not_in_the_environment() -> None:
    from tandem.engine.executors import LocalExecutor

    executor = LocalExecutor(workers=1, kernels="fork", kinds=("papermill",))
    try:
        assert executor.template is not None and executor.template.token
        kernel_mode, _address, token, *_ = executor._new_pool.keywords["initargs"]
        assert (kernel_mode, token) == ("fork", executor.template.token)
        assert executor.template.token not in json.dumps(dict(os.environ))
        assert executor.pool.submit(_worker_token).result(timeout=120) == token
    finally:
        executor.close()


def _worker_token() -> str | None:
    template = kernels.template()
    assert isinstance(template, kernels.SharedTemplate)
    template.hello()
    return kernels._SHARED_TOKEN


# -- the sandbox level reaches the kernel in its manager's configuration --------------
def test_autograde_work_gives_its_kernel_its_sandbox_level_in_the_configuration() -> None:
    from tandem.engine import sandbox
    from tandem.engine.jobs import Work

    work = Work("w", "autograde", "{}", env={sandbox.SANDBOX_ENV: "landlock"})
    assert work.client_config()[sandbox.SECTION] == {sandbox.TRAIT: "landlock"}
    assert sandbox.SECTION not in Work("p", "papermill", "{}").client_config()


@pytest.mark.parametrize("env", [{}, {"TANDEM_SANDBOX": ""}, {"TANDEM_SANDBOX": "none"}])
def test_autograde_work_without_a_sandbox_level_fails_rather_than_run_unsandboxed(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tandem.engine import jobs

    started: list[str] = []
    monkeypatch.setattr(jobs, "_run_once", lambda work: started.append(work.id))
    monkeypatch.setattr(kernels, "use", lambda *args, **kwargs: None)
    with pytest.raises(ValueError, match="sandbox level"):
        jobs.Work("w", "autograde", "{}", env=env).client_config()
    monkeypatch.setattr(jobs, "_run_once", lambda work: jobs._autograde(work, Path("/nowhere")))
    outcome = jobs.run_work(jobs.Work("w", "autograde", "{}", env=env))
    assert not outcome.ok and "sandbox level" in (outcome.error or "")


def _provisioner(tmp_path: Path, config: dict[str, Any]) -> kernels.ForkProvisioner:
    from jupyter_client.kernelspec import KernelSpec
    from traitlets.config import Config

    from tandem.engine.kernelclient import KernelManager

    km = KernelManager(kernel_name="python3", config=Config(config))
    km.connection_file = str(tmp_path / "kernel.json")
    spec = KernelSpec(argv=["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    provisioner = kernels.ForkProvisioner(kernel_id="k", kernel_spec=spec, parent=km)
    provisioner._ipc_dir = str(tmp_path)
    return provisioner


def test_the_provisioner_takes_the_level_from_its_manager_never_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a multi-threaded worker, os.environ is shared by concurrent jobs: a level read
    from it could be another job's (or none, meaning off). The configuration is the job's."""
    from tandem.engine import sandbox

    monkeypatch.setenv(sandbox.SANDBOX_ENV, "off")  # another job's, in the worker's environment
    confined = _provisioner(tmp_path, {sandbox.SECTION: {sandbox.TRAIT: "landlock"}})
    env = {sandbox.SANDBOX_ENV: "off", "PATH": "/usr/bin"}
    request = confined._sandbox(env, str(tmp_path))
    assert request is not None and request["level"] == "landlock"
    assert sandbox.SANDBOX_ENV not in env  # and the kernel never sees the variable

    plain = _provisioner(tmp_path, {})  # papermill work: no sandbox configured
    assert plain._sandbox({sandbox.SANDBOX_ENV: "root"}, str(tmp_path)) is None
    with pytest.raises(RuntimeError, match="unknown sandbox level"):
        _provisioner(tmp_path, {sandbox.SECTION: {sandbox.TRAIT: "nonsense"}})._sandbox(
            {}, str(tmp_path)
        )
