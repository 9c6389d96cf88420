"""``tandem followup``: release the programme's follow-up three months on."""

from __future__ import annotations

from typing import Annotated

import typer

from tandem.cli.options import WorkspaceDir, console


def followup_command(
    directory: WorkspaceDir,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The follow-up's date instead of the schedule's (the last session's date "
            "+ after_days); today's date releases it now. Needed when cohort.yml has no "
            "schedule; never before the last session.",
        ),
    ] = None,
) -> None:
    """Release the follow-up (program.yml's followup:) to both partners of every pair.

    Refused before its date: the last session's date + after_days, or --date.
    """
    from tandem.cohort.followup import release_followup

    done = release_followup(directory, date)
    console.print(
        f"Released {done.module.id} ({done.day.isoformat()}) -> {done.folder}",
        markup=False,
        highlight=False,
    )
    if done.again:
        console.print(
            f"{done.module.id} was already released; republished with the curriculum's "
            "current notebook. Participants who fetched it keep their copy.",
            markup=False,
            highlight=False,
        )
    console.print(
        f"Both partners fetch and submit it; collect with 'tandem collect {directory} "
        f"{done.module.id}'. Nothing is graded.",
        markup=False,
        highlight=False,
    )
