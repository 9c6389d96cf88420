"""What a cohort's account plan asks of this machine, and doing it as root.

:func:`steps` compares an :class:`~tandem.hub.accounts.AccountPlan` with the accounts and
groups that exist and gives, per group and account, what to do and the exact commands
(``groupadd``, ``useradd``, ``usermod``, ``chmod``). :func:`apply` runs them, as argument
lists, never through a shell. Both are idempotent: what exists is left as it is and said
to exist. Only planned names are ever touched, and nothing is deleted: a withdrawn
participant's account is locked (``usermod -L``) and its processes stopped (``pkill -u``),
its home and files kept.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tandem.cohort.forged import HUB_RECORD
from tandem.errors import CohortError
from tandem.hub.accounts import Account, AccountPlan

SHADOW = Path("/etc/shadow")
Command = tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One group or account: ``action`` is ``create``, ``update`` (group membership or
    home mode), ``lock``, or, when nothing is to be done, ``exists``, ``locked`` or
    ``absent`` (a withdrawn participant who never had an account)."""

    subject: str
    action: str
    commands: tuple[Command, ...] = ()
    note: str = ""

    def line(self) -> str:
        return f"{self.subject}: {self.action}" + (f" ({self.note})" if self.note else "")


def is_root() -> bool:
    return os.geteuid() == 0


def _group(name: str) -> grp.struct_group | None:
    try:
        return grp.getgrnam(name)
    except KeyError:
        return None


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def password_field(name: str) -> str | None:
    """``name``'s password field in /etc/shadow; None if absent or unreadable."""
    try:
        lines = SHADOW.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if fields[0] == name and len(fields) > 1:
            return fields[1]
    return None


def _locked(name: str) -> bool | None:
    """Whether ``name``'s password is locked; None when /etc/shadow cannot be read."""
    field = password_field(name)
    return None if field is None else field.startswith("!")


def _in_group(user: pwd.struct_passwd, group: str) -> bool:
    found = _group(group)
    return found is not None and (user.pw_name in found.gr_mem or user.pw_gid == found.gr_gid)


def _home_mode(home: str) -> int | None:
    try:
        return stat.S_IMODE(os.stat(home).st_mode)
    except OSError:
        return None


def _subject(account: Account) -> str:
    who = f"participant {account.participant}" if account.participant else "facilitator"
    return f"account {account.name} ({who}; groups {', '.join(account.groups)}; home 0700)"


def _account_step(account: Account) -> Step:
    subject = _subject(account)
    user = _user(account.name)
    if not account.active:
        if user is None:
            return Step(subject, "absent", note="withdrawn, never had an account")
        if _locked(account.name):
            return Step(subject, "locked", note="withdrawn")
        # Locked, and whatever still runs as them (their server, its kernels) stopped:
        # with no hub admin, nothing else would stop a withdrawn participant's server.
        stop = ("pkill", "-KILL", "-u", account.name)
        return Step(subject, "lock", (("usermod", "-L", account.name), stop), "withdrawn")
    if user is None:
        create: Command = ("useradd", "-m", "-d", account.home, "-s", "/bin/bash")
        create += ("-G", ",".join(account.groups), account.name)
        chmod = ("chmod", f"{account.home_mode:04o}", account.home)
        return Step(subject, "create", (create, chmod))
    commands: list[Command] = [
        ("usermod", "-a", "-G", group, account.name)
        for group in account.groups
        if not _in_group(user, group)
    ]
    mode = _home_mode(user.pw_dir)
    if mode is not None and mode != account.home_mode:
        commands.append(("chmod", f"{account.home_mode:04o}", user.pw_dir))
    if commands:
        return Step(subject, "update", tuple(commands))
    return Step(subject, "exists")


def steps(plan: AccountPlan) -> list[Step]:
    """What to do for each group, then each account, of ``plan``."""
    found: list[Step] = []
    for group in plan.groups:
        if _group(group) is None:
            found.append(Step(f"group {group}", "create", (("groupadd", group),)))
        else:
            found.append(Step(f"group {group}", "exists"))
    found += [_account_step(account) for account in plan.accounts]
    return found


def commands(found: list[Step]) -> list[str]:
    """The commands of ``found``, as an administrator would type them."""
    return [shlex.join(command) for step in found for command in step.commands]


DONE = {"create": "created", "update": "updated", "lock": "locked"}


def apply(found: list[Step]) -> list[Step]:
    """Run the commands of ``found`` as root; the steps as done (``created``, ...)."""
    if not is_root():
        raise CohortError(
            f"--apply needs root (this is uid {os.geteuid()}): run the commands above as "
            "root, or the same command with sudo"
        )
    done = []
    for step in found:
        for command in step.commands:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if command[0] == "pkill" and result.returncode == 1:
                continue  # nothing of theirs was running
            if result.returncode != 0:
                why = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
                raise CohortError(f"{shlex.join(command)} failed: {why}")
        done.append(Step(step.subject, DONE.get(step.action, step.action), (), step.note))
    return done


def record_hub(root: Path, plan: AccountPlan, facilitator: str | None) -> None:
    """Remember, in the workspace, that its accounts were made: roster changes then say
    which accounts to add or lock, and collect refuses a submission made from an account
    that is not its id's (:mod:`tandem.cohort.forged`)."""
    from tandem.fsutil import atomic_write_json

    accounts = {a.participant: a.name for a in plan.accounts if a.participant is not None}
    record = {"prefix": plan.prefix, "facilitator": facilitator, "accounts": accounts}
    atomic_write_json(root / HUB_RECORD, record)


def pending(root: Path) -> list[str]:
    """For a cohort whose hub accounts were made here: each account or group still to add,
    update or lock, with the command that does it. Empty when the cohort is not on a hub."""
    import json

    from tandem.cohort.workspace import Workspace
    from tandem.hub.accounts import account_plan

    try:
        made = json.loads((root / HUB_RECORD).read_text(encoding="utf-8"))
        prefix, facilitator = str(made["prefix"]), made.get("facilitator")
    except (OSError, ValueError, KeyError, TypeError):
        return []
    plan = account_plan(Workspace(root).load(), prefix, facilitator)
    todo = [step for step in steps(plan) if step.commands]
    if not todo:
        return []
    lines = [f"Hub: {step.subject}: {step.action}" for step in todo]
    again = shlex.join(["tandem", "hub", "users", str(root), "--prefix", prefix])
    if facilitator:
        again += f" --facilitator {shlex.quote(facilitator)}"
    lines.append(f"Hub: as root, run: {again} --apply")
    return lines


__all__ = [
    "HUB_RECORD",
    "Step",
    "apply",
    "commands",
    "is_root",
    "password_field",
    "pending",
    "record_hub",
    "steps",
]
