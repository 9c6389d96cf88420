"""The grading sandbox's plumbing: who may ask the kernel template for a process, and how
a job's sandbox level reaches its kernel."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

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
        kernel_mode, address, token, *_ = executor._new_pool.keywords["initargs"]
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
