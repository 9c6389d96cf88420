"""Small-group suppression for the programme report: primary and secondary.

Every figure about people is computed from a *group*: the set of items it counts, each
item naming the one person it is about (a learner's checkpoint, a learner, a pair; a pair
counts as one person, since one member can be why it is counted). A figure is published
only when no small group can be read from it:

* **primary**: a count, mean, median or share rests on at least ``min_group_size``
  distinct people, else it is shown as "fewer than N". A count of nothing (0) is about
  no one and is shown.
* **secondary**: a count is withheld ("not shown") when, set against a figure already
  published or derivable that contains it or that it contains (a total, another column,
  the same people in another table), the difference would be a small group: "Submitted
  11 of 12" tells that one learner did not submit.

A group gets one decision, so the same figure reads the same in every table and
direction. Totals that only describe the cohort's size (pairs, learners expected on a
module) are structural: always published, and every count below them is checked against
them.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence

Item = tuple[str, ...]
"""``(kind, person, *detail)``: what a count counts, and whom it is about."""
Group = frozenset[Item]

NOT_SHOWN = "not shown"
_SMALL = "small"  # a decision: the group itself is too small (shown with its marker)


def people(group: Group) -> frozenset[str]:
    """The distinct people a group is about."""
    return frozenset(item[1] for item in group)


class Disclosure:
    """Decides, figure by figure, what the programme report may publish."""

    def __init__(self, min_group_size: int) -> None:
        self.min_group_size = min_group_size
        self._known: list[Group] = []  # published or derivable exactly
        self._decided: dict[Group, int | str] = {}  # for published()

    @property
    def fewer(self) -> str:
        """The marker of a figure over fewer than ``min_group_size`` people."""
        return f"fewer than {self.min_group_size}"

    def small(self, group: Group) -> bool:
        """True when ``group`` is about someone, but fewer people than the minimum."""
        return bool(group) and len(people(group)) < self.min_group_size

    def enough(self, group: Group) -> bool:
        return len(people(group)) >= self.min_group_size

    def total(self, group: Group) -> int:
        """A structural total (the cohort's size): always published. A count of the same
        group is still decided on its own: "1 of 1 submitted" tells about one person."""
        self.know(group)
        return len(group)

    def know(self, group: Group) -> None:
        """Record a group whose size a reader can work out from what is published."""
        if group not in self._known:
            self._known.append(group)

    def published(self, group: Group) -> bool:
        return isinstance(self._decided.get(group), int)

    def count(
        self, group: Group, *, marker: str | None = None, reveals: Iterable[Group] = ()
    ) -> int | str:
        """The size of ``group``, or a marker: ``marker`` (default "fewer than N") when the
        group itself is small; "not shown" when publishing it would reveal a small group,
        by difference with a known figure or as one of ``reveals``."""
        # Decided afresh each time: the same group reads the same in every table (what was
        # published stays known; what was withheld still differs from a small group), but
        # equal sets can be different figures (an empty one above all), each with its own
        # ``reveals``.
        value = self._decide(group, reveals)
        if not self.published(group):
            self._decided[group] = value
        return marker or self.fewer if value == _SMALL else value

    def _decide(self, group: Group, reveals: Iterable[Group]) -> int | str:
        value: int | str
        if self.small(group):
            value = _SMALL
        elif any(self.small(g) for g in reveals) or any(
            self.small(diff) for diff in self._differences(group)
        ):
            value = NOT_SHOWN
        else:
            value = len(group)
            self.know(group)
        return value

    def _differences(self, group: Group) -> Iterable[Group]:
        for known in self._known:
            if group <= known:
                yield known - group
            elif known <= group:
                yield group - known

    def mean(self, values: Sequence[tuple[str, float]], digits: int) -> float | None:
        """The mean of ``(person, value)`` pairs, if they come from enough people."""
        if len({person for person, _ in values}) < self.min_group_size:
            return None
        return round(statistics.fmean(v for _, v in values), digits)

    def median(self, values: Sequence[tuple[str, float]], digits: int) -> float | None:
        if len({person for person, _ in values}) < self.min_group_size:
            return None
        return round(statistics.median(v for _, v in values), digits)


def as_disclosure(limits: Disclosure | int) -> Disclosure:
    """A :class:`Disclosure`, from one or from a bare ``min_group_size``."""
    return limits if isinstance(limits, Disclosure) else Disclosure(limits)
