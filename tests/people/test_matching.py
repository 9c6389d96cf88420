"""Matching: optimal two-way pairs (checked against brute force), hard rules, errors."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.curriculum.manifest import load_program
from tandem.demo import synthetic_roster
from tandem.errors import CohortError, RosterError
from tandem.people.matching import (
    MatchResult,
    SameDepartment,
    match,
    match_roster,
    pairs_csv,
    write_pairs,
)
from tandem.people.profiles import NEUTRAL_RATING
from tandem.people.roster import Participant, load_pairs, load_roster

from ..conftest import MANIFEST

WriteRoster = Callable[..., Path]


def _session_one_manifest() -> Path:
    """The real manifest cut down to session 1 and its four competencies.

    The score's worked example and the property tests use a fixed, small competency set,
    whatever the size of the shipped curriculum.
    """
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    data["sessions"] = data["sessions"][:1]
    keep = {c for m in data["sessions"][0]["modules"] for c in m["competencies"]}
    data["competencies"] = {k: v for k, v in data["competencies"].items() if k in keep}
    folder = Path(tempfile.mkdtemp(prefix="tandem-session-one-")) / "curriculum"
    folder.mkdir()
    (folder / "program.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder / "program.yml"


SESSION_ONE = _session_one_manifest()
PROGRAM = load_program(SESSION_ONE)
TECH = [c.id for c in PROGRAM.competencies if c.track == "tech"]
MANAGEMENT = [c.id for c in PROGRAM.competencies if c.track == "management"]
COMPETENCIES = [c.id for c in PROGRAM.competencies]
HEADER = "id,name,email,role,department," + ",".join(f"rate_{c}" for c in COMPETENCIES)
RULES: tuple[SameDepartment, ...] = ("allowed", "avoid", "forbid")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def person(
    pid: str,
    role: str,
    ratings: dict[str, int | None] | None = None,
    *,
    department: str = "",
    line: int | None = None,
    **columns: str,
) -> Participant:
    extra = {f"rate_{c}": "" if r is None else str(r) for c, r in (ratings or {}).items()}
    return Participant(
        id=pid,
        name=pid.upper(),
        email=f"{pid}@example.org",
        role=role,  # type: ignore[arg-type]
        department=department,
        extra={**extra, **columns},
        line=line,
    )


def row(pid: str, role: str, ratings: tuple[int, ...], department: str = "") -> str:
    return f"{pid},{pid.upper()},{pid}@example.org,{role},{department}," + ",".join(
        str(r) for r in ratings
    )


# --- an independent model of the rules and the score, for brute force ----------------------


def rating(p: Participant, competency: str) -> int:
    value = p.extra.get(f"rate_{competency}", "")
    return int(value) if value else NEUTRAL_RATING


def pair_score(junior: Participant, senior: Participant) -> int:
    tech = sum(max(0, rating(junior, c) - rating(senior, c)) for c in TECH)
    return tech + sum(max(0, rating(senior, c) - rating(junior, c)) for c in MANAGEMENT)


def ids_in(p: Participant, column: str) -> set[str]:
    return set(p.extra.get(column, "").replace(";", " ").split())


def same_department(junior: Participant, senior: Participant) -> bool:
    key = junior.department.strip().lower()
    return bool(key) and key == senior.department.strip().lower()


def forbidden(junior: Participant, senior: Participant, rule: SameDepartment) -> bool:
    return (
        senior.id in ids_in(junior, "manager_id")
        or junior.id in ids_in(senior, "manager_id")
        or senior.id in ids_in(junior, "avoid")
        or junior.id in ids_in(senior, "avoid")
        or (rule == "forbid" and same_department(junior, senior))
    )


def objective(
    pairs: list[tuple[Participant, Participant]], rule: SameDepartment
) -> tuple[int, int, int]:
    cross = sum(not same_department(j, s) for j, s in pairs) if rule == "avoid" else 0
    return (len(pairs), cross, sum(pair_score(j, s) for j, s in pairs))


def brute_force(people: list[Participant], rule: SameDepartment) -> tuple[int, int, int]:
    """The best objective over every assignment that respects the rules and capacities."""
    juniors = [p for p in people if p.role == "junior"]
    seniors = [p for p in people if p.role == "senior"]
    places = {s.id: int(s.extra.get("capacity") or 1) for s in seniors}

    def assignments(i: int) -> Iterator[list[tuple[Participant, Participant]]]:
        if i == len(juniors):
            yield []
            return
        yield from assignments(i + 1)  # junior i unmatched
        for senior in seniors:
            if places[senior.id] and not forbidden(juniors[i], senior, rule):
                places[senior.id] -= 1
                for rest in assignments(i + 1):
                    yield [(juniors[i], senior), *rest]
                places[senior.id] += 1

    return max(objective(a, rule) for a in assignments(0))


@st.composite
def rosters(draw: st.DrawFn) -> list[Participant]:
    juniors = [f"j{i}" for i in range(draw(st.integers(1, 5)))]
    seniors = [f"s{i}" for i in range(draw(st.integers(1, 4)))]
    everyone = juniors + seniors
    people = []
    for pid in everyone:
        role = "junior" if pid.startswith("j") else "senior"
        ratings = {c: draw(st.none() | st.integers(1, 5)) for c in COMPETENCIES}
        others = [o for o in everyone if o != pid]
        manager = draw(st.none() | st.sampled_from(others)) if others else None
        avoid = draw(st.lists(st.sampled_from(others), max_size=2)) if others else []
        columns = {"manager_id": manager or "", "avoid": ";".join(avoid)}
        if role == "senior":
            columns["capacity"] = str(draw(st.integers(1, 2)))
        department = draw(st.sampled_from(["", "Sales", "sales ", "IT"]))
        people.append(person(pid, role, ratings, department=department, **columns))
    return people


def achieved(
    result: MatchResult, people: list[Participant]
) -> list[tuple[Participant, Participant]]:
    by_id = {p.id: p for p in people}
    return [(by_id[p.junior], by_id[p.senior]) for p in result.pairs]


@FAST
@given(people=rosters(), rule=st.sampled_from(RULES))
def test_the_assignment_is_optimal_and_keeps_every_rule(
    people: list[Participant], rule: SameDepartment
) -> None:
    result = match(people, PROGRAM, same_department=rule)
    pairs = achieved(result, people)
    assert objective(pairs, rule) == brute_force(people, rule)
    assert not any(forbidden(j, s, rule) for j, s in pairs)
    juniors = [j.id for j, _ in pairs]
    assert len(juniors) == len(set(juniors))
    for senior in {s.id: s for _, s in pairs}.values():
        taken = sum(s.id == senior.id for _, s in pairs)
        assert taken <= int(senior.extra.get("capacity") or 1)
    assert juniors == sorted(juniors)
    assert [p.id for p in result.pairs] == [f"pair-{n:02d}" for n in range(1, len(pairs) + 1)]
    assert [s.score for s in result.scores] == [pair_score(j, s) for j, s in pairs]
    paired = {m for p in result.pairs for m in p.members}
    assert sorted(u.id for u in result.unmatched) == sorted(
        p.id for p in people if p.id not in paired
    )
    assert all(u.reason for u in result.unmatched)


@FAST
@given(data=st.data(), people=rosters(), rule=st.sampled_from(RULES))
def test_row_order_never_changes_the_pairs(
    data: st.DataObject, people: list[Participant], rule: SameDepartment
) -> None:
    shuffled = data.draw(st.permutations(people))
    first, second = (
        match(people, PROGRAM, same_department=rule),
        match(shuffled, PROGRAM, same_department=rule),
    )
    assert first.pairs == second.pairs
    assert first.unmatched == second.unmatched


# --- the score ------------------------------------------------------------------------------


def test_the_worked_example_of_the_docs() -> None:
    amara = person("amara", "junior", dict(zip(COMPETENCIES, (5, 4, 2, 1), strict=True)))
    margaret = person("margaret", "senior", dict(zip(COMPETENCIES, (2, 4, 5, 3), strict=True)))
    [score] = match([amara, margaret], PROGRAM).scores
    assert [(t.competency, t.points) for t in score.junior_teaches] == [
        ("social-networking", 3),
        ("engagement-metrics", 0),
    ]
    assert [(t.competency, t.points) for t in score.senior_teaches] == [
        ("root-cause-analysis", 3),
        ("pareto-prioritisation", 2),
    ]
    assert (score.tech_points, score.management_points, score.score) == (3, 5, 8)


def test_a_blank_or_absent_rating_counts_as_neutral(write_roster: WriteRoster) -> None:
    path = write_roster(
        "id,name,email,role,rate_social-networking\n"
        "j1,A,a@example.org,junior,5\n"
        "s1,B,b@example.org,senior,\n"
    )
    result = match_roster(path, SESSION_ONE)
    [score] = result.scores
    assert score.junior_teaches[0].learner_rating == NEUTRAL_RATING
    assert score.score == 2
    assert result.missing_ratings["s1"] == tuple(COMPETENCIES)
    assert result.missing_ratings["j1"] == tuple(COMPETENCIES[1:])


def test_the_better_complement_wins() -> None:
    techie = person("j1", "junior", {"social-networking": 5, "root-cause-analysis": 1})
    novice = person("s1", "senior", {"social-networking": 1, "root-cause-analysis": 5})
    expert = person("s2", "senior", {"social-networking": 5, "root-cause-analysis": 5})
    result = match([techie, expert, novice], PROGRAM)
    assert [(p.junior, p.senior) for p in result.pairs] == [("j1", "s1")]
    assert result.total_score == 8
    [left] = result.unmatched
    assert (left.id, left.role) == ("s2", "senior")
    assert left.reason.startswith("no junior left: 1 junior for 2 senior places")


# --- the rules --------------------------------------------------------------------------------


def test_never_with_ones_manager_or_direct_report() -> None:
    people = [
        person("j1", "junior", {"social-networking": 5}, manager_id="s1"),
        person("s1", "senior", {"social-networking": 1}),
        person("j2", "junior"),
        person("s2", "senior", manager_id="j2"),
    ]
    result = match(people, PROGRAM)
    assert [(p.junior, p.senior) for p in result.pairs] == [("j1", "s2"), ("j2", "s1")]
    alone = match(people[:2], PROGRAM)
    assert alone.pairs == []
    assert [u.id for u in alone.unmatched] == ["j1", "s1"]
    assert "every senior is excluded by the rules (manager or direct report: s1)" in (
        alone.unmatched[0].reason
    )


def test_avoid_works_both_ways() -> None:
    for junior_avoids in (True, False):
        people = [
            person("j1", "junior", avoid="s1" if junior_avoids else ""),
            person("s1", "senior", avoid="" if junior_avoids else "x j1"),
            person("x", "senior"),
        ]
        result = match(people, PROGRAM)
        assert [(p.junior, p.senior) for p in result.pairs] == [("j1", "x")]


def department_roster() -> list[Participant]:
    return [
        person("j1", "junior", {"social-networking": 5}, department="Sales"),
        person("s1", "senior", {"social-networking": 1}, department="sales"),
        person("s2", "senior", {"social-networking": 4}, department="IT"),
    ]


@pytest.mark.parametrize(("rule", "senior"), [("allowed", "s1"), ("avoid", "s2"), ("forbid", "s2")])
def test_same_department_policy(rule: SameDepartment, senior: str) -> None:
    result = match(department_roster(), PROGRAM, same_department=rule)
    assert [(p.junior, p.senior) for p in result.pairs] == [("j1", senior)]
    assert result.same_department_pairs == (senior == "s1")


def test_avoiding_a_department_never_costs_a_pair() -> None:
    people = department_roster()[:2]
    assert len(match(people, PROGRAM, same_department="avoid").pairs) == 1
    forbid = match(people, PROGRAM, same_department="forbid")
    assert forbid.pairs == []
    assert "same department (--same-department forbid): s1" in forbid.unmatched[0].reason


def test_a_senior_with_capacity_takes_more_than_one_junior() -> None:
    people = [
        person("j1", "junior"),
        person("j2", "junior"),
        person("j3", "junior"),
        person("s1", "senior", capacity="2"),
        person("s2", "senior"),
    ]
    result = match(people, PROGRAM)
    assert sorted(p.senior for p in result.pairs) == ["s1", "s1", "s2"]
    assert result.unmatched == ()
    assert result.senior_places == 3


def test_uneven_numbers_say_who_is_left_and_why(write_roster: WriteRoster) -> None:
    path = write_roster(
        "\n".join(
            [
                HEADER,
                row("j1", "junior", (5, 5, 1, 1)),
                row("j2", "junior", (4, 4, 2, 2)),
                row("j3", "junior", (1, 1, 5, 5)),
                row("s1", "senior", (1, 1, 5, 5)),
                row("s2", "senior", (2, 2, 4, 4)),
            ]
        )
        + "\n"
    )
    result = match_roster(path, SESSION_ONE)
    assert [(p.junior, p.senior) for p in result.pairs] == [("j1", "s1"), ("j2", "s2")]
    [left] = result.unmatched
    assert left.id == "j3"
    assert left.reason == (
        "no senior place left: 3 juniors for 2 senior places; "
        "every senior they may be paired with (s1, s2) is taken"
    )


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra_columns", "values", "message"),
    [
        (
            "rate_social-networking",
            ("6", ""),
            "line 2, field 'rate_social-networking'): rating '6' is not a whole number from 1 to 5",
        ),
        ("rate_social-networking", ("", "0"), "line 3, field 'rate_social-networking')"),
        ("rate_social-networking", ("3.5", ""), "rating '3.5' is not a whole number"),
        ("rate_social-networking", ("good", ""), "rating 'good' is not a whole number"),
        ("rate_social-networking", ("²", ""), "rating '²' is not a whole number"),
        (
            "rate_social-netwroking",
            ("3", "3"),
            "rates no competency of the programme (did you mean rate_social-networking? ",
        ),
        (
            "rate_juggling",
            ("3", "3"),
            "(header, field 'rate_juggling'): column 'rate_juggling' rates no competency "
            "of the programme (program.yml knows: social-networking,",
        ),
        ("manager_id", ("s9", ""), "line 2, field 'manager_id'): 's9' is not in the roster"),
        ("manager_id", ("", "s1"), "line 3, field 'manager_id'): 's1' names themselves"),
        ("manager_id", ("s1;j1", ""), "line 2, field 'manager_id'): give at most 1 id here, not 2"),
        ("avoid", ("s1; x9", ""), "line 2, field 'avoid'): 'x9' is not in the roster"),
        ("capacity", ("", "0"), "line 3, field 'capacity'): capacity '0' is not a whole number"),
        ("capacity", ("2", ""), "line 2, field 'capacity'): capacity is for seniors"),
    ],
    ids=[
        "rating-too-high",
        "rating-too-low",
        "rating-not-whole",
        "rating-not-a-number",
        "rating-not-ascii",
        "misspelt-competency",
        "unknown-competency",
        "unknown-manager",
        "own-manager",
        "two-managers",
        "unknown-avoid",
        "zero-capacity",
        "junior-capacity",
    ],
)
def test_matching_column_errors_name_the_file_line_and_field(
    write_roster: WriteRoster, extra_columns: str, values: tuple[str, str], message: str
) -> None:
    path = write_roster(
        f"id,name,email,role,{extra_columns}\n"
        f'j1,A,a@example.org,junior,"{values[0]}"\n'
        f's1,B,b@example.org,senior,"{values[1]}"\n'
    )
    with pytest.raises(RosterError) as info:
        match_roster(path, SESSION_ONE)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path} (")


@pytest.mark.parametrize("missing", ["senior", "junior"])
def test_a_roster_without_one_role_cannot_be_matched(
    write_roster: WriteRoster, missing: str
) -> None:
    role = "junior" if missing == "senior" else "senior"
    path = write_roster(f"id,name,email,role\na1,A,a@example.org,{role}\n")
    with pytest.raises(RosterError, match=f"the roster has no {missing}s"):
        match_roster(path, SESSION_ONE)


def test_an_unknown_department_rule() -> None:
    with pytest.raises(RosterError, match="same_department must be one of allowed, avoid, forbid"):
        match(department_roster(), PROGRAM, same_department="never")  # type: ignore[arg-type]


# --- files and the cohort ---------------------------------------------------------------------


def test_the_pairs_file_is_read_back_by_load_pairs(
    write_roster: WriteRoster, tmp_path: Path
) -> None:
    path = write_roster(synthetic_roster(4, PROGRAM.competencies))
    result = match_roster(path, SESSION_ONE, same_department="avoid")
    written = write_pairs(result, tmp_path / "out" / "pairs.csv")
    rows = list(csv.DictReader(io.StringIO(pairs_csv(result))))
    assert list(rows[0]) == ["id", "junior", "senior", "score", "tech_points", "management_points"]
    assert [int(r["score"]) for r in rows] == [s.score for s in result.scores]
    people = {p.id: p for p in load_roster(path)}
    assert load_pairs(written, people) == result.pairs


def test_the_demo_roster_has_varied_reproducible_ratings() -> None:
    text = synthetic_roster(6, PROGRAM.competencies)
    assert text == synthetic_roster(6, PROGRAM.competencies)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [f"rate_{c}" for c in COMPETENCIES] == list(rows[0])[5:]
    ratings = {int(r[f"rate_{c}"]) for r in rows for c in COMPETENCIES}
    assert ratings == {1, 2, 3, 4, 5}
    assert all(r["department"] for r in rows)


def test_init_cohort_with_match(
    tmp_path: Path, tiny_programme: Path, write_roster: WriteRoster
) -> None:
    from tandem.cohort.workspace import init_cohort

    path = write_roster(
        "id,name,email,role,rate_tiny-skill,rate_tiny-lead\n"
        "j1,A,a@example.org,junior,5,1\n"
        "j2,B,b@example.org,junior,2,2\n"
        "s1,C,c@example.org,senior,4,3\n"
        "s2,D,d@example.org,senior,1,5\n"
    )
    cohort = init_cohort(tmp_path / "c", path, match=True, curriculum=tiny_programme)
    assert [(p.id, p.junior, p.senior) for p in cohort.pairs] == [
        ("pair-01", "j1", "s2"),
        ("pair-02", "j2", "s1"),
    ]
    with pytest.raises(CohortError, match="either a pairs file or match"):
        init_cohort(tmp_path / "d", path, pairs=path, match=True, curriculum=tiny_programme)


def test_init_cohort_refuses_a_senior_in_two_pairs(
    tmp_path: Path, tiny_programme: Path, write_roster: WriteRoster
) -> None:
    from tandem.cohort.workspace import init_cohort

    path = write_roster(
        "id,name,email,role,capacity\n"
        "j1,A,a@example.org,junior,\n"
        "j2,B,b@example.org,junior,\n"
        "s1,C,c@example.org,senior,2\n"
    )
    with pytest.raises(CohortError, match="s1 would mentor more than one junior"):
        init_cohort(tmp_path / "c", path, match=True, curriculum=tiny_programme)
    assert not (tmp_path / "c").exists()


def test_pair_conflicts_names_every_rule_a_pair_breaks(
    tiny_programme: Path, write_roster: WriteRoster
) -> None:
    from tandem.people.matching import pair_conflicts
    from tandem.people.roster import Pair

    people = load_roster(
        write_roster(
            "id,name,email,role,department,manager_id,avoid\n"
            "j1,A,a@example.org,junior,IT,s1,\n"
            "j2,B,b@example.org,junior,Sales,,s2\n"
            "s1,C,c@example.org,senior,IT,,\n"
            "s2,D,d@example.org,senior,Ops,,\n"
        )
    )
    pairs = [Pair(id="p1", junior="j1", senior="s1"), Pair(id="p2", junior="j2", senior="s2")]
    program = load_program(tiny_programme)
    assert pair_conflicts(pairs, people, program, same_department="forbid") == [
        "p1: j1 & s1 (manager or direct report, same department (--same-department forbid))",
        "p2: j2 & s2 (avoid)",
    ]
    fine = [Pair(id="p1", junior="j1", senior="s2"), Pair(id="p2", junior="j2", senior="s1")]
    assert pair_conflicts(fine, people, program, same_department="forbid") == []


def test_matching_people_with_nobody_of_the_other_role_explains_it(
    tiny_programme: Path,
) -> None:
    from tandem.people.matching import match_profiles
    from tandem.people.profiles import read_profiles

    people = [
        Participant(id="j1", name="A", email="a@example.org", role="junior"),
        Participant(id="s1", name="B", email="b@example.org", role="senior"),
    ]
    program = load_program(tiny_programme)
    [junior, _] = read_profiles(people, program)
    result = match_profiles([junior], program)
    assert result.pairs == []
    assert [(u.id, u.reason) for u in result.unmatched] == [
        ("j1", "there is no senior to pair them with")
    ]


def test_the_rating_and_rule_columns_are_what_a_cohort_keeps() -> None:
    from tandem.people.matching import kept_columns

    extra = {
        "rate_tiny-skill": "4",
        "rate_tiny-lead": "",
        "manager_id": "s1",
        "avoid": "s2;s3",
        "capacity": "2",
        "location": "Oslo",
        "notes": "private",
    }
    assert kept_columns(extra) == {"avoid": "s2;s3", "manager_id": "s1", "rate_tiny-skill": "4"}
