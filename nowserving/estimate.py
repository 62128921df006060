"""Estimated wait, shown as a range: honest about its own uncertainty.

wait ≈ residents ahead ÷ counters serving the line × service time, where the
service time is learned from today's served tickets and starts from the line's
typical minutes in the config.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

PRIOR_WEIGHT = 5  # the config's typical time counts as this many observed services
LOW_FACTOR = 0.6
HIGH_FACTOR = 1.5


@dataclass(frozen=True, slots=True)
class WaitRange:
    """Minutes, rounded outward; `known` is False when no counter serves the line now."""

    low: int
    high: int
    known: bool = True


def service_minutes(recent_ms: list[int], typical_minutes: float) -> float:
    """Expected minutes per resident: the config's guess, pulled toward today's median."""
    if not recent_ms:
        return typical_minutes
    observed = statistics.median(recent_ms) / 60_000
    weight = len(recent_ms) / (len(recent_ms) + PRIOR_WEIGHT)
    return weight * observed + (1 - weight) * typical_minutes


def estimate_wait(ahead: int, counters: float, minutes_each: float) -> WaitRange:
    """The wait for someone with `ahead` residents before them."""
    known = counters > 0
    expected = ahead * minutes_each / max(counters, 1.0)
    if ahead == 0:
        return WaitRange(0, math.ceil(minutes_each / 2), known)
    low = math.floor(expected * LOW_FACTOR)
    high = max(low + 1, math.ceil(expected * HIGH_FACTOR))
    return WaitRange(low, high, known)
