"""``tandem hub``: a cohort on a shared JupyterHub (its Unix accounts and groups)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tandem.cli.options import WorkspaceDir, console
from tandem.hub.accounts import DEFAULT_PREFIX

hub_app = typer.Typer(
    no_args_is_help=True,
    help="A cohort on a shared JupyterHub: one Unix account per participant, named from "
    "their roster id.",
)


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


@hub_app.command("users")
def users_command(
    directory: WorkspaceDir,
    prefix: Annotated[
        str,
        typer.Option("--prefix", help="Start of every account and group name (1-10 characters)."),
    ] = DEFAULT_PREFIX,
    facilitator: Annotated[
        str | None,
        typer.Option(
            "--facilitator",
            metavar="UNIXNAME",
            help="The facilitator's Unix account: created if missing, put in the "
            "facilitators' group.",
        ),
    ] = None,
    run: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Run the commands (as root). Default: print them. Withdrawn participants' "
            "accounts are locked, never deleted.",
        ),
    ] = False,
) -> None:
    """Print (or, as root with --apply, make) the cohort's Unix accounts and groups.

    Idempotent: run it after `cohort add` (accounts to add) and `withdraw` (to lock).
    """
    from tandem.cohort.workspace import Workspace
    from tandem.hub import unix
    from tandem.hub.accounts import account_plan

    plan = account_plan(Workspace(directory).load(), prefix, facilitator)
    found = unix.steps(plan)
    _say(f"Hub accounts of cohort {plan.cohort} (course {plan.course_id}, prefix {prefix}):")
    if run and unix.is_root():
        for step in unix.apply(found):
            _say(f"  {step.line()}")
        unix.record_hub(directory, plan, facilitator)
        return
    for step in found:
        _say(f"  {step.line()}")
    todo = unix.commands(found)
    if todo:
        _say("Commands to run as root (or: tandem hub users ... --apply):")
        for command in todo:
            _say(f"  {command}")
    else:
        _say("Nothing to do: every group and account is as planned.")
    if run:
        unix.apply(found)  # refuses without root, after the commands are printed


StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        metavar="DIR",
        help="The hub's state: settings, database, cookie secret, logins, log (root only).",
    ),
]


@hub_app.command("up")
def up_command(
    directory: WorkspaceDir,
    facilitator: Annotated[
        str | None,
        typer.Option(
            "--facilitator",
            metavar="UNIXNAME",
            help="The facilitator's account. Default: PREFIX + 'facilitator'.",
        ),
    ] = None,
    prefix: Annotated[
        str,
        typer.Option("--prefix", help="Start of every account and group name (1-10 characters)."),
    ] = DEFAULT_PREFIX,
    port: Annotated[int, typer.Option("--port", help="The hub's port on 127.0.0.1.")] = 8000,
    hub_port: Annotated[
        int, typer.Option("--hub-port", help="The hub's own API port (127.0.0.1).")
    ] = 8081,
    proxy_api_port: Annotated[
        int, typer.Option("--proxy-api-port", help="The proxy's API port (127.0.0.1).")
    ] = 8001,
    state_dir: StateDir = Path("/var/lib/tandem-hub"),
    environment: Annotated[
        Path,
        typer.Option(
            "--environment",
            metavar="DIR",
            help="The single-user environment (made from /usr/bin/python3 if missing).",
        ),
    ] = Path("/opt/tandem-hub/venv"),
    exchange: Annotated[
        Path, typer.Option("--exchange", metavar="DIR", help="nbgrader's exchange root.")
    ] = Path("/srv/nbgrader/exchange"),
) -> None:
    """Start a trial JupyterHub on 127.0.0.1 for the cohort (as root); print its logins.

    Makes the accounts (as 'hub users --apply'), the hub's environment and proxy, the
    exchange, and the cohort's copy in the facilitator's home. 'tandem hub down' stops it.
    """
    from tandem.hub import trial
    from tandem.hub.settings import HubSection

    trial.require_root("up")
    hub = HubSection(
        port=port,
        hub_port=hub_port,
        proxy_api_port=proxy_api_port,
        state_dir=state_dir.resolve(),
        environment=environment.absolute(),
        proxy=environment.absolute().parent / "chp/node_modules/.bin/configurable-http-proxy",
    )
    started = trial.up(
        directory,
        hub,
        facilitator=facilitator or f"{prefix}facilitator",
        prefix=prefix,
        exchange=exchange.absolute(),
    )
    for line in started.done:
        _say(f"  {line}")
    _say(f"Trial hub running: {started.url}  (log: {started.log})")
    _say(f"The hub's cohort: {started.workspace} (the facilitator runs tandem there)")
    _say("First logins (also in " + str(state_dir / "logins.json") + "):")
    for login in started.logins:
        _say(f"  {login.account:<32} {login.password}  {login.who}")
    from tandem.cohort.workspace import Workspace

    first = Workspace(started.workspace).program().sessions[0].id
    _say(
        f"Next: log in as {facilitator or f'{prefix}facilitator'}, open a Terminal in "
        f"JupyterLab and run: tandem release {started.workspace} {first}"
    )
    _say(f"Stop it with: tandem hub down --state-dir {state_dir}")


@hub_app.command("down")
def down_command(state_dir: StateDir = Path("/var/lib/tandem-hub")) -> None:
    """Stop the trial hub 'tandem hub up' started, and only it (as root)."""
    from tandem.hub import trial

    for line in trial.down(state_dir.resolve()):
        _say(f"  {line}")


@hub_app.command("prepare")
def prepare_command(
    settings_file: Annotated[
        Path,
        typer.Option(
            "--settings",
            metavar="FILE",
            help="The hub's settings (see deploy/jupyterhub/tandem-hub.toml).",
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Argument(
            metavar="[DIR]",
            help="A cohort workspace to copy to the settings' workspace (if it is not there).",
        ),
    ] = None,
) -> None:
    """Prepare a production hub from its settings file (as root): the environment and
    proxy, the exchange, the cohort in place and the facilitators' formgrader.

    Nothing is started and no password is set: make the accounts with 'hub users --apply'
    and start deploy/jupyterhub/jupyterhub_config.py with your service manager.
    """
    from tandem.hub import trial
    from tandem.hub.settings import load_settings

    trial.require_root("prepare")
    for line in trial.prepare(load_settings(settings_file), source):
        _say(f"  {line}")
