"""The one mapping from roster id to hub username to Unix account, and collisions refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tandem.cohort.workspace import Workspace
from tandem.errors import CohortError, IdError
from tandem.fsutil import check_id
from tandem.hub.accounts import account_plan, group_names, hub_user

#: useradd(8): at most 32 characters; Debian's adduser NAME_REGEX (/etc/adduser.conf).
USERADD = re.compile(r"^[a-z_][a-z0-9_-]*[$]?$")
DEBIAN = re.compile(r"^[a-z][-a-z0-9_]*\$?$")

ROSTER_IDS = [
    "j1",
    "Ann.Lee",
    "ANN_LEE_2",
    "x" * 64,
    "A." + "b" * 62,
    "0day",
    "a-b_c.d",
    "Z9",
]


def _valid_unix_name(name: str) -> bool:
    return len(name) <= 32 and bool(USERADD.match(name)) and bool(DEBIAN.match(name))


@pytest.mark.parametrize("participant_id", ROSTER_IDS)
def test_every_roster_id_gives_a_valid_unix_name(participant_id: str) -> None:
    check_id(participant_id, what="participant id")  # the roster allows it
    name = hub_user(participant_id)
    assert _valid_unix_name(name), name
    assert name == name.lower()  # JupyterHub would not rename it
    assert name.startswith("tdm-")


def test_capitals_and_dots_become_lower_case_and_dashes() -> None:
    assert hub_user("Ann.Lee") == "tdm-ann-lee"
    assert hub_user("ANN_LEE") == "tdm-ann-lee"
    assert hub_user("j1") == "tdm-j1"
    assert hub_user("Ann.Lee", prefix="hub_") == "hub_ann-lee"


def test_long_ids_are_cut_with_a_stable_hash_that_keeps_them_apart() -> None:
    first, second = "a" * 63 + "b", "a" * 63 + "c"
    assert len(hub_user(first)) == 32
    assert hub_user(first) != hub_user(second)
    assert hub_user(first) == hub_user(first)
    # the same on every machine and Python run (no hash randomisation)
    assert hub_user("x" * 64) == "tdm-xxxxxxxxxxxxxxxxxxxxx-7ce100"
    assert hub_user("a" * 28) == "tdm-" + "a" * 28  # exactly 32: kept whole


def test_group_names_fit_even_for_a_long_course_and_prefix() -> None:
    assert group_names("spring-2027") == (
        "tdm-spring-2027-participants",
        "tdm-spring-2027-facilitators",
    )
    people, leads = group_names("a-very-long-course-identifier-2027", prefix="tdmtabcd-")
    assert people != leads
    assert all(_valid_unix_name(g) for g in (people, leads)), (people, leads)
    assert people.endswith("-participants") and leads.endswith("-facilitators")


@pytest.mark.parametrize("prefix", ["", "Tdm-", "-tdm", "1tdm", "tdm.", "t" * 11])
def test_a_prefix_that_would_give_invalid_names_is_refused(prefix: str) -> None:
    with pytest.raises(IdError, match="prefix"):
        hub_user("j1", prefix=prefix)


def test_two_ids_giving_one_account_are_refused_naming_both(
    cohort_at: Callable[..., Workspace],
) -> None:
    roster = (
        "id,name,email,role\nAnn.Lee,Ann Lee,ann@x.org,junior\n"
        "ann-lee,Ann Other,other@x.org,senior\n"
    )
    cohort = cohort_at("initialised", roster=roster).load()
    with pytest.raises(CohortError) as info:
        account_plan(cohort)
    message = str(info.value)
    assert "'Ann.Lee'" in message and "'ann-lee'" in message and "'tdm-ann-lee'" in message


def test_the_plan_names_every_account_group_and_private_home(
    cohort_at: Callable[..., Workspace],
) -> None:
    ws = cohort_at("initialised")
    cohort = ws.load()
    cohort.withdrawn.append("s2")
    plan = account_plan(cohort, prefix="tdm-", facilitator="lead")
    course = cohort.course_id
    assert plan.groups == (f"tdm-{course}-participants", f"tdm-{course}-facilitators")
    assert [(a.name, a.participant, a.active) for a in plan.accounts] == [
        ("tdm-j1", "j1", True),
        ("tdm-s1", "s1", True),
        ("tdm-j2", "j2", True),
        ("tdm-s2", "s2", False),
        ("lead", None, True),
    ]
    assert plan.account_of("j1").groups == (f"tdm-{course}-participants",)
    assert plan.accounts[-1].groups == (f"tdm-{course}-facilitators",)
    assert {a.home_mode for a in plan.accounts} == {0o700}


def test_a_facilitator_named_like_a_participant_account_is_refused(
    cohort_at: Callable[..., Workspace],
) -> None:
    cohort = cohort_at("initialised").load()
    with pytest.raises(CohortError, match="'j1' and the facilitator"):
        account_plan(cohort, facilitator="tdm-j1")
    with pytest.raises(IdError, match="facilitator account"):
        account_plan(cohort, facilitator="Lead.Person")
