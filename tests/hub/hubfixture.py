"""A real trial hub for the hub tests: three real Unix accounts (a pair and a facilitator),
started once per module with `tandem hub up`'s own code, stopped and removed afterwards."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tandem.cohort.workspace import Schedule, init_cohort
from tandem.hub.accounts import group_names, hub_user
from tandem.hub.settings import HubSection
from tandem.hub.trial import Login, Started

from ..conftest import FIXTURES

#: The tests' own single-user environment (made once per machine, about 40 s): never the
#: one `make hub` or a real hub uses, whose nbgrader configuration the tests would rewrite.
HUB_ENV = Path(os.environ.get("TANDEM_HUB_TEST_ENV", "/opt/tandem-hub-test/venv"))
JUNIOR, SENIOR = "Amara.Okafor", "Peter.Lindqvist"
ROSTER = f"""id,name,email,role,department
{JUNIOR},Amara Okafor,amara@example.org,junior,Marketing
{SENIOR},Peter Lindqvist,peter@example.org,senior,Operations
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hub:
    base: Path
    prefix: str
    started: Started
    course_id: str
    exchange: Path
    state: Path
    accounts: dict[str, str] = field(default_factory=dict)  # role -> account

    @property
    def url(self) -> str:
        return self.started.url

    def login(self, role: str) -> Login:
        account = self.accounts[role]
        return next(login for login in self.started.logins if login.account == account)

    @property
    def workspace(self) -> Path:
        return self.started.workspace

    def uid(self, role: str) -> int:
        return pwd.getpwnam(self.accounts[role]).pw_uid

    def home(self, role: str) -> Path:
        return Path(pwd.getpwnam(self.accounts[role]).pw_dir)

    def run_as(
        self, role: str, *command: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``command`` as the role's Unix user, with the hub's environment first on PATH."""
        account = self.accounts[role]
        env = [
            "env",
            "-i",
            f"PATH={HUB_ENV / 'bin'}:/usr/bin:/bin",
            f"HOME={self.home(role)}",
            "LANG=C.UTF-8",
        ]
        if role != "facilitator":
            env.append(f"TANDEM_PARTICIPANT={JUNIOR if role == 'junior' else SENIOR}")
        result = subprocess.run(
            ["runuser", "-u", account, "--", *env, *command],
            cwd=cwd or self.home(role),
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{command} as {account}: {result.stdout}\n{result.stderr}")
        return result


def _lab_settings(home: Path, account: str) -> None:
    """Test-only: JupyterLab exposes its app object (the tests run cells through it) and
    asks nothing about news."""
    jupyter = home / ".jupyter"
    (jupyter / "jupyter_server_config.json").parent.mkdir(parents=True, exist_ok=True)
    (jupyter / "jupyter_server_config.json").write_text(
        '{"LabApp": {"expose_app_in_browser": true}}\n'
    )
    news = jupyter / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}\n'
    )
    user = pwd.getpwnam(account)
    for path in [jupyter, *jupyter.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)


def start_hub() -> Hub:
    from tandem.hub import trial

    base = Path(tempfile.mkdtemp(prefix="tandem-hub-"))
    os.chmod(base, 0o755)  # the facilitator reads the programme copy below
    prefix = f"t{secrets.token_hex(2)}-"
    programme = base / "programme"
    shutil.copytree(FIXTURES / "hub_programme", programme)
    (base / "roster.csv").write_text(ROSTER)
    (base / "pairs.csv").write_text(f"junior,senior\n{JUNIOR},{SENIOR}\n")
    init_cohort(
        base / "cohort",
        base / "roster.csv",
        pairs=base / "pairs.csv",
        curriculum=programme / "curriculum" / "program.yml",
        name="Hub test",
        schedule=Schedule(start=date.today()),
    )
    hub = HubSection(
        port=free_port(),
        hub_port=free_port(),
        proxy_api_port=free_port(),
        state_dir=base / "state",
        environment=HUB_ENV,
        proxy=HUB_ENV.parent / "chp" / "node_modules" / ".bin" / "configurable-http-proxy",
    )
    facilitator = f"{prefix}facilitator"
    try:
        started = trial.up(
            base / "cohort", hub, facilitator=facilitator, prefix=prefix, exchange=base / "exchange"
        )
    except BaseException:
        remove_accounts(
            prefix, "hub-test", [facilitator, hub_user(JUNIOR, prefix), hub_user(SENIOR, prefix)]
        )
        raise
    accounts = {
        "junior": hub_user(JUNIOR, prefix),
        "senior": hub_user(SENIOR, prefix),
        "facilitator": facilitator,
    }
    result = Hub(base, prefix, started, "hub-test", base / "exchange", base / "state", accounts)
    for role, account in accounts.items():
        _lab_settings(result.home(role), account)
    return result


def processes_of(account: str) -> list[str]:
    """The account's processes that still run. An exited one its parent has not reaped yet
    (a zombie, state Z: this machine's init reaps them late) holds nothing and is left out."""
    uid = pwd.getpwnam(account).pw_uid
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or entry.stat().st_uid != uid:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if state != "Z":
            found.append(f"{entry.name} {state} {command}")
    return found


def remove_accounts(prefix: str, course_id: str, accounts: list[str]) -> None:
    for account in accounts:
        subprocess.run(["pkill", "-KILL", "-u", account], capture_output=True)
        subprocess.run(["userdel", "-r", account], capture_output=True)
    for group in group_names(course_id, prefix):
        subprocess.run(["groupdel", group], capture_output=True)


def stop_hub(hub: Hub) -> list[str]:
    """Stop the hub; the processes of the test accounts left after it stopped (none
    expected); then remove the accounts, their groups and every file of the test."""
    from tandem.hub import trial

    try:
        trial.down(hub.state)
        left = [line for account in hub.accounts.values() for line in processes_of(account)]
    finally:
        remove_accounts(hub.prefix, hub.course_id, list(hub.accounts.values()))
        shutil.rmtree(hub.base, ignore_errors=True)
    return left
