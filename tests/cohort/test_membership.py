"""Roster changes on a running cohort: add, withdraw, repair."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tandem.cohort.membership import add_participants
from tandem.cohort.workspace import Workspace
from tandem.errors import CohortError


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
