"""Who needs a check-in: what a facilitator would act on, not every 2 out of 5."""

from __future__ import annotations

from typing import Any

import pytest

from tandem.cohort.workspace import Workspace
from tandem.reports.data import checkin_list


def _pair(feedback: dict[str, int], before: dict[str, int], after: dict[str, int]) -> Any:
    return {
        "id": "pair-01",
        "junior": {"name": "Ada Junior"},
        "senior": {"name": "Sam Senior"},
        "checkpoints": [
            {
                "module": "tiny-mgmt",
                "title": "Tiny-Mgmt",
                "learner": "j1",
                "status": "graded",
                "feedback_to_lead": {**feedback, "comment": ""},
                "self_assessment": {"before": before, "after": after},
            }
        ],
    }


GOOD = {"clarity": 4, "relevance": 4, "pace": 4}


@pytest.mark.parametrize(
    ("feedback", "before", "after", "reason"),
    [
        ({"clarity": 4, "relevance": 2, "pace": 4}, {}, {}, None),  # one 2 of 5: no
        ({"clarity": 3, "relevance": 2, "pace": 3}, {}, {}, None),
        (GOOD, {"a": 4}, {"a": 3}, None),  # one point down on one competency: no
        (
            {"clarity": 3, "relevance": 2, "pace": 2},
            {},
            {},
            "low feedback for the lead of Tiny-Mgmt: relevance 2, pace 2",
        ),
        (
            {"clarity": 4, "relevance": 1, "pace": 5},
            {},
            {},
            "low feedback for the lead of Tiny-Mgmt: relevance 1",
        ),
        (GOOD, {"a": 4}, {"a": 2}, "Ada Junior's self-ratings fell on Tiny-Mgmt: a 4->2"),
        (
            GOOD,
            {"a": 4, "b": 3},
            {"a": 3, "b": 2},
            "Ada Junior's self-ratings fell on Tiny-Mgmt: a 4->3, b 3->2",
        ),
    ],
)
def test_a_check_in_is_asked_for_only_where_a_facilitator_would_act(
    tiny_cohort: Workspace,
    feedback: dict[str, int],
    before: dict[str, int],
    after: dict[str, int],
    reason: str | None,
) -> None:
    cohort = tiny_cohort.load()
    needed = checkin_list(
        tiny_cohort, cohort, tiny_cohort.program(cohort), [_pair(feedback, before, after)]
    )
    assert [c["reasons"] for c in needed] == ([] if reason is None else [[reason]])
