"""``tandem hub up`` and ``down``: a trial hub on 127.0.0.1 for one cohort, as root.

``up`` does, in order (each step idempotent, so running it again resumes or restarts):

1. the cohort's accounts and groups (:mod:`tandem.hub.unix`);
2. the single-user environment and the proxy (:mod:`tandem.hub.environment`), then, for
   every active account without a usable password, a generated one (``chpasswd``), kept
   in the state folder's ``logins.json`` (root only) and printed. Withdrawn participants'
   accounts stay locked;
3. the exchange (mode 1777) and the course's folder in it, owned by the facilitator;
4. the cohort in the facilitator's home: a workspace outside it is copied there (the copy
   is the hub's cohort from then on; the original is left as it was), owned by the
   facilitator, its exchange root set to the hub's, its curriculum the environment's copy;
   the facilitator's ``~/.jupyter`` switches the formgrader on for them alone;
5. the settings file ``<state>/tandem-hub.toml`` and the hub, started in its own session
   with ``deploy/jupyterhub/jupyterhub_config.py``; ready when ``/hub/api/`` answers.

``down`` stops only what ``up`` started: the hub recorded in ``<state>/hub.json`` (its
pid, checked against the command line), which stops the users' servers and the proxy; then
any process left of this hub (found by the hub API address in its environment) and the
proxy by its pid file. Accounts, homes, the exchange and the cohort are kept.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tandem.errors import HubError
from tandem.fsutil import atomic_write_json
from tandem.hub import unix
from tandem.hub.accounts import DEFAULT_PREFIX, AccountPlan, account_plan
from tandem.hub.environment import (
    FACILITATOR_PLUGINS,
    FORMGRADER_EXTENSION,
    checkout,
    config_file,
    curriculum_dir,
    ensure_environment,
)
from tandem.hub.settings import SETTINGS_ENV, CohortSection, HubSection, HubSettings, dump_settings

STATE = "hub.json"
LOGINS = "logins.json"
SETTINGS_FILE = "tandem-hub.toml"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Login:
    account: str
    password: str
    who: str


@dataclass(frozen=True)
class Started:
    url: str
    pid: int
    workspace: Path
    logins: list[Login]
    done: list[str]
    log: Path


def require_root(command: str) -> None:
    if not unix.is_root():
        raise HubError(
            f"tandem hub {command} needs root (this is uid {os.geteuid()}): a trial hub "
            "makes one Unix account per participant and runs each person's server as "
            "that account. Nothing was started. Run it with sudo, or read "
            "docs/deployment.md for a hub your administrator runs"
        )


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    os.chown(path, user.pw_uid, user.pw_gid)
    for parent, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(Path(parent) / name, user.pw_uid, user.pw_gid)


def _usable_password(name: str) -> bool:
    """Whether ``name`` can log in with a password (set, and not locked)."""
    field = unix.password_field(name)
    return field is not None and field not in ("", "*") and not field.startswith("!")


def _passwords(plan: AccountPlan, state: Path) -> list[Login]:
    """Generated passwords of the plan's active accounts, kept in ``logins.json``."""
    path = state / LOGINS
    kept: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    logins, to_set = [], []
    for account in plan.accounts:
        if not account.active:
            continue
        password = kept.get(account.name)
        if password is None or not _usable_password(account.name):
            password = password or secrets.token_urlsafe(12)
            to_set.append(f"{account.name}:{password}")
        kept[account.name] = password
        who = f"participant {account.participant}" if account.participant else "facilitator"
        logins.append(Login(account.name, password, who))
    if to_set:
        result = subprocess.run(
            ["chpasswd"], input="\n".join(to_set) + "\n", text=True, capture_output=True
        )
        if result.returncode != 0:
            raise HubError(f"chpasswd failed: {result.stderr.strip()}")
    atomic_write_json(path, kept, private=True)
    return logins


def _exchange(settings: HubSettings, facilitator: pwd.struct_passwd) -> None:
    root = settings.cohort.exchange
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o1777)
    course = root / settings.cohort.course_id
    course.mkdir(exist_ok=True)
    os.chown(course, facilitator.pw_uid, facilitator.pw_gid)
    os.chmod(course, 0o755)


def place_cohort(source: Path, settings: HubSettings, facilitator: pwd.struct_passwd) -> Path:
    """The hub's cohort workspace, the settings' ``workspace`` (copied there from
    ``source`` if it is elsewhere and not there yet), owned by the facilitator."""
    from tandem.cohort.workspace import Workspace

    source = source.resolve()
    target = settings.cohort.workspace
    if target != source and not (target / "cohort.yml").is_file():
        shutil.copytree(source, target, symlinks=True)
    ws = Workspace(target)
    cohort = ws.load()
    shipped = curriculum_dir(settings.hub.environment) / "curriculum" / "program.yml"
    ours = checkout() / "curriculum" / "program.yml"
    if shipped.is_file() and Path(cohort.curriculum).resolve() == ours.resolve():
        cohort.curriculum = str(shipped)  # the checkout may be unreadable to the facilitator
        ws.save(cohort)
    config = ws.nbgrader_config()
    config.setdefault("Exchange", {})["root"] = str(settings.cohort.exchange)
    (target / "nbgrader_config.json").write_text(json.dumps(config, indent=2) + "\n")
    plan = account_plan(cohort, settings.cohort.prefix, facilitator.pw_name)
    unix.record_hub(target, plan, facilitator.pw_name)
    _chown_tree(target, facilitator)
    _facilitator_config(target, facilitator)
    return target


def _facilitator_config(workspace: Path, user: pwd.struct_passwd) -> None:
    """The facilitator's own ``~/.jupyter``: the formgrader on, on their cohort."""
    jupyter = Path(user.pw_dir) / ".jupyter"
    files = {
        jupyter / "nbgrader_config.py": (
            "# Written by `tandem hub up`: the formgrader grades this cohort.\n"
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(workspace)!r}\n"
        ),
        jupyter / "jupyter_server_config.d" / "nbgrader-formgrader.json": json.dumps(
            {"ServerApp": {"jpserver_extensions": {FORMGRADER_EXTENSION: True}}}
        ),
        jupyter / "labconfig" / "page_config.json": json.dumps(
            {"disabledExtensions": dict.fromkeys(FACILITATOR_PLUGINS, False)}
        ),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    _chown_tree(jupyter, user)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubError(f"the hub exited (code {process.returncode}): {_tail(log)}", path=log)
        try:
            with urllib.request.urlopen(f"{url}hub/api/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    _stop_pid(process.pid)
    raise HubError(f"the hub did not answer in {READY_TIMEOUT:.0f} s: {_tail(log)}", path=log)


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    return " | ".join(line.strip() for line in lines[-3:])


def up(
    source: Path,
    hub: HubSection,
    *,
    facilitator: str,
    prefix: str = DEFAULT_PREFIX,
    exchange: Path = Path("/srv/nbgrader/exchange"),
) -> Started:
    """Start a trial hub for the cohort at ``source`` (see the module docstring)."""
    from tandem.cohort.workspace import Workspace

    require_root("up")
    state = hub.state_dir
    if running(state) is not None:
        raise HubError(f"a hub started from {state} is running: run 'tandem hub down' first")
    cohort = Workspace(source).load()
    plan = account_plan(cohort, prefix, facilitator)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    done = [step.line() for step in unix.apply(unix.steps(plan))]
    owner = pwd.getpwnam(facilitator)
    source = source.resolve()
    home = Path(owner.pw_dir)
    target = source if source.is_relative_to(home) else home / cohort.course_id
    settings = HubSettings(
        hub=hub,
        cohort=CohortSection(
            workspace=target,
            course_id=cohort.course_id,
            prefix=prefix,
            facilitators=[facilitator],
            exchange=exchange,
        ),
    )
    done = prepare(settings, source) + done
    logins = _passwords(plan, state)
    settings_path = state / SETTINGS_FILE
    settings_path.write_text(dump_settings(settings), encoding="utf-8")
    log = state / "hub.log"
    environment = hub.environment
    path = f"{environment / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env = {
        "PATH": path,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        SETTINGS_ENV: str(settings_path),
    }
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [str(environment / "bin" / "jupyterhub"), "-f", str(config_file())],
            cwd=state,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    atomic_write_json(
        state / STATE,
        {"pid": process.pid, "url": settings.url, "hub_port": hub.hub_port},
        private=True,
    )
    _wait_ready(settings.url, process, log)
    return Started(settings.url, process.pid, target, logins, done, log)


def prepare(settings: HubSettings, source: Path | None = None) -> list[str]:
    """Everything around the hub but accounts, passwords and the hub itself: the
    environment and proxy, the exchange, the cohort in place (from ``source`` if given) and
    the facilitators' formgrader. What ``hub up`` and ``hub prepare`` share."""
    require_root("prepare")
    done = ensure_environment(settings)
    owner = pwd.getpwnam(settings.cohort.facilitators[0])
    _exchange(settings, owner)
    placed = place_cohort(source or settings.cohort.workspace, settings, owner)
    for name in settings.cohort.facilitators[1:]:
        _facilitator_config(placed, pwd.getpwnam(name))
    done.append(f"the exchange {settings.cohort.exchange}: course {settings.cohort.course_id}")
    done.append(f"the cohort {placed}: owned by {owner.pw_name}, formgrader on for them")
    return done


def running(state: Path) -> int | None:
    """The pid of the hub started from ``state``, if it still runs."""
    try:
        pid = int(json.loads((state / STATE).read_text())["pid"])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError):
        return None
    return pid if b"jupyterhub" in command else None


def _stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return True
        except ChildProcessError:
            if not Path(f"/proc/{pid}").exists():
                return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return False


def leftovers(hub_port: int) -> list[int]:
    """Processes still running with this hub's API address in their environment."""
    marker = f"JUPYTERHUB_API_URL=http://127.0.0.1:{hub_port}/hub/api".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            variables = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in variables:
            found.append(int(entry.name))
    return found


def down(state: Path) -> list[str]:
    """Stop the hub started from ``state`` and what it left; what was done."""
    require_root("down")
    record = state / STATE
    if not record.is_file():
        return [f"no hub was started from {state}: nothing to stop"]
    data = json.loads(record.read_text())
    done = []
    pid = running(state)
    if pid is not None:
        clean = _stop_pid(pid)
        done.append(f"hub (pid {pid}): stopped" + ("" if clean else " (killed after 30 s)"))
    for leftover in leftovers(int(data.get("hub_port", 8081))):
        try:
            os.kill(leftover, signal.SIGKILL)
            done.append(f"process {leftover} of the hub: killed")
        except ProcessLookupError:
            pass
    proxy_pid = state / "proxy.pid"
    if proxy_pid.is_file():
        try:
            os.kill(int(proxy_pid.read_text().strip()), signal.SIGTERM)
            done.append("proxy: stopped")
        except (ProcessLookupError, ValueError):
            pass
        proxy_pid.unlink(missing_ok=True)
    record.unlink()
    return done or ["the hub had already stopped"]


__all__ = [
    "Login",
    "Started",
    "down",
    "leftovers",
    "place_cohort",
    "prepare",
    "require_root",
    "running",
    "up",
]
