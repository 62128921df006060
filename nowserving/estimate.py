"""Estimated wait, shown as a range: honest about its own uncertainty.

The centre comes from playing the queue forward: each open counter that serves
the line takes, in turn, the oldest resident of the lines it serves (as the
rules do), each service lasting that line's running average. So a counter
shared with a busy line counts for what it really gives. That centre is then
scaled by how today's estimates for the line turned out (actual ÷ shown over
recent calls), and widened into a range measured on simulated days to hold
the actual wait for at least 80 % of residents (see docs/estimates.md).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

PRIOR_WEIGHT = 5  # the config's typical time counts as this many observed services
# Quantiles of actual ÷ estimated waits on simulated days (benchmarks/bench_estimates.py).
LOW_FACTOR = 0.4
HIGH_FACTOR = 3.2


@dataclass(frozen=True, slots=True)
class WaitRange:
    """Minutes, rounded outward; `known` is False when no counter serves the line now."""

    low: int
    high: int
    known: bool = True
    expected: float = 0.0  # the centre, in minutes, before rounding outward


def service_minutes(recent_ms: list[int], typical_minutes: float) -> float:
    """Expected minutes per resident: the config's guess, pulled toward today's median."""
    if not recent_ms:
        return typical_minutes
    observed = statistics.median(recent_ms) / 60_000
    weight = len(recent_ms) / (len(recent_ms) + PRIOR_WEIGHT)
    return weight * observed + (1 - weight) * typical_minutes


def correction(ratios: list[float]) -> float:
    """How much longer waits have really been than estimated today, on this line.

    The median of actual/estimated over recent calls, pulled toward 1 while
    there are few of them.
    """
    if not ratios:
        return 1.0
    weight = len(ratios) / (len(ratios) + PRIOR_WEIGHT)
    return weight * statistics.median(ratios) + (1 - weight)


@dataclass(frozen=True, slots=True)
class CounterLoad:
    """An open counter as the estimate sees it."""

    free_in: float  # minutes until it can call someone
    lines: frozenset[str]


def queue_wait(
    counters: Sequence[CounterLoad], ahead: Sequence[str], line: str, minutes: dict[str, float]
) -> float | None:
    """Minutes until a counter calls a resident of `line` who has `ahead` in front.

    `ahead` lists the lines of the residents called before them, oldest first,
    across every line these counters serve. None if no open counter serves `line`.
    """
    free = {n: counter.free_in for n, counter in enumerate(counters)}
    if not any(line in counter.lines for counter in counters):
        return None
    waiting = list(ahead)
    while True:
        n = min(free, key=lambda k: free[k])
        serves = counters[n].lines
        taken = next((i for i, other in enumerate(waiting) if other in serves), None)
        if taken is None:
            if line in serves:
                return free[n]
            del free[n]  # nothing more for this counter before our resident
            continue
        free[n] += minutes.get(waiting.pop(taken), 5.0)


def wait_range(expected: float | None, minutes_each: float, learned: float = 1.0) -> WaitRange:
    """The range shown for a centre of `expected` minutes (None: no counter open)."""
    if expected is None:
        centre = minutes_each * learned
        return WaitRange(
            math.floor(centre * LOW_FACTOR), math.ceil(centre * HIGH_FACTOR), False, centre
        )
    centre = expected * learned
    low = math.floor(centre * LOW_FACTOR)
    high = max(low + 1, math.ceil(centre * HIGH_FACTOR), math.ceil(minutes_each / 2))
    return WaitRange(low, high, True, centre)
