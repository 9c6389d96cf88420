"""Landlock (Linux's unprivileged sandboxing) and the libc calls the sandbox makes, via
ctypes: the ABI this kernel has, and restricting the calling thread to a set of folders
(the syscall numbers and structures are the same on x86_64 and arm64)."""

from __future__ import annotations

import ctypes
import os
import stat
import sys
from typing import Any

PR_SET_NO_NEW_PRIVS = 38
#: Devices a kernel needs read and write on (``!cmd`` needs a pty).
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/ptmx", "/dev/pts")
#: Landlock filesystem rights (1 << n) and syscalls (the same on x86_64 and arm64).
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_TRUNCATE, LL_IOCTL_DEV = 1 << 14, 1 << 15
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446

_LIBC: Any = None


def libc() -> Any:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.syscall.restype = ctypes.c_long
    return _LIBC


def check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when there is none."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = libc().syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_long(0), 1)
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def restrict(read: list[str], write: list[str], *, tcp: bool = True) -> None:
    """Landlock: read ``read``, everything in ``write``, the usual devices; no TCP, no
    signals or abstract sockets outside the kernel's own processes (by ABI)."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available")
    handled = (1 << 13) - 1
    for version, bit in ((2, 13), (3, 14), (5, 15)):
        if abi >= version:
            handled |= 1 << bit
    attr = _RulesetAttr(handled, 3 if abi >= 4 and tcp else 0, 3 if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    lib, call = libc(), ctypes.c_long
    ruleset = check(
        lib.syscall(call(SYS_CREATE_RULESET), ctypes.byref(attr), call(size), call(0)),
        "landlock_create_ruleset",
    )
    device = LL_READ_FILE | LL_WRITE_FILE | LL_READ_DIR | LL_IOCTL_DEV | LL_TRUNCATE
    rules = [(p, LL_READ) for p in read] + [(p, handled) for p in write]
    rules += [(p, device) for p in DEVICES]
    try:
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    rights &= LL_FILE_RIGHTS
                rule = _PathBeneath(rights & handled, fd)
                check(
                    lib.syscall(call(SYS_ADD_RULE), call(ruleset), call(1), ctypes.byref(rule), 0),
                    f"landlock_add_rule {path}",
                )
            finally:
                os.close(fd)
        check(lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
        check(lib.syscall(call(SYS_RESTRICT_SELF), call(ruleset), call(0)), "landlock")
    finally:
        os.close(ruleset)
