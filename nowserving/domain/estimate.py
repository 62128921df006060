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
from collections import deque
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


@dataclass(frozen=True, slots=True)
class Schedule:
    """When each waiting resident will be called, played forward once for the whole office."""

    called_in: dict[str, float]  # ticket id -> minutes from now
    free_in: list[float]  # per counter, minutes until it has no one left to call
    counters: Sequence[CounterLoad]

    def newcomer(self, line: str) -> float | None:
        """Minutes until someone joining `line` now would be called; None if no counter."""
        times = [
            free for free, c in zip(self.free_in, self.counters, strict=True) if line in c.lines
        ]
        return min(times) if times else None


def queue_schedule(
    counters: Sequence[CounterLoad], waiting: Sequence[tuple[str, str]], minutes: dict[str, float]
) -> Schedule:
    """Play the office forward: each counter, when free, calls the oldest resident of its lines.

    `waiting` is (ticket id, line) in order of place in line, oldest first. Residents
    of lines no open counter serves are left out (their wait cannot be known).
    """
    heads: dict[str, deque[tuple[int, str]]] = {}
    for order, (ticket, line) in enumerate(waiting):
        heads.setdefault(line, deque()).append((order, ticket))
    free = [counter.free_in for counter in counters]
    active = set(range(len(counters)))
    called: dict[str, float] = {}
    while active:
        n = min(active, key=free.__getitem__)
        lines = [line for line in counters[n].lines if heads.get(line)]
        if not lines:
            active.discard(n)  # nobody left for this counter
            continue
        line = min(lines, key=lambda candidate: heads[candidate][0][0])
        _, ticket = heads[line].popleft()
        called[ticket] = free[n]
        free[n] += minutes.get(line, 5.0)
    return Schedule(called, free, counters)


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
