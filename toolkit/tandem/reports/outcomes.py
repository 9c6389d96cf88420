"""Two-way outcomes as numbers: partner growth, agreement, reciprocity, the safety pulse.

Pure functions over plain values, so every figure has one definition, the one
``docs/outcomes.md`` gives with a worked example. Ratings are 1-5 on a module's
competencies, taken at the start (``before``) and the end (``after``) of the module; the
learner rates themself, and the lead rates the learner on the same anchors.

* **Growth** of one rater on one module: mean(after) - mean(before) over the competencies
  rated both times.
* **Agreement** between self and partner ratings: the share of competencies on which the
  two ratings differ by at most one point (at the end of the module).
* **Gain** of one direction of a pair (the senior learning tech, or the junior learning
  management): the mean of three parts, each from 0 to 1: self growth / 2 and partner
  growth / 2 (a rise of two points or more counts in full, a fall as 0), and checkpoint
  mastery (the mean score, in percent, / 100). A part with no data is left out.
* **Reciprocity** of a pair: the smaller of its two directions' gains, so it is high only
  when both partners gained.
* **Pulse**: three items, 1-5, one reverse-scored (:data:`PULSE_ITEMS`); a person's safety
  score is the mean after reversing. A pair is flagged ``low`` when one partner's score is
  :data:`LOW_SAFETY` or less, and ``divergent`` when the two scores differ by
  :data:`DIVERGENT_SAFETY` or more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from tandem.notebook.pulse import PULSE_ITEMS

Ratings = Mapping[str, int]  # competency -> 1..5

LOW_SAFETY = 2.5
DIVERGENT_SAFETY = 1.5
FULL_GROWTH = 2.0
AGREE_WITHIN = 1


def growth(before: Ratings, after: Ratings) -> float | None:
    """mean(after) - mean(before) over the competencies rated both times."""
    both = sorted(set(before) & set(after))
    if not both:
        return None
    return fmean(after[c] for c in both) - fmean(before[c] for c in both)


def agreement(self_rating: Ratings, partner_rating: Ratings) -> float | None:
    """Share (0-1) of competencies where the two ratings are within one point."""
    both = sorted(set(self_rating) & set(partner_rating))
    if not both:
        return None
    return sum(abs(self_rating[c] - partner_rating[c]) <= AGREE_WITHIN for c in both) / len(both)


def _part(value: float | None, full: float) -> float | None:
    return None if value is None else min(max(value / full, 0.0), 1.0)


@dataclass(frozen=True)
class Gain:
    """One direction of a pair: its three parts (0-1, None without data) and their mean."""

    self_growth: float | None
    partner_growth: float | None
    mastery: float | None

    @property
    def parts(self) -> dict[str, float | None]:
        return {
            "self growth": _part(self.self_growth, FULL_GROWTH),
            "partner growth": _part(self.partner_growth, FULL_GROWTH),
            "mastery": _part(self.mastery, 100.0),
        }

    @property
    def value(self) -> float | None:
        known = [v for v in self.parts.values() if v is not None]
        return fmean(known) if known else None


def reciprocity(directions: Sequence[Gain]) -> float | None:
    """The smaller gain of the pair's two directions (None unless both have one)."""
    values = [g.value for g in directions]
    if len(values) != 2 or any(v is None for v in values):
        return None
    return min(v for v in values if v is not None)


def safety_score(answers: Mapping[str, int]) -> float | None:
    """A person's pulse: the mean of the three items, the reverse-scored one reversed."""
    scores = [
        6 - answers[item] if reverse else answers[item]
        for item, (_, reverse) in PULSE_ITEMS.items()
        if item in answers
    ]
    return fmean(scores) if len(scores) == len(PULSE_ITEMS) else None


def pulse_flags(first: float | None, second: float | None) -> list[str]:
    """The flags a facilitator sees on a pair, from the partners' safety scores."""
    flags = []
    known = [s for s in (first, second) if s is not None]
    if any(s <= LOW_SAFETY for s in known):
        flags.append("one partner reports low safety")
    if len(known) == 2 and abs(known[0] - known[1]) >= DIVERGENT_SAFETY:
        flags.append("the two partners' views diverge")
    return flags
