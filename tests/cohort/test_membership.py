"""Roster changes on a running cohort: add, withdraw, repair."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tandem.cohort.membership import add_participants, repair, withdraw
from tandem.cohort.workspace import Workspace, init_cohort
from tandem.errors import CohortError
from tandem.people.matching import SameDepartment
from tandem.reports.status import cohort_status

RATED = "id,name,email,role,department,rate_tiny-skill,rate_tiny-lead,manager_id\n"


def test_a_newcomer_whose_id_differs_only_in_case_is_refused(
    cohort_at: Callable[..., Workspace], write_roster: Callable[..., Path]
) -> None:
    ws = cohort_at("initialised")
    newcomer = write_roster(
        "id,name,email,role\nJ1,Ada Again,ada2@example.org,junior\n", name="more.csv"
    )
    with pytest.raises(CohortError, match=r"already in the cohort: J1 \(as j1\)"):
        add_participants(ws.root, newcomer)
    assert [p.id for p in ws.load().participants] == ["j1", "s1", "j2", "s2"]


def _matched(
    tmp_path: Path,
    programme: Path,
    write_roster: Callable[..., Path],
    rows: str,
    same_department: SameDepartment = "allowed",
) -> Workspace:
    """A cohort made with ``--match`` from a rated roster (the issue's names included)."""
    roster = write_roster(RATED + rows)
    init_cohort(
        tmp_path / "c", roster, match=True, same_department=same_department, curriculum=programme
    )
    return Workspace(tmp_path / "c")


def test_repair_never_pairs_a_junior_with_their_manager(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    ws = _matched(
        tmp_path,
        tiny_programme,
        write_roster,
        "sid.iyer,Sid Iyer,sid@example.org,junior,Ops,5,1,patrick.gallagher\n"
        "jose.nunez,José Núñez,jose@example.org,junior,Sales,2,2,\n"
        "wang.fang,王芳,wang@example.org,senior,Finance,1,5,\n"
        "patrick.gallagher,Patrick Gallagher,pat@example.org,senior,Ops,4,3,\n",
    )
    assert [(p.junior, p.senior) for p in ws.load().pairs] == [
        ("jose.nunez", "patrick.gallagher"),
        ("sid.iyer", "wang.fang"),
    ]
    withdraw(ws.root, "wang.fang")
    withdraw(ws.root, "jose.nunez")
    result = repair(ws.root)
    assert result.pairs == [] and result.unpaired == ["sid.iyer", "patrick.gallagher"]
    assert (
        "sid.iyer (junior) stays unpaired: every senior is excluded by the rules "
        "(manager or direct report: patrick.gallagher); what would help: add a senior"
    ) in "\n".join(result.explanations)
    assert ws.load().pairs == []


def test_repair_keeps_the_department_rule_and_scores_as_match(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    rows = (
        "j1,Ada,ada@example.org,junior,IT,5,1,\n"
        "j2,Bo,bo@example.org,junior,Sales,2,2,\n"
        "s1,Sam,sam@example.org,senior,Sales,1,5,\n"
        "s2,Kim,kim@example.org,senior,IT,4,3,\n"
    )
    forbid = _matched(tmp_path / "a", tiny_programme, write_roster, rows, same_department="forbid")
    assert [(p.junior, p.senior) for p in forbid.load().pairs] == [("j1", "s1"), ("j2", "s2")]
    withdraw(forbid.root, "s1")
    withdraw(forbid.root, "j2")
    refused = repair(forbid.root)
    assert refused.pairs == []
    assert "same department (--same-department forbid): s2" in refused.explanations[0]

    allowed = _matched(tmp_path / "b", tiny_programme, write_roster, rows)
    withdraw(allowed.root, "s1")
    withdraw(allowed.root, "j2")
    repaired = repair(allowed.root)
    [pair] = repaired.pairs
    assert (pair.junior, pair.senior) == ("j1", "s2")
    # the kept ratings score it as `tandem match` would: j1 teaches tiny-skill 5 vs 4,
    # s2 teaches tiny-lead 3 vs 1
    assert repaired.explanations == [
        "pair-03: j1 & s2 (score 3): the junior teaches tiny-skill (+1); "
        "the senior teaches tiny-lead (+2)"
    ]


def test_a_newcomer_refused_by_add_stays_refused_by_repair(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    ws = _matched(
        tmp_path,
        tiny_programme,
        write_roster,
        "j1,Ada,ada@example.org,junior,IT,5,1,\n"
        "s1,Sam,sam@example.org,senior,Sales,1,5,\n"
        "hans.muller,Hans Müller,hans@example.org,senior,IT,4,3,\n",
    )
    assert ws.load().unpaired == ["hans.muller"]
    newcomer = write_roster(
        RATED + "zoe.odegard,Zoë Ødegård,zoe@example.org,junior,IT,3,3,hans.muller\n",
        name="newcomers.csv",
    )
    reason = "every senior is excluded by the rules (manager or direct report: hans.muller)"
    added = add_participants(ws.root, newcomer)
    assert added.pairs == [] and reason in added.explanations[0]
    status = cohort_status(ws.root)
    assert "re-pair zoe.odegard: add a senior" in status.summary()
    assert "(tandem cohort repair)" not in status.summary()
    repaired = repair(ws.root)
    assert repaired.pairs == [] and reason in repaired.explanations[0]
    assert ws.load().unpaired == ["hans.muller", "zoe.odegard"]


def test_status_and_repair_say_why_someone_waits_and_what_would_help(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("initialised")
    withdraw(ws.root, "j2")
    summary = cohort_status(ws.root).summary()
    assert "re-pair s2: add a junior ('tandem cohort add DIR --roster newcomers.csv')" in summary
    assert "s2 (senior) stays unpaired: there is no junior to pair them with" in summary
    result = repair(ws.root)
    assert result.explanations == [
        "s2 (senior) stays unpaired: there is no junior to pair them with; what would help: "
        "add a junior ('tandem cohort add DIR --roster newcomers.csv')"
    ]


def test_a_cohort_from_before_kept_rules_is_not_paired_silently(
    tmp_path: Path, tiny_programme: Path, write_roster: Callable[..., Path]
) -> None:
    rows = (
        "sid.iyer,Sid Iyer,sid@example.org,junior,Ops,5,1,patrick.gallagher\n"
        "jose.nunez,José Núñez,jose@example.org,junior,Sales,2,2,\n"
        "wang.fang,王芳,wang@example.org,senior,Finance,1,5,\n"
        "patrick.gallagher,Patrick Gallagher,pat@example.org,senior,Ops,4,3,\n"
    )
    ws = _matched(tmp_path, tiny_programme, write_roster, rows)
    old = yaml.safe_load(ws.cohort_file.read_text(encoding="utf-8"))
    old.pop("matching", None)  # cohort.yml as Tandem wrote it before it kept the rules
    ws.cohort_file.write_text(yaml.safe_dump(old, allow_unicode=True), encoding="utf-8")
    withdraw(ws.root, "wang.fang")
    withdraw(ws.root, "jose.nunez")
    assert ws.load().matching is None
    result = repair(ws.root)
    assert result.pairs == []
    before = [e for e in result.explanations if "created before Tandem kept matching rules" in e]
    assert len(before) == 1 and "sid.iyer, patrick.gallagher" in before[0]
    assert "created before Tandem kept matching rules" in cohort_status(ws.root).summary()
    with_rules = repair(ws.root, roster=tmp_path / "roster.csv")
    assert with_rules.pairs == [] and "manager or direct report" in with_rules.explanations[0]
    kept = ws.load().matching
    assert kept is not None and kept.rules["sid.iyer"]["manager_id"] == "patrick.gallagher"
