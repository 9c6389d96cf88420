"""`tandem cohort ...`, `tandem match` and `tandem privacy ...`: the commands about people."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from tandem.cli.options import (
    ROSTER_HELP,
    Curriculum,
    DepartmentRule,
    Explain,
    SameDepartmentOption,
    WorkspaceDir,
    console,
    err,
)
from tandem.errors import UsageError

if TYPE_CHECKING:
    from tandem.cohort.membership import RepairResult
    from tandem.people.matching import MatchResult, SameDepartment, Teaching

cohort_app = typer.Typer(no_args_is_help=True, help="Create and manage a cohort workspace.")
privacy_app = typer.Typer(
    no_args_is_help=True,
    help="A participant's data rights: export everything Tandem holds about them, or erase it.",
)


@cohort_app.command("init")
def cohort_init(
    directory: WorkspaceDir,
    roster: Annotated[Path, typer.Option(help=ROSTER_HELP)],
    pairs: Annotated[
        Path | None,
        typer.Option(
            help="Pairs CSV with columns junior, senior (e.g. from 'tandem match --out'), "
            "checked against the matching rules. Give --pairs or --match."
        ),
    ] = None,
    match: Annotated[
        bool,
        typer.Option(
            "--match",
            help="Pair by two-way complementarity of the roster's ratings (as 'tandem match').",
        ),
    ] = False,
    same_department: SameDepartmentOption = DepartmentRule.allowed,
    explain: Explain = False,
    allow_rule_break: Annotated[
        str | None,
        typer.Option(
            metavar="REASON",
            help="Keep --pairs that break a matching rule (manager, avoid, department); "
            "the reason is recorded in cohort.yml and shown by 'tandem status'.",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Cohort name. Default: the folder's name.")
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Date of the first session (YYYY-MM-DD); "
            "later sessions follow every --cadence-days. Sets due dates.",
        ),
    ] = None,
    cadence_days: Annotated[int, typer.Option(min=1, max=365, help="Days between sessions.")] = 21,
    due_days: Annotated[
        int,
        typer.Option(
            min=0,
            max=365,
            help="Submissions are due this many days after "
            "their session, at the end of the day (UTC).",
        ),
    ] = 7,
    curriculum: Curriculum = None,
) -> None:
    """Create a cohort workspace: cohort.yml, an nbgrader course and its gradebook."""
    from tandem.cohort.workspace import Schedule, init_cohort

    if pairs is not None and match:
        raise UsageError("give either --pairs or --match, not both")
    if explain and not match:
        raise UsageError("--explain needs --match")
    if pairs is None and not match:
        raise UsageError(
            "give --match (pair by the roster's ratings and rules) or --pairs CSV "
            "(your own pairs, checked against the rules)"
        )
    if allow_rule_break is not None and (pairs is None or not allow_rule_break.strip()):
        raise UsageError("--allow-rule-break REASON needs --pairs and a reason")
    rule: SameDepartment = same_department.value
    cohort = init_cohort(
        directory,
        roster,
        pairs=pairs,
        match=match,
        allow_rule_break=allow_rule_break,
        same_department=rule,
        name=name,
        curriculum=curriculum,
        schedule=Schedule(
            start=start.date() if start else None, cadence_days=cadence_days, due_days=due_days
        ),
    )
    console.print(
        f"Created cohort {cohort.name!r} in {directory}: "
        f"{len(cohort.participants)} participants, {len(cohort.pairs)} pairs."
    )
    if match:
        from tandem.people.matching import match_roster

        # The same roster and rules give the same pairs: this recomputes the explanation.
        result = match_roster(roster, cohort.curriculum, same_department=rule)
        _print_match(result, explain=explain, table=explain)
    elif cohort.unpaired:
        err.print(f"Unpaired: {', '.join(cohort.unpaired)} ('tandem status' says why)")
    kept = cohort.matching
    if kept is not None and kept.rule_break:
        err.print(
            f"Kept pairs that break the matching rules (reason: {kept.rule_break!r}); "
            "'tandem status' lists them.",
            highlight=False,
        )
    elif allow_rule_break:
        err.print("Every pair keeps the matching rules: --allow-rule-break was not needed.")


def match_command(
    roster: Annotated[Path, typer.Argument(help=ROSTER_HELP)],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the pairs to this CSV (id, junior, senior, score, ...), "
            "for 'tandem cohort init --pairs'."
        ),
    ] = None,
    explain: Explain = False,
    same_department: SameDepartmentOption = DepartmentRule.allowed,
    curriculum: Curriculum = None,
) -> None:
    """Pair juniors with seniors so that each can teach what the other needs.

    Maximises the number of pairs, then the total two-way score (see docs/matching.md).

    Never pairs anyone with their manager, a direct report or an id either of them avoids.

    Everyone left unmatched is listed with the reason.
    """
    from tandem.people.matching import match_roster, write_pairs

    rule: SameDepartment = same_department.value
    result = match_roster(roster, curriculum, same_department=rule)
    if out is not None:
        write_pairs(result, out)
        console.print(f"Wrote {len(result.pairs)} pairs to {out}")
    _print_match(result, explain=explain, table=explain or out is None)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _person(result: MatchResult, participant_id: str) -> Text:
    return Text.assemble(participant_id, "\n", (result.names[participant_id], "dim"))


def _pairs_table(result: MatchResult) -> Table:
    grid = Table("pair", "junior", "senior", "score")
    for score in result.scores:
        pair = score.pair
        grid.add_row(
            pair.id, _person(result, pair.junior), _person(result, pair.senior), str(score.score)
        )
    return grid


def _teaching_rows(
    teacher: str, learner: str, items: tuple[Teaching, ...]
) -> list[list[str | Text]]:
    useful = [t for t in items if t.points > 0]
    who = f"{teacher} -> {learner}"
    if not useful:
        return [[who, Text("nothing to teach", "dim"), "", "0"]]
    return [
        [
            who if i == 0 else "",
            t.competency,
            f"{t.teacher_rating} vs {t.learner_rating}",
            f"+{t.points}",
        ]
        for i, t in enumerate(useful)
    ]


def _explain_table(result: MatchResult) -> Table:
    """Per pair: what the junior teaches the senior (tech), and the senior the junior."""
    grid = Table(
        "pair",
        "teaches",
        "competency",
        "ratings",
        "points",
        caption="ratings: the teacher's self-rating vs the learner's; "
        "points: the difference, or 0 if the learner rates higher",
    )
    for score in result.scores:
        pair = score.pair
        rows = _teaching_rows(pair.junior, pair.senior, score.junior_teaches)
        rows += _teaching_rows(pair.senior, pair.junior, score.senior_teaches)
        same = " same department" if score.same_department else ""
        total = f"tech {score.tech_points} + management {score.management_points}{same}"
        heading = Text.assemble(("score", "bold"), " ", (f"({total})", "dim"))
        rows.append(["", heading, "", Text(str(score.score), "bold")])
        for i, row in enumerate(rows):
            grid.add_row(pair.id if i == 0 else "", *row)
        grid.add_section()
    return grid


def _print_match(result: MatchResult, *, explain: bool, table: bool) -> None:
    if table and result.scores:
        console.print(_explain_table(result) if explain else _pairs_table(result))
    count = len(result.pairs)
    mean = f", {result.total_score / count:.1f} per pair" if count else ""
    console.print(
        f"{_count(count, 'pair')} from {_count(result.juniors, 'junior')} and "
        f"{_count(result.seniors, 'senior')} ({_count(result.senior_places, 'senior place')}): "
        f"total score {result.total_score}{mean}",
        highlight=False,
    )
    if explain:
        console.print(
            f"Juniors teach {result.tech_total} points of tech; seniors teach "
            f"{result.management_total} points of management; "
            f"{result.same_department_pairs} pairs share a department "
            f"(--same-department {result.same_department}).",
            highlight=False,
        )
    for person in result.unmatched:
        err.print(f"Unmatched {person.role} {person.id}: {person.reason}", highlight=False)
    _print_missing(result)


def _print_missing(result: MatchResult) -> None:
    missing = result.missing_ratings
    if not missing:
        return
    if len(missing) == len(result.names) and all(
        len(gaps) == len(result.competencies) for gaps in missing.values()
    ):
        err.print("Note: the roster has no ratings (rate_<competency> columns): every score is 0")
        return
    people = sorted(missing)
    shown = ", ".join(f"{p} ({len(missing[p])})" for p in people[:5])
    more = f" and {len(people) - 5} more" if len(people) > 5 else ""
    err.print(
        f"Note: {len(people)} participants have blank or missing ratings, counted as 3 "
        f"(neutral): {shown}{more}",
        highlight=False,
    )


@cohort_app.command("add")
def cohort_add(
    directory: WorkspaceDir,
    roster: Annotated[Path, typer.Option(help="Roster CSV of the newcomers (same columns).")],
) -> None:
    """Add newcomers to a cohort and pair them (by the matching rules) with the unpaired."""
    from tandem.cohort.membership import add_participants

    _print_repair(add_participants(directory, roster))
    _print_hub_accounts(directory)


def _print_hub_accounts(directory: Path) -> None:
    """On a hub: the accounts the roster change needs added or locked."""
    from tandem.hub.unix import pending

    for line in pending(directory):
        console.print(line, highlight=False, markup=False)


@cohort_app.command("withdraw")
def cohort_withdraw(
    directory: WorkspaceDir,
    participant: Annotated[str, typer.Argument(help="The participant's id.")],
) -> None:
    """Withdraw a participant: no further releases or report rows; their data is kept."""
    from tandem.cohort.membership import BEFORE_RULES, outlook, withdraw
    from tandem.cohort.workspace import Workspace

    partner = withdraw(directory, participant)
    console.print(f"{participant} has withdrawn; their past data is kept until erased.")
    _print_hub_accounts(directory)
    if not partner:
        return
    ws = Workspace(directory)
    cohort = ws.load()
    view = outlook(cohort, ws.program(cohort))
    if partner in view.repairable:
        console.print(f"{partner} needs a new partner: 'tandem cohort repair {directory}'.")
    for waiting in view.waiting:
        if waiting.id == partner:
            console.print(str(waiting), highlight=False)
    if partner in view.unknown_rules:
        console.print(BEFORE_RULES.format(who=partner), highlight=False)


@cohort_app.command("repair")
def cohort_repair(
    directory: WorkspaceDir,
    roster: Annotated[
        Path | None,
        typer.Option(
            help="Read the ratings, managers and avoid lists from this roster (e.g. the one "
            "the cohort was made from, for a cohort made before Tandem kept them)."
        ),
    ] = None,
    same_department: Annotated[
        DepartmentRule | None,
        typer.Option(
            case_sensitive=False,
            help="Change the cohort's department rule (default: the one it was made with).",
        ),
    ] = None,
) -> None:
    """Pair the unpaired juniors and seniors by the cohort's matching rules and score (as
    'tandem match'), explaining each pair, and why anyone still waits."""
    from tandem.cohort.membership import repair

    rule: SameDepartment | None = same_department.value if same_department else None
    _print_repair(repair(directory, roster=roster, same_department=rule))


def _print_repair(result: RepairResult) -> None:
    for line in result.explanations:
        console.print(line)
    if not result.pairs:
        console.print("No new pairs.")
    if result.unpaired:
        console.print(f"Still unpaired: {', '.join(result.unpaired)}")


PrivacyWorkspace = Annotated[
    Path | None,
    typer.Option("--workspace", help="A cohort workspace (the facilitator's side) to include."),
]
PrivacyStore = Annotated[
    bool,
    typer.Option(
        "--store/--no-store",
        help="Include the private store at $TANDEM_HOME (the participant's side).",
    ),
]


@privacy_app.command("export")
def privacy_export(
    participant: Annotated[str, typer.Argument(help="The participant's id.")],
    workspace: PrivacyWorkspace = None,
    store: PrivacyStore = True,
    out: Annotated[
        Path | None, typer.Option(help="Write the JSON here (default: standard output).")
    ] = None,
) -> None:
    """Export all of a participant's data as JSON: private answers, check-ins, scores."""
    import json

    from tandem.notebook.store import Store
    from tandem.privacy import export_participant, write_export

    data = export_participant(participant, workspace=workspace, store=Store() if store else None)
    if out is None:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        console.print(f"Exported {participant}'s data to {write_export(data, out)}")


@privacy_app.command("erase")
def privacy_erase(
    participant: Annotated[str, typer.Argument(help="The participant's id.")],
    workspace: PrivacyWorkspace = None,
    store: PrivacyStore = True,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a participant's data everywhere Tandem put it, and say what was removed."""
    from tandem.notebook.store import Store
    from tandem.privacy import NOT_REACHED, erase_participant

    places = [
        p
        for p, given in (
            ("their private store", store),
            (f"cohort workspace {workspace}", workspace),
        )
        if given
    ]
    if not places:
        raise UsageError("nothing to erase: give --workspace and/or keep --store")
    if not yes:
        typer.confirm(
            f"Erase all of {participant}'s data from {' and '.join(places)}? "
            "This cannot be undone.",
            abort=True,
        )
    removed = erase_participant(participant, workspace=workspace, store=Store() if store else None)
    for line in removed or ["nothing: no data found"]:
        text = line if line.startswith(NOT_REACHED) else f"removed {line}"
        console.print(text, markup=False, highlight=False)
