"""A sandbox for every grading kernel, at the strongest level this machine allows.

Levels, strongest first (:func:`detect` picks one; ``--sandbox strict`` refuses ``basic``):

- ``root`` (Tandem runs as root): each kernel runs under a uid of its own (61000 + slot,
  no account; a machine-wide lock file per slot), in a new network namespace, with
  ``RLIMIT_NPROC``, in a private mount namespace where an interpreter under an unreadable
  folder (pyenv under ``/root``, mode 0700) is exposed read-only, and Landlock as below;
- ``landlock`` (a normal user, Landlock in the kernel): Landlock lets the kernel read only
  its job folder and the Python installation, and signal only its own processes; a user
  and network namespace where the system allows one;
- ``basic``: rlimits and the clean-up below only (Tandem prints a warning);
- ``off``: the kernel is forked as before (``--sandbox off``, ``--kernels plain``).

At every level but ``off``: a root (or same-user) *supervisor* process forks the kernel
as a child subreaper (``PR_SET_CHILD_SUBREAPER``), and when the kernel exits it kills
every process the job started, detached or not (as the job's uid, ``kill(-1)``; then the
tree of its descendants); the kernel's environment is an allowlist; rlimits bound its
memory (``RLIMIT_AS``), file size, open files and CPU seconds.

The template (:mod:`tandem.engine.forkserver`) calls :func:`enter` in the forked child;
this module must stay import-light (stdlib and ctypes only).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import shutil
import signal
import stat
import sys
import tempfile
from typing import Any, NoReturn

from tandem.engine.landlock import check as _check
from tandem.engine.landlock import landlock_abi
from tandem.engine.landlock import libc as _libc
from tandem.engine.landlock import restrict as _landlock

LEVELS = ("off", "basic", "landlock", "root")
#: The Landlock ABI the ``landlock`` level needs under ``--sandbox strict``: signal and
#: abstract-socket scoping (ABI 6; TCP rules came with ABI 4).
STRICT_LANDLOCK_ABI = 6
CHOICES = ("auto", "strict", "off")
#: Names the resolved level in a job's ``Work.env`` (set by the grading process); never
#: read from the environment: a worker's threads share it.
SANDBOX_ENV = "TANDEM_SANDBOX"
#: Where the level travels to the kernel's provisioner: the kernel manager's configuration
#: (``jobs.Work.client_config``), like the output cap, one job's alone.
SECTION, TRAIT = "TandemSandbox", "level"
#: Account-less uids for the kernels, one per concurrently running job on this machine.
UID_BASE, SLOTS = 61000, 1000
SLOT_LOCKS = "/run/tandem-sandbox"
#: rlimits (soft, hard). AS: generous for honest pandas work (an idle kernel maps ~0.9 GiB).
GIB = 1 << 30
LIMITS: dict[str, tuple[int, int]] = {
    "AS": (4 * GIB, 4 * GIB),
    "FSIZE": (1 * GIB, 1 * GIB),
    "NOFILE": (1024, 1024),
    "CPU": (3600, 3660),  # a backstop: nbgrader's cell timeout acts first
}
NPROC = 256  # root level only: it counts the job uid's threads (every process of a user)
#: Variables a kernel keeps; everything else (tokens, TANDEM_*, JUPYTERHUB_*) is dropped.
ENV_ALLOWED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TZ",
    "MPLBACKEND",
    "JPY_SESSION_NAME",
    "NBGRADER_EXECUTION",
    "PYDEVD_DISABLE_FILE_VALIDATION",
    "PYTHONIOENCODING",
)
#: Read (and execute) for every confined kernel, besides the Python installation.
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys")

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x20000, 0x10000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 38, 36
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


# -- levels ----------------------------------------------------------------------------
def detect() -> str:
    """The strongest level this process can give its fork-started kernels."""
    if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"):
        return "basic"
    if os.geteuid() == 0:
        return "root"
    return "landlock" if landlock_abi() >= 1 else "basic"


def resolve(choice: str, kernels: str = "fork") -> str:
    """The level a run uses for ``--sandbox choice``; refuses ``strict`` below ``landlock``."""
    from tandem.errors import UsageError

    if choice not in CHOICES:
        raise UsageError(f"--sandbox must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "off":
        return "off"
    level = detect() if kernels == "fork" else "off"
    if choice == "strict" and LEVELS.index(level) < LEVELS.index("landlock"):
        why = "--kernels plain has no sandbox" if kernels != "fork" else "neither root nor Landlock"
        raise UsageError(f"--sandbox strict: this machine cannot sandbox kernels ({why})")
    if choice == "strict" and level == "landlock" and landlock_abi() < STRICT_LANDLOCK_ABI:
        raise UsageError(
            f"--sandbox strict: Landlock ABI {landlock_abi()} cannot keep kernels from "
            f"signalling this user's processes (ABI {STRICT_LANDLOCK_ABI} or later needed)"
        )
    return level


def describe(level: str) -> str:
    """One line for the start of a run: the level and what it means (with the Landlock
    ABI, which decides what Landlock can deny)."""
    abi = landlock_abi() if level in ("root", "landlock") else 0
    missing = []
    if level == "landlock" and abi < 6:
        missing.append("signals and abstract sockets not scoped")
    if level == "landlock" and abi < 4:
        missing.append("TCP not restricted without a network namespace")
    note = f"Landlock ABI {abi}" + "".join(f"; {m}" for m in missing)
    return {
        "root": f"sandbox: root (a uid per kernel, no network, Landlock, rlimits, clean-up; "
        f"{note if abi else 'no Landlock'})",
        "landlock": "sandbox: landlock (own job folder only, no network where allowed, "
        f"rlimits, clean-up; {note})",
        "basic": "sandbox: basic - WARNING: kernels can read what this user can read "
        "(no root, no Landlock); rlimits and clean-up only",
        "off": "sandbox: off - WARNING: kernels run with this user's rights",
    }[level]


# -- the supervisor (root or this user), in the template's forked child ---------------
def enter(request: dict[str, Any], ready_fd: int) -> tuple[list[str], dict[str, str]]:
    """In the template's forked child: become the job's supervisor, fork the kernel,
    write its pid to ``ready_fd``. Returns only in the kernel, confined, with the argv
    and environment it must run with; the supervisor exits when the job is done."""
    level = request["level"]
    slot_fd, uid = -1, None
    if level == "root":
        slot, slot_fd = _take_slot()
        uid = UID_BASE + slot
        _kill_uid(uid)  # anything a crashed run left under this uid
    supervisor = os.getpid()
    _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    kernel = os.fork()
    if kernel == 0:
        os.close(ready_fd)
        if slot_fd >= 0:
            os.close(slot_fd)
        return _confine(request, uid, supervisor)
    os.write(ready_fd, str(kernel).encode())
    os.close(ready_fd)
    _supervise(kernel, uid)


def _take_slot() -> tuple[int, int]:
    """A slot no other job on this machine holds (an flock held while the job runs)."""
    os.makedirs(SLOT_LOCKS, mode=0o700, exist_ok=True)
    for slot in range(SLOTS):
        fd = os.open(f"{SLOT_LOCKS}/{slot}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return slot, fd
    raise OSError(f"all {SLOTS} sandbox uids are in use")


def _kill_uid(uid: int) -> None:
    """Kill every process of ``uid`` (a child that becomes ``uid`` and calls kill(-1))."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    for child in children.read().split():
                        found.append(int(child))
                        queue.append(int(child))
    return found


def _clean_up(uid: int | None) -> None:
    """Kill and reap every process left by the job (orphans come to us: subreaper)."""
    for _ in range(1000):
        if uid is not None:
            _kill_uid(uid)
        left = _descendants(os.getpid())
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0 if left else os.WNOHANG)
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return


def _supervise(kernel: int, uid: int | None) -> NoReturn:
    def stop(signum: int, frame: Any) -> None:
        with contextlib.suppress(OSError):
            os.kill(kernel, signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() == 1:  # the template went before PDEATHSIG was set
        stop(signal.SIGTERM, None)
    status = 0
    while True:
        try:
            pid, waited = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == kernel:
            status = waited
            break
    _clean_up(uid)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # end as the kernel did, so its owner sees the same status
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


# -- the kernel ------------------------------------------------------------------------
def _confine(
    request: dict[str, Any], uid: int | None, supervisor: int
) -> tuple[list[str], dict[str, str]]:
    level = request["level"]
    os.setsid()  # the kernel's own group: an interrupt reaches the kernel and its children
    job, ipc = os.path.realpath(request["job_dir"]), os.path.realpath(request["ipc_dir"])
    home, tmp = os.path.join(ipc, "home"), os.path.join(ipc, "tmp")
    for folder in (home, tmp):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    argv = list(request["argv"])
    connection = os.path.join(ipc, "connection.json")
    shutil.copyfile(request["connection_file"], connection)
    argv = _with_connection_file(argv, connection)
    if level == "root" and uid is not None:
        for folder in (job, ipc):
            _chown_tree(_made_for_the_job(folder), uid)
        _expose(_python_paths())
        _check(_libc().unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        isolated = _loopback_up()
    elif level == "landlock":
        isolated = _user_and_net_namespace() and _loopback_up()  # where the system allows it
    else:
        isolated = False
    _set_limits(root=level == "root")
    if level == "root" and uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid, which clears it
    if os.getppid() != supervisor:
        os._exit(1)
    # at every level, Landlock or not: no exec (setuid binaries, file capabilities) can
    # give the kernel or its children more privileges than it has now
    _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    if level == "landlock" or (level == "root" and landlock_abi() >= 1):
        # in a network namespace of its own, TCP on its loopback (ipykernel's subprocess
        # output pipe) is harmless; without one, Landlock denies every TCP bind and connect
        _landlock(read=[*_python_paths(), *SYSTEM_READ], write=[job, ipc], tcp=not isolated)
    os.chdir(job)
    env = _environment(request["env"], home=home, tmp=tmp, uid=uid)
    return argv, env


def _with_connection_file(argv: list[str], path: str) -> list[str]:
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            return [*argv[: i + 1], path, *argv[i + 2 :]]
        if arg.startswith(("--f=", "-f=")):
            return [*argv[:i], f"--f={path}", *argv[i + 1 :]]
    raise ValueError("the kernel command has no connection file (-f)")


#: The folders Tandem makes for one job (:mod:`tandem.engine.jobs`, :mod:`tandem.engine.kernels`):
#: the only ones a kernel's uid may be given.
JOB_FOLDER_PREFIXES = ("tandem-job-", "tandem-kernel-")


def _made_for_the_job(folder: str) -> str:
    """``folder`` if it lies in a temporary folder Tandem made for this job, else refuse:
    the sandbox hands its folders to another uid, and must never do that to a folder of
    the facilitator's (a kernel started in a checkout or a course directory)."""
    temp = os.path.realpath(tempfile.gettempdir())
    relative = os.path.relpath(folder, temp)
    first = relative.split(os.sep, 1)[0]
    refused = relative.startswith("..") or not first.startswith(JOB_FOLDER_PREFIXES)
    path = temp
    for part in [] if refused else relative.split(os.sep):
        # each folder from the job folder down: made by this process's uid (not a folder
        # another user made under that name; or already handed to a kernel's uid, when a
        # kernel restarts in its job), and a folder itself, not a link elsewhere
        path = os.path.join(path, part)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            refused = path == os.path.join(temp, first)  # the job folder itself must exist
            break
        owner = info.st_uid
        if not stat.S_ISDIR(info.st_mode) or (
            owner != os.geteuid() and not UID_BASE <= owner < UID_BASE + SLOTS
        ):
            refused = True
            break
    if refused:
        raise RuntimeError(
            f"a sandboxed kernel must start in a job folder Tandem made, not in {folder}"
        )
    return folder


def _chown_tree(folder: str, uid: int) -> None:
    os.chown(folder, uid, uid)
    os.chmod(folder, 0o700)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)


def _python_paths() -> list[str]:
    """The Python installation: interpreter prefixes and import path folders."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix)}
    paths.update(os.path.realpath(p) for p in sys.path if p and os.path.isdir(p))
    return sorted(paths)


def _hidden_ancestor(path: str) -> str | None:
    """The highest folder on the way to ``path`` that others cannot enter (no o+x)."""
    current = "/"
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & stat.S_IXOTH:
            return current
    return None


def _expose(paths: list[str]) -> None:
    """In a private mount namespace, a tmpfs over each folder the job's uid cannot enter
    on the way to ``paths``, with those paths bind-mounted back read-only."""
    hidden: dict[str, list[str]] = {}
    for path in paths:
        ancestor = _hidden_ancestor(path)
        if ancestor is not None:
            hidden.setdefault(ancestor, []).append(path)
    if not hidden:
        return
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    for ancestor, inside in sorted(hidden.items()):
        fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in inside}
        flags = MS_NOSUID | MS_NODEV
        _check(libc.mount(b"tmpfs", ancestor.encode(), b"tmpfs", flags, b"mode=0755"), "tmpfs")
        for path, fd in fds.items():
            os.makedirs(path, mode=0o755, exist_ok=True)
            source, target = f"/proc/self/fd/{fd}".encode(), path.encode()
            _check(libc.mount(source, target, None, MS_BIND | MS_REC, None), f"bind {path}")
            readonly = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
            _check(libc.mount(None, target, None, readonly, None), f"read-only {path}")
            os.close(fd)


def _user_and_net_namespace() -> bool:
    uid, gid = os.getuid(), os.getgid()
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return False
    with contextlib.suppress(OSError):
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    return True


def _set_limits(*, root: bool) -> None:
    for name, (soft, hard) in LIMITS.items():
        kind = getattr(resource, f"RLIMIT_{name}")
        _, current = resource.getrlimit(kind)
        if current != resource.RLIM_INFINITY and not root:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(kind, (soft, hard))
    if root:
        resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))


def _loopback_up() -> bool:
    """Bring up ``lo`` in a new network namespace (it starts down): the kernel talks to
    its own processes over it, and it reaches nothing outside."""
    import socket
    import struct

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            request = struct.pack("16sH14x", b"lo", 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(sock, 0x8913, request))[1]  # GET
            fcntl.ioctl(sock, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))  # SET IFF_UP
    except OSError:
        return False
    return True


def _environment(
    requested: dict[str, str], *, home: str, tmp: str, uid: int | None
) -> dict[str, str]:
    env = {k: v for k, v in requested.items() if k in ENV_ALLOWED}
    user = f"tandem-{uid}" if uid is not None else requested.get("USER", "tandem")
    env.update(HOME=home, TMPDIR=tmp, USER=user, LOGNAME=user)
    env.setdefault("LANG", "C.UTF-8")
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    return env
