"""``tandem hub``: a cohort on a shared JupyterHub (its Unix accounts and groups)."""

from __future__ import annotations

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
