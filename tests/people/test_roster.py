"""Rosters and pairs files: what is accepted, and errors that name the line and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tandem.errors import RosterError
from tandem.people.roster import load_pairs, load_roster, pairs_in_roster_order

from ..conftest import ROSTER_2_PAIRS

WriteRoster = Callable[..., Path]


def test_roster_is_read_with_extra_columns_kept_aside(write_roster: WriteRoster) -> None:
    path = write_roster(
        "ID,Name,Email,Role,Department,Shoe size\n"
        "j1,Ada Lovelace,ada@example.org,Junior,IT,38\n"
        "s1,Sam Senior,sam@example.org,senior,,44\n\n"
    )
    people = load_roster(path)
    assert [(p.id, p.role, p.department) for p in people] == [
        ("j1", "junior", "IT"),
        ("s1", "senior", ""),
    ]
    assert people[0].extra == {"shoe size": "38"}
    assert (people[0].first_name, people[0].last_name) == ("Ada", "Lovelace")


def test_a_byte_order_mark_is_accepted(write_roster: WriteRoster) -> None:
    path = write_roster(b"\xef\xbb\xbf" + ROSTER_2_PAIRS.encode())
    assert [p.id for p in load_roster(path)] == ["j1", "s1", "j2", "s2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            ROSTER_2_PAIRS + "j1,Again,again@example.org,junior,IT\n",
            "line 6): duplicate id 'j1' (first on line 2)",
        ),
        ("id,name,role\nj1,Ada,junior\n", "header): missing column: email"),
        (
            "id,name,email,role\nj1,Ada,ada@example.org,intern\n",
            "line 2, field 'role'): unknown role 'intern'",
        ),
        ("id,name,email,role\nj1,Ada,,junior\n", "line 2): empty 'email'"),
        ("id,name,email,role\n../x,Ada,ada@example.org,junior\n", "line 2, field 'id')"),
        ("id,name,email,role\nj1,Ada,not-an-address,junior\n", "field 'email'"),
        (
            "id,name,email,role\nj1,Ada,ada@example.org,junior,extra\n",
            "line 2): more fields than the header has",
        ),
        ("id,name,email,role\n", "roster has no participants"),
        ("", "roster file is empty"),
    ],
    ids=[
        "duplicate",
        "missing-column",
        "unknown-role",
        "empty-field",
        "unsafe-id",
        "bad-email",
        "too-many-fields",
        "no-rows",
        "empty-file",
    ],
)
def test_roster_errors(write_roster: WriteRoster, content: str, message: str) -> None:
    path = write_roster(content)
    with pytest.raises(RosterError) as info:
        load_roster(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_roster_in_another_encoding_is_refused_with_its_line(write_roster: WriteRoster) -> None:
    path = write_roster(
        "id,name,email,role\nj1,Zoë Müller,zoe@example.org,junior\n".encode("latin-1")
    )
    with pytest.raises(RosterError, match=r"line 2\): not UTF-8 text \(byte 0xeb\)"):
        load_roster(path)


def test_missing_roster_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="roster file not found"):
        load_roster(tmp_path / "absent.csv")


def test_pairs_in_roster_order_reports_who_is_left(write_roster: WriteRoster) -> None:
    people = load_roster(write_roster(ROSTER_2_PAIRS + "j3,Cy,cy@example.org,junior,IT\n"))
    pairs, unpaired = pairs_in_roster_order(people)
    assert [(p.id, p.junior, p.senior) for p in pairs] == [
        ("pair-01", "j1", "s1"),
        ("pair-02", "j2", "s2"),
    ]
    assert unpaired == ["j3"]


def test_pairs_file(write_roster: WriteRoster) -> None:
    people = {p.id: p for p in load_roster(write_roster(ROSTER_2_PAIRS))}
    pairs = load_pairs(write_roster("junior,senior\nj1,s2\nj2,s1\n", "pairs.csv"), people)
    assert [(p.junior, p.senior) for p in pairs] == [("j1", "s2"), ("j2", "s1")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("junior,senior\nj1,s9\n", "line 2, field 'senior'): senior 's9' is not in the roster"),
        ("junior,senior\ns1,j1\n", "'s1' is a senior in the roster, not a junior"),
        ("junior,senior\nj1,s1\nj1,s2\n", "line 3): 'j1' is already paired on line 2"),
        ("junior\nj1\n", "missing column: senior"),
    ],
)
def test_pairs_file_errors(write_roster: WriteRoster, content: str, message: str) -> None:
    people = {p.id: p for p in load_roster(write_roster(ROSTER_2_PAIRS))}
    with pytest.raises(RosterError) as info:
        load_pairs(write_roster(content, "pairs.csv"), people)
    assert message in str(info.value)


def test_ids_that_differ_only_in_case_are_refused_naming_both_lines(
    write_roster: WriteRoster,
) -> None:
    path = write_roster(
        ROSTER_2_PAIRS + "amara,Amara A,amara@example.org,junior\n"
        "Amara,Amara B,amara.b@example.org,senior\n"
    )
    with pytest.raises(RosterError) as refused:
        load_roster(path)
    assert str(refused.value) == (
        f"{path} (line 7): duplicate id 'Amara' (first on line 6 as 'amara': "
        "they differ only in case)"
    )


def test_a_repeated_email_is_refused_naming_both_lines(write_roster: WriteRoster) -> None:
    path = write_roster(ROSTER_2_PAIRS + "j3,Ada Again,ADA@example.org,junior\n")
    with pytest.raises(RosterError) as refused:
        load_roster(path)
    message = str(refused.value)
    assert message.startswith(f"{path} (line 6): duplicate email 'ADA@example.org'")
    assert "first on line 2 as 'ada@example.org'" in message


def test_a_roster_separated_by_semicolons_as_european_excel_writes_it(
    write_roster: Callable[..., Path],
) -> None:
    path = write_roster(
        "\ufeffid;name;email;role;department\r\n"
        "jose.nunez;Núñez, José;jose@example.org;junior;Ops\r\n"
        "zoe;Zoë Ødegård;zoe@example.org;senior;IT\r\n".encode()
    )
    people = load_roster(path)
    assert [(p.id, p.name, p.department) for p in people] == [
        ("jose.nunez", "Núñez, José", "Ops"),
        ("zoe", "Zoë Ødegård", "IT"),
    ]


def test_an_id_with_an_accent_is_refused_naming_the_character(
    write_roster: Callable[..., Path],
) -> None:
    path = write_roster("id,name,email,role\njosé,José,jose@example.org,junior\n")
    with pytest.raises(RosterError, match=r"ASCII letters .*\('é' not allowed\)"):
        load_roster(path)
