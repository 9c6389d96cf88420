"""Grading kernels run in a sandbox: attack notebooks graded at each level this machine has.

``tests/fixtures/attacks/`` holds submissions of the faults quiz that attack the grading
machine (``make_attacks.py`` writes them): ``spy`` reads other submissions, the cohort
file, the gradebook, the store, its ancestors' ``/proc`` entries and the environment;
``detached_rewriter`` starts a detached, double-forked process that rewrites the
gradebook 2 s after the run. An honest ``correct`` submission is graded beside them.

The root level runs here (as root); the normal-user level runs the same grading as a
throwaway unprivileged account (``useradd``, then ``runuser``), in a mount namespace
where the interpreter under ``/root`` (mode 0700) is exposed read-only.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tandem.engine import sandbox

from ..conftest import FIXTURES
from ..fixtures.attacks import make_attacks
from ..fixtures.faults import make_faults

pytestmark = pytest.mark.slow  # real nbgrader and real kernels

QUIZ, NOTEBOOK = make_faults.ASSIGNMENT, make_faults.NOTEBOOK
STUDENTS = ["correct", "spy", "detached_rewriter"]
SECRET = "secret-token-for-the-sandbox-test"
ROOT = Path(__file__).resolve().parents[2]
#: Grades the course in a process of its own (as root, or as the test account) and
#: prints each student's (status, score) as JSON.
GRADE = """
import json, os, sys
from tandem.engine.batch import RunOptions
from tandem.grading.autograde import course_api, grade
from tandem.grading.checkpoints import quiet_nbgrader

if __name__ == "__main__":
    course, level = sys.argv[1], sys.argv[2]
    os.chdir(course)  # as a facilitator would: the attack looks for it through /proc
    options = RunOptions(progress=False, sandbox=level, workers=2)
    with quiet_nbgrader():
        outcomes = grade(course_api(course), [("quiz", s) for s in sys.argv[3:]], options=options)
    print(json.dumps({o.student: [o.status, o.score] for o in outcomes}))
"""


def make_course(folder: Path) -> Path:
    """The quiz released, the three submissions in, a cohort file and store beside them."""
    from tandem.cohort.workspace import _fast_gradebook_creation
    from tandem.grading.autograde import course_api

    _fast_gradebook_creation()
    course = folder / "course"
    shutil.copytree(FIXTURES / "faults" / "course", course)
    result = course_api(course).generate_assignment(QUIZ, force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    for student in STUDENTS:
        source = FIXTURES / ("faults" if student == "correct" else "attacks") / f"{student}.ipynb"
        target = course / "submitted" / student / QUIZ / NOTEBOOK
        target.parent.mkdir(parents=True)
        target.write_text(source.read_text().replace("__COURSE__", str(course)))
    (course / "cohort.yml").write_text("participants:\n- name: Ada Lovelace\n  email: ada@x.org\n")
    (course / "store").mkdir()
    (course / "store" / "checkins.csv").write_text("participant,mood\nada,great\n")
    return course


def run_grading(course: Path, level: str, user: str | None = None) -> dict[str, Any]:
    script = course.parent / "grade.py"
    script.write_text(GRADE)
    env = {**os.environ, "JUPYTERHUB_API_TOKEN": SECRET, "TANDEM_SECRET": SECRET}
    argv = [sys.executable, str(script), str(course), level, *STUDENTS]
    if user is not None:
        home = course.parent / "home"
        env.update(HOME=str(home), USER=user, LOGNAME=user)
        argv = [sys.executable, "-c", EXPOSE, user, *argv]
    # files, not pipes: without the sandbox the detached attack holds them open for 60 s
    out, log = course.parent / "grade.out", course.parent / "grade.log"
    with out.open("w") as stdout, log.open("w") as stderr:
        code = subprocess.run(argv, env=env, cwd=course, stdout=stdout, stderr=stderr).returncode
    assert code == 0, log.read_text()[-4000:]
    result: dict[str, Any] = json.loads(out.read_text().strip().splitlines()[-1])
    return result


#: As root: a mount namespace exposing the interpreter read-only, then the test account.
EXPOSE = """
import os, sys
from tandem.engine import sandbox
sandbox._expose(sandbox._python_paths())
os.execvp("runuser", ["runuser", "-u", sys.argv[1], "--", *sys.argv[2:]])
"""


def spy_output(course: Path) -> str:
    path = course / "autograded" / "spy" / QUIZ / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == "answer-double")
    return "".join(o.get("text", "") for o in cell.outputs)


def gradebook_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    from tandem.grading.autograde import course_api

    coursedir = course_api(course).coursedir
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        return {s: float(gradebook.find_submission(QUIZ, s).score) for s in STUDENTS}


def attack_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if (
                entry.name.isdigit()
                and make_attacks.MARKER.encode() in (entry / "cmdline").read_bytes()
            ):
                found.append(int(entry.name))
    return found


@pytest.fixture
def no_attack_left() -> Iterator[None]:
    yield
    for pid in attack_processes():  # only after a run without the sandbox
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def check_contained(course: Path, reported: dict[str, Any]) -> None:
    assert reported["correct"] == ["graded", 5.0]  # honest work scores as before
    assert reported["spy"] == ["graded", 5.0]
    assert reported["detached_rewriter"] == ["graded", 3.0]
    output = spy_output(course)
    assert "LEAK" not in output, output
    for what in ("other submission", "cohort.yml", "gradebook", "store", "parent cwd"):
        assert f"DENIED {what}" in output, output
    assert SECRET not in output
    assert attack_processes() == []  # the detached process ended with its job
    time.sleep(3)  # it would have rewritten the gradebook after 2 s
    assert gradebook_scores(course) == {s: score for s, (_, score) in reported.items()}


# -- levels ----------------------------------------------------------------------------
def test_levels_are_chosen_by_what_the_process_may_do() -> None:
    assert sandbox.resolve("off") == "off"
    assert sandbox.resolve("auto", kernels="plain") == "off"
    expected = "root" if os.geteuid() == 0 else "landlock" if sandbox.landlock_abi() else "basic"
    assert sandbox.resolve("auto") == expected
    assert sandbox.describe(expected).startswith(f"sandbox: {expected}")


def test_strict_refuses_plain_kernels() -> None:
    from tandem.errors import UsageError

    with pytest.raises(UsageError, match="--sandbox strict"):
        sandbox.resolve("strict", kernels="plain")


def test_the_attacks_work_without_the_sandbox(tmp_path: Path, no_attack_left: None) -> None:
    """The fixtures are real attacks: with ``--sandbox off`` each one succeeds."""
    course = make_course(tmp_path)
    reported = run_grading(course, "off")
    output = spy_output(course)
    assert "LEAK other submission" in output and "LEAK gradebook" in output, output
    assert "LEAK cohort.yml" in output and "LEAK environment" in output, output
    assert attack_processes() != []
    time.sleep(3)
    assert gradebook_scores(course) != {s: score for s, (_, score) in reported.items()}


@pytest.mark.skipif(os.geteuid() != 0, reason="the root level needs root")
def test_attacks_are_contained_at_the_root_level(tmp_path: Path, no_attack_left: None) -> None:
    course = make_course(tmp_path)
    check_contained(course, run_grading(course, "strict"))


@pytest.fixture
def test_account(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A throwaway unprivileged account and a folder it owns (removed afterwards)."""
    name = f"tandemt{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", name], check=True)
    try:
        account = pwd.getpwnam(name)
        folder = Path(f"/tmp/tandem-sandbox-test-{name}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=0o755)
        yield name, folder
    finally:
        subprocess.run(["pkill", "-KILL", "-u", str(account.pw_uid)], check=False)
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a test account needs root")
@pytest.mark.skipif(sandbox.landlock_abi() < 1, reason="no Landlock in this kernel")
def test_attacks_are_contained_at_the_normal_user_level(
    test_account: tuple[str, Path], no_attack_left: None
) -> None:
    name, folder = test_account
    course = make_course(folder)
    (folder / "home").mkdir()
    account = pwd.getpwnam(name)
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, account.pw_uid, account.pw_gid)
    check_contained(course, run_grading(course, "strict", user=name))


def test_grade_prints_the_level_and_strict_refuses_plain_kernels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ..factories import run_cli

    argv = ["grade", "--course-dir", str(tmp_path), "--assignment", QUIZ]
    code, _, err = run_cli([*argv, "--sandbox", "strict", "--kernels", "plain"], capsys)
    assert code != 0 and "--sandbox strict: this machine cannot sandbox kernels" in err
    code, _, err = run_cli([*argv, "--sandbox", "off"], capsys)
    assert "sandbox: off - WARNING" in err.splitlines()[0]


def test_the_sandbox_hands_only_folders_tandem_made_for_the_job_to_the_kernels_uid(
    tmp_path: Path,
) -> None:
    """The root level gives the job's folders to the kernel's uid: never a folder of the
    facilitator's (a checkout, a course directory, the temporary folder itself)."""
    import tempfile

    from tandem.engine.sandbox import _made_for_the_job

    job = tempfile.mkdtemp(prefix="tandem-job-")
    try:
        inner = os.path.join(job, "course", "submitted")
        assert _made_for_the_job(job) == job
        assert _made_for_the_job(inner) == inner
    finally:
        os.rmdir(job)
    for folder in (str(ROOT), tempfile.gettempdir(), "/", str(tmp_path)):
        with pytest.raises(RuntimeError, match="job folder Tandem made"):
            _made_for_the_job(folder)


# -- hardening -------------------------------------------------------------------------
def test_the_sandbox_refuses_links_and_folders_another_user_made_under_a_job_folders_name(
    tmp_path: Path,
) -> None:
    """A folder named like a job's is not enough: it must be a folder this process's uid
    made, not a link to a facilitator's folder, nor another user's folder."""
    import tempfile

    from tandem.engine.sandbox import _made_for_the_job

    temp = tempfile.gettempdir()
    link = os.path.join(temp, f"tandem-job-link-{os.getpid()}")
    os.symlink(str(ROOT), link)
    job = tempfile.mkdtemp(prefix="tandem-job-")
    try:
        os.symlink(str(ROOT), os.path.join(job, "checkout"))
        for folder in (link, os.path.join(link, "docs"), os.path.join(job, "checkout")):
            with pytest.raises(RuntimeError, match="job folder Tandem made"):
                _made_for_the_job(folder)
        assert _made_for_the_job(job) == job
        if os.geteuid() == 0:  # a folder another user made under a job folder's name
            os.chown(job, 12345, 12345)
            with pytest.raises(RuntimeError, match="job folder Tandem made"):
                _made_for_the_job(job)
            os.chown(job, sandbox.UID_BASE + 3, sandbox.UID_BASE + 3)  # a kernel's, restarted
            assert _made_for_the_job(job) == job
    finally:
        os.unlink(link)
        shutil.rmtree(job)


def _no_new_privs_in_a_kernel(level: str, *, landlock: bool) -> str:
    """Confine a forked child at ``level`` (as the template does) and report the kernel's
    ``NoNewPrivs`` flag from ``/proc/self/status``."""
    import tempfile

    job = tempfile.mkdtemp(prefix="tandem-job-")
    ipc = tempfile.mkdtemp(prefix="tandem-kernel-")
    connection = os.path.join(ipc, "kernel.json")
    Path(connection).write_text("{}")
    ready_r, ready_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the supervisor; enter() returns only in the kernel
        try:
            os.close(ready_r)
            os.close(out_r)
            os.setsid()
            if not landlock:
                sandbox.landlock_abi = lambda: 0  # this child only
            request = {"level": level, "job_dir": job, "ipc_dir": ipc}
            request.update(connection_file=connection, argv=["python", "-f", connection], env={})
            sandbox.enter(request, ready_w)
            with open("/proc/self/status") as status:
                flag = next(line for line in status if line.startswith("NoNewPrivs:"))
            os.write(out_w, flag.split()[1].encode())
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(out_w)
    try:
        with os.fdopen(out_r, "rb") as out:
            flag = out.read().decode()
        os.waitpid(pid, 0)
    finally:
        os.close(ready_r)
        shutil.rmtree(job, ignore_errors=True)
        shutil.rmtree(ipc, ignore_errors=True)
    return flag


@pytest.mark.parametrize("level", ["basic", "root"])
def test_no_new_privileges_at_every_level_even_without_landlock(level: str) -> None:
    if level == "root" and os.geteuid() != 0:
        pytest.skip("the root level needs root")
    assert _no_new_privs_in_a_kernel(level, landlock=False) == "1"


def test_the_level_line_names_the_landlock_abi_and_strict_needs_signal_scoping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tandem.errors import UsageError

    monkeypatch.setattr(sandbox, "detect", lambda: "landlock")
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 5)
    assert "Landlock ABI 5" in sandbox.describe("landlock")
    assert "signals and abstract sockets not scoped" in sandbox.describe("landlock")
    assert sandbox.resolve("auto") == "landlock"  # graded, and the line says what is missing
    with pytest.raises(UsageError, match="Landlock ABI 5"):
        sandbox.resolve("strict")
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 7)
    assert sandbox.resolve("strict") == "landlock"
    assert "Landlock ABI 7" in sandbox.describe("landlock")
    assert "Landlock ABI 7" in sandbox.describe("root")


#: As the test account: a landlock-level kernel forked from a pool's shared template is
#: handed the template's socket address and tries to greet it and ask it for a process.
TEMPLATE_ATTACK = '''
import asyncio, json, sys, tempfile
from traitlets.config import Config
from tandem.engine import kernels
from tandem.engine.jobs import QUIET_KERNEL
from tandem.engine.kernelclient import KernelManager

ATTACK = """
import json, socket, sys
spawn = {"op": "spawn", "argv": [sys.executable, "-m", "ipykernel_launcher", "--version"],
         "env": {}, "cwd": "/"}
got = {}
for first in (b"", b"a-guess\\\\n"):
    data = b""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(5)
        try:
            client.connect(ADDRESS)
            got["connected"] = True
            client.sendall(first + json.dumps(spawn).encode() + b"\\\\n")
            while chunk := client.recv(65536):
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
        except OSError as exc:
            data += repr(exc).encode()
    got[first.decode().strip() or "no token"] = data.decode(errors="replace")
print("RESULT" + json.dumps(got))
"""


async def main(address):
    job = tempfile.mkdtemp(prefix="tandem-job-")
    config = Config({"TandemSandbox": {"level": "landlock"}})
    km = KernelManager(kernel_name="python3", config=config)
    await km.start_kernel(cwd=job, extra_arguments=list(QUIET_KERNEL))
    kc = km.client()
    kc.start_channels()
    printed = []
    try:
        await kc.wait_for_ready(timeout=60)
        hook = lambda m: printed.append(m["content"].get("text", ""))  # noqa: E731
        code = ATTACK.replace("ADDRESS", repr(address))
        await kc.execute_interactive(code, output_hook=hook, timeout=60)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return "".join(printed)


template = kernels.Template(listen=True)
kernels.use("fork", shared=template.address, token=template.token)
try:
    assert type(kernels.template()).__name__ == "SharedTemplate"
    print(asyncio.run(main(template.address)))
finally:
    template.close()
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a test account needs root")
@pytest.mark.skipif(sandbox.landlock_abi() < 1, reason="no Landlock in this kernel")
def test_a_landlock_kernel_cannot_get_a_process_from_the_shared_template(
    test_account: tuple[str, Path],
) -> None:
    """At the landlock level a kernel runs as the facilitator's uid, and Landlock (ABI < 9)
    does not stop connect() to a pathname socket: it reaches the template's socket, but
    without the token the template says nothing and spawns nothing."""
    name, folder = test_account
    home = folder / "home"
    home.mkdir()
    script = folder / "attack.py"
    script.write_text(TEMPLATE_ATTACK)
    account = pwd.getpwnam(name)
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, account.pw_uid, account.pw_gid)
    env = {**os.environ, "HOME": str(home), "USER": name, "LOGNAME": name}
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    argv = [sys.executable, "-c", EXPOSE, name, sys.executable, str(script)]
    done = subprocess.run(argv, env=env, cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    got = json.loads(line.removeprefix("RESULT"))
    assert got == {"connected": True, "no token": "", "a-guess": ""}, got
