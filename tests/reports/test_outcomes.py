"""Two-way outcome figures on known data: the values docs/outcomes.md works through."""

from __future__ import annotations

import pytest

from tandem.reports.outcomes import Gain, agreement, growth, pulse_flags, reciprocity, safety_score


def test_growth_is_the_change_of_the_mean_over_competencies_rated_both_times() -> None:
    assert growth({"a": 2, "b": 3}, {"a": 4, "b": 4}) == 1.5
    assert growth({"a": 2, "b": 3}, {"a": 4}) == 2.0  # b was not rated at the end
    assert growth({"a": 2}, {"b": 4}) is None


def test_agreement_counts_competencies_within_one_point() -> None:
    assert agreement({"a": 4, "b": 2}, {"a": 3, "b": 4}) == 0.5
    assert agreement({"a": 4}, {}) is None


def test_reciprocity_is_high_only_when_both_directions_gained() -> None:
    # the worked example of docs/outcomes.md: the senior gained in tech, the junior barely
    senior_learns = Gain(self_growth=1.5, partner_growth=2.0, mastery=90.0)
    junior_learns = Gain(self_growth=0.0, partner_growth=-0.5, mastery=40.0)
    assert senior_learns.value == pytest.approx((0.75 + 1.0 + 0.9) / 3)
    assert junior_learns.value == pytest.approx((0.0 + 0.0 + 0.4) / 3)
    assert reciprocity([senior_learns, junior_learns]) == pytest.approx(0.4 / 3)
    both = Gain(1.0, 1.0, 80.0)
    assert reciprocity([both, both]) == pytest.approx((0.5 + 0.5 + 0.8) / 3)
    assert reciprocity([both, Gain(None, None, None)]) is None  # one direction unknown
    assert Gain(None, 2.0, None).value == 1.0  # parts with no data are left out


def test_the_pulse_reverses_its_reverse_scored_item_and_flags_low_and_divergent_pairs() -> None:
    safe = {"could-say": 5, "taken-seriously": 4, "held-back": 1}
    unsafe = {"could-say": 2, "taken-seriously": 2, "held-back": 4}
    assert safety_score(safe) == pytest.approx(14 / 3)
    assert safety_score(unsafe) == 2.0
    assert safety_score({"could-say": 5}) is None  # an unfinished pulse counts as none
    assert pulse_flags(safety_score(safe), safety_score(unsafe)) == [
        "one partner reports low safety",
        "the two partners' views diverge",
    ]
    assert pulse_flags(4.0, 3.0) == []
    assert pulse_flags(4.5, 2.9) == ["the two partners' views diverge"]
    assert pulse_flags(2.5, None) == ["one partner reports low safety"]
