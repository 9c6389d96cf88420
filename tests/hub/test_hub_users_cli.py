"""``tandem hub users``: the plan and commands printed; as root, real accounts made."""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tandem.cohort.membership import add_participants, withdraw
from tandem.cohort.workspace import Workspace
from tests.factories import run_cli

ROOT = os.geteuid() == 0
NEWCOMER = "id,name,email,role\nNew.Comer,New Comer,new@example.org,junior\n"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A prefix no other account on this machine has; every account and group it starts
    (homes included) is removed afterwards, whatever the test did."""
    prefix = f"tdmt{secrets.token_hex(2)}-"
    assert not [u for u in pwd.getpwall() if u.pw_name.startswith(prefix)]
    yield prefix
    if not ROOT:
        return
    for user in pwd.getpwall():
        if user.pw_name.startswith(prefix):
            subprocess.run(["userdel", "-r", user.pw_name], capture_output=True, check=False)
    for group in grp.getgrall():
        if group.gr_name.startswith(prefix):
            subprocess.run(["groupdel", group.gr_name], capture_output=True, check=False)
    assert not [u.pw_name for u in pwd.getpwall() if u.pw_name.startswith(prefix)]
    assert not [g.gr_name for g in grp.getgrall() if g.gr_name.startswith(prefix)]


def _exists(name: str) -> bool:
    return subprocess.run(["getent", "passwd", name], capture_output=True).returncode == 0


def test_without_apply_it_prints_the_plan_and_commands_and_changes_nothing(
    cohort_at: Callable[..., Workspace], capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    ws = cohort_at("initialised")
    course = ws.load().course_id
    group = f"{prefix}{course}-participants"
    code, out, _ = run_cli(["hub", "users", str(ws.root), "--prefix", prefix], capsys)
    assert code == 0, out
    assert f"group {group}: create" in out
    assert f"account {prefix}j1 (participant j1; groups {group}; home 0700): create" in out
    assert f"  groupadd {group}\n" in out
    assert f"  useradd -m -d /home/{prefix}j1 -s /bin/bash -G {group} {prefix}j1\n" in out
    assert f"  chmod 0700 /home/{prefix}j1\n" in out
    assert not _exists(f"{prefix}j1")
    assert grp.getgrall() and group not in {g.gr_name for g in grp.getgrall()}


def test_after_cohort_add_the_newcomer_account_is_to_be_created(
    cohort_at: Callable[..., Workspace],
    write_roster: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    prefix: str,
) -> None:
    ws = cohort_at("initialised")
    add_participants(ws.root, write_roster(NEWCOMER, name="new.csv"))
    code, out, _ = run_cli(["hub", "users", str(ws.root), "--prefix", prefix], capsys)
    assert code == 0
    assert f"account {prefix}new-comer (participant New.Comer;" in out
    assert f"-G {prefix}{ws.load().course_id}-participants {prefix}new-comer\n" in out


def test_apply_without_root_fails_after_printing_the_commands(
    cohort_at: Callable[..., Workspace],
    capsys: pytest.CaptureFixture[str],
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tandem.hub.unix.is_root", lambda: False)
    ws = cohort_at("initialised")
    code, out, err = run_cli(["hub", "users", str(ws.root), "--prefix", prefix, "--apply"], capsys)
    assert code == 1
    assert "--apply needs root" in err
    assert f"  chmod 0700 /home/{prefix}s2\n" in out
    assert not _exists(f"{prefix}j1")


def test_a_colliding_roster_is_refused_by_the_command(
    cohort_at: Callable[..., Workspace], capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    roster = "id,name,email,role\nAnn.Lee,Ann,a@x.org,junior\nann-lee,Bo,b@x.org,senior\n"
    ws = cohort_at("initialised", roster=roster)
    code, out, err = run_cli(["hub", "users", str(ws.root), "--prefix", prefix], capsys)
    assert code == 1
    assert "'Ann.Lee'" in err and "'ann-lee'" in err and f"'{prefix}ann-lee'" in err
    assert "useradd" not in out


@pytest.mark.skipif(not ROOT, reason="creating Unix accounts needs root (run as root: CI does)")
def test_apply_as_root_makes_private_accounts_idempotently_and_locks_the_withdrawn(
    cohort_at: Callable[..., Workspace], capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    ws = cohort_at("initialised")
    course = ws.load().course_id
    people, leads = f"{prefix}{course}-participants", f"{prefix}{course}-facilitators"
    lead, stranger = f"{prefix}lead", f"{prefix}stranger"
    subprocess.run(["useradd", "-M", stranger], check=True)  # not in the plan
    before = subprocess.run(["passwd", "-S", stranger], capture_output=True, text=True).stdout
    argv = ["hub", "users", str(ws.root), "--prefix", prefix, "--facilitator", lead, "--apply"]

    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert out.count(": created") == 2 + 5, out  # two groups, four participants, the lead
    for pid in ("j1", "s1", "j2", "s2"):
        name = f"{prefix}{pid}"
        entry = subprocess.run(["getent", "passwd", name], capture_output=True, text=True)
        assert entry.stdout.split(":")[5:7] == [f"/home/{name}", "/bin/bash\n"]
        assert stat.S_IMODE(os.stat(f"/home/{name}").st_mode) == 0o700
        assert os.stat(f"/home/{name}").st_uid == pwd.getpwnam(name).pw_uid
        assert name in grp.getgrnam(people).gr_mem
    assert grp.getgrnam(leads).gr_mem == [lead]
    assert stat.S_IMODE(os.stat(f"/home/{lead}").st_mode) == 0o700

    code, again, _ = run_cli(argv, capsys)  # idempotent: nothing to do
    assert code == 0
    assert "created" not in again and again.count(": exists") == 2 + 5, again

    gone = f"{prefix}s2"
    subprocess.run(["chpasswd"], input=f"{gone}:Secret-123\n", text=True, check=True)
    withdraw(ws.root, "s2")
    code, out, _ = run_cli(argv[:-1], capsys)
    assert f"account {gone} (participant s2; groups {people}; home 0700): lock" in out
    assert f"  usermod -L {gone}\n  pkill -KILL -u {gone}\n" in out
    still = subprocess.Popen(["runuser", "-u", gone, "--", "sleep", "300"])  # their "server"
    code, out, _ = run_cli(argv, capsys)
    assert still.wait(timeout=10) != 0  # stopped with the lock
    assert f"account {gone} (participant s2; groups {people}; home 0700): locked" in out
    status = subprocess.run(["passwd", "-S", f"{prefix}s2"], capture_output=True, text=True)
    assert status.stdout.split()[1] == "L"
    assert _exists(f"{prefix}s2") and os.path.isdir(f"/home/{prefix}s2")  # kept
    code, out, _ = run_cli(argv[:-1], capsys)
    assert "(withdrawn)" in out and "Nothing to do" in out

    assert [g.gr_name for g in grp.getgrall() if stranger in g.gr_mem] == []
    after = subprocess.run(["passwd", "-S", stranger], capture_output=True, text=True).stdout
    assert after == before


@pytest.mark.skipif(not ROOT, reason="creating Unix accounts needs root (run as root: CI does)")
def test_roster_changes_on_a_hub_say_which_accounts_to_add_and_lock(
    cohort_at: Callable[..., Workspace],
    capsys: pytest.CaptureFixture[str],
    prefix: str,
    write_roster: Callable[..., Path],
) -> None:
    ws = cohort_at("initialised")
    root = str(ws.root)
    code, _, _ = run_cli(["cohort", "withdraw", root, "j2"], capsys)
    assert code == 0
    assert "Hub:" not in capsys.readouterr().out  # not on a hub: nothing about accounts

    argv = ["hub", "users", root, "--prefix", prefix, "--apply"]
    assert run_cli(argv, capsys)[0] == 0
    code, out, _ = run_cli(["cohort", "add", root, "--roster", str(write_roster(NEWCOMER))], capsys)
    assert code == 0
    assert f"Hub: account {prefix}new-comer (participant New.Comer;" in out
    assert f"tandem hub users {root} --prefix {prefix} --apply" in out
    subprocess.run(["chpasswd"], input=f"{prefix}s1:Secret-123\n", text=True, check=True)
    code, out, _ = run_cli(["cohort", "withdraw", root, "s1"], capsys)
    assert code == 0
    assert f"Hub: account {prefix}s1 (participant s1;" in out and "home 0700): lock" in out
    assert f"{prefix}new-comer" in out  # still to be added
    assert run_cli(argv, capsys)[0] == 0
    subprocess.run(["chpasswd"], input=f"{prefix}j1:Secret-123\n", text=True, check=True)
    code, out, _ = run_cli(["cohort", "withdraw", root, "j1"], capsys)
    assert f"Hub: account {prefix}j1" in out
    assert "new-comer" not in out and f"{prefix}s1 " not in out  # both done
