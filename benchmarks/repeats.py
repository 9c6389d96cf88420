"""Repeated runs in the benchmarks: the median run counts, and every run is printed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

R = TypeVar("R")


def median_of(runs: Sequence[R], seconds: Callable[[R], float]) -> R:
    """The run with the median time (the faster middle one of an even number)."""
    return sorted(runs, key=seconds)[(len(runs) - 1) // 2]


def shown(values: Sequence[float]) -> str:
    """Every run's seconds, for a result line; nothing for a single run."""
    if len(values) <= 1:
        return ""
    return f"   (median of {len(values)}: {', '.join(f'{v:.1f}' for v in values)} s)"
