"""Estimated wait: a point ("about 20 min") and a range whose width follows the uncertainty.

A resident is called once the counters serving their line have done the work ahead
of them: the residents ahead in the line, plus an allowance for those who will pass
them (priority, transfers that keep their place, returned no-shows), plus, at a
counter shared with other lines, that counter's part of the *older* residents of
those lines (a counter calls the oldest of its lines). Each counter is counted once:
its time goes either to this line or to the others, never to both.

That work is a sum of service times: its mean grows like n·μ and its spread like
√n·σ (plus n·μ's doubt while few services of the line have been seen). Counters
that free up at different times share it: the mean wait is when their free time,
filled with the work, reaches it; the spread is the sum's spread over c counters.
A gamma distribution with that mean and variance gives the range; the quantiles
were chosen on simulated days (see docs/estimates.md).

Everything here is arithmetic on a handful of numbers per line: no queue is walked.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PRIOR_WEIGHT = 5  # the config's typical time counts as this many observed services
PRIOR_CV = 0.5  # before any service is seen, service times spread by half their mean
LEAST_REMAINING = 0.2  # a service already past its mean still has this share of it to go
# What the sum of service times leaves out, chosen on the simulated days (docs/estimates.md)
# so that >= 80 % of actual waits fall inside the range, also with someone ahead:
SPREAD_SCALE = 1.5  # no-shows and transfers make waits spread more than service times do
CAPACITY_DOUBT = 0.4  # counters come and go (breaks, late openings): ± this share of the wait
LOW_Z = -1.0  # the range's quantiles of the gamma approximation, as normal scores
HIGH_Z = 1.28
MAX_MINUTES = 10_000  # what a range may say at most (the event payload's bound)


@dataclass(frozen=True, slots=True)
class WaitRange:
    """Minutes: `point` is what the resident reads first ("about 20 min"), then low–high.

    `known` is False when no counter serves the line now; `next` when nobody is
    ahead and a counter is free ("you are next").
    """

    low: int
    high: int
    known: bool = True
    point: int = 0
    next: bool = False
    expected: float = 0.0  # the mean, in minutes, before rounding


UNKNOWN = WaitRange(0, 0, known=False)
NEXT = WaitRange(0, 1, point=0, next=True)


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """One line's service time in minutes: mean, variance, and how sure the mean is."""

    mean: float
    var: float
    weight: float  # services seen, plus the prior's weight


def service_time(recent_ms: Sequence[int], typical_minutes: float) -> ServiceTime:
    """Today's recent services of a line, starting from the config's typical time.

    The prior counts as PRIOR_WEIGHT services of `typical_minutes` spreading by
    PRIOR_CV, so the first residents get the config's guess and later ones today's.
    """
    prior_var = (PRIOR_CV * typical_minutes) ** 2
    minutes = [ms / 60_000 for ms in recent_ms]
    weight = len(minutes) + PRIOR_WEIGHT
    mean = (sum(minutes) + PRIOR_WEIGHT * typical_minutes) / weight
    spread = sum((m - mean) ** 2 for m in minutes) + PRIOR_WEIGHT * prior_var
    return ServiceTime(mean, spread / weight, weight)


def remaining(service: ServiceTime, elapsed: float) -> float:
    """Minutes until a counter that has served someone for `elapsed` minutes frees up."""
    return max(service.mean - elapsed, LEAST_REMAINING * service.mean)


@dataclass(frozen=True, slots=True)
class Work:
    """Services to be done before a resident is called: how many, and their minutes."""

    residents: float = 0.0
    mean: float = 0.0
    var: float = 0.0  # from the spread of service times
    doubt: float = 0.0  # from not knowing the mean service time exactly

    def __add__(self, other: Work) -> Work:
        return Work(
            self.residents + other.residents,
            self.mean + other.mean,
            self.var + other.var,
            self.doubt + other.doubt,
        )

    def part(self, share: float) -> Work:
        """A share of this work (the doubt about a mean scales with the square)."""
        return Work(
            self.residents * share, self.mean * share, self.var * share, self.doubt * share**2
        )


@dataclass(frozen=True, slots=True)
class Counter:
    """An open counter serving the line, as the line's estimate sees it."""

    free_in: float  # minutes until it can call someone (0: free now)
    # Its other lines: the work of their residents older than the resident, and how
    # many open counters serve that line (this one included).
    others: tuple[tuple[Work, int], ...] = ()

    def before(self, wait: float) -> Work:
        """What it must do before taking the line's next resident, if the line waits `wait`.

        Calls go by age, so it takes its part of the other lines' older residents,
        except what their other counters clear within `wait` (a counter shared with a
        line that has counters of its own mostly serves the most backlogged line).
        """
        total = Work(mean=self.free_in)
        for older, counters in self.others:
            if older.mean > 0:
                left = max(0.0, older.mean - wait * (counters - 1)) / counters
                total += older.part(left / older.mean)
        return total


def work(residents: float, service: ServiceTime) -> Work:
    """`residents` services of one line (a share of a resident counts as that share)."""
    total = residents * service.mean
    return Work(
        residents, total, residents * service.var, total**2 / service.weight * _cv2(service)
    )


def _cv2(service: ServiceTime) -> float:
    return service.var / service.mean**2 if service.mean > 0 else 0.0


def out_of_order_share(calls: int, out_of_order: int) -> float:
    """The share of a line's calls today that passed someone (pulled toward 0 early on)."""
    return min(0.5, out_of_order / (calls + PRIOR_WEIGHT))


def ahead_work(ahead: int, service: ServiceTime, passing: float) -> Work:
    """The line's own residents ahead, plus those expected to pass them.

    With a share `passing` of calls out of order, each resident called in order
    comes with passing/(1 - passing) called before them.
    """
    return work(ahead / (1 - passing), service)


def estimate(ahead: Work, counters: Sequence[Counter], own: ServiceTime) -> WaitRange:
    """The wait for a resident with `ahead` work of their own line before them.

    `counters` are the open counters serving the line; `own` is the line's service
    time. The line's work goes to the counters that are available first (filling);
    a shared counter first does its part of its other lines' older residents, as
    far as their own counters do not clear them during the wait.
    """
    if not counters:
        return UNKNOWN
    alone, _ = _fill(sorted(c.free_in for c in counters), ahead.mean)
    before = sorted((c.before(alone) for c in counters), key=lambda w: w.mean)
    if ahead.residents < sum(1 for w in before if w.mean <= 0):
        return NEXT
    mean, helping = _fill([w.mean for w in before], ahead.mean)
    spread = sum(before[:helping], ahead)
    var = (spread.var + spread.doubt + own.var) / helping**2
    return _shown(mean, var)


def _fill(starts: Sequence[float], minutes: float) -> tuple[float, int]:
    """When counters free from `starts` (ascending) have together done `minutes` of work.

    Returns that time and how many of the counters took part.
    """
    total = 0.0
    for k, start in enumerate(starts, 1):
        total += start
        done_at = (minutes + total) / k
        if k == len(starts) or done_at <= starts[k]:
            return done_at, k
    return 0.0, 0  # no counter (callers check)


def _shown(mean: float, var: float) -> WaitRange:
    """A range from the gamma distribution with this mean and variance; the point is its median."""
    mean = min(max(mean, 0.0), MAX_MINUTES)
    if mean <= 0:
        return WaitRange(0, 1, point=0)
    var = SPREAD_SCALE * var + (CAPACITY_DOUBT * mean) ** 2
    shape = mean**2 / var if var > 0 else math.inf
    low = math.floor(_gamma_quantile(mean, shape, LOW_Z))
    high = math.ceil(_gamma_quantile(mean, shape, HIGH_Z))
    high = min(MAX_MINUTES, max(high, low + 1))
    point = min(max(round(_gamma_quantile(mean, shape, 0.0)), low), high)
    return WaitRange(low, high, point=point, expected=mean)


def _gamma_quantile(mean: float, shape: float, z: float) -> float:
    """The quantile at normal score `z` of a gamma distribution (Wilson–Hilferty).

    Accurate to a few percent for shape >= 1; for smaller shapes the lower
    quantiles fall to 0, as the gamma's own do.
    """
    if math.isinf(shape):
        return mean
    spread = 1 / (9 * shape)
    return mean * max(0.0, 1 - spread + z * math.sqrt(spread)) ** 3


def plain_wait(ahead: int, service_minutes: float, counters: int) -> float | None:
    """The formula peers use: people ahead × average service time ÷ counters serving."""
    return ahead * service_minutes / counters if counters else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one resident was shown at issue, and the wait that followed (minutes)."""

    ahead: int
    low: int
    high: int
    point: int
    plain: float | None  # the plain formula's wait for the same resident
    waited: float

    @property
    def inside(self) -> bool:
        return self.low <= self.waited <= self.high


@dataclass(frozen=True, slots=True)
class Accuracy:
    """How well the estimates shown held: all residents, and those with someone ahead."""

    measured: int
    coverage: float  # share whose wait fell inside the range
    with_ahead: int
    coverage_ahead: float
    median_width_ahead: float  # minutes between low and high
    point_error: float  # mean |point - wait|, residents with someone ahead
    plain_error: float  # the same for the plain formula

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Accuracy:
        ahead = [o for o in outcomes if o.ahead > 0]
        plain = [abs(o.plain - o.waited) for o in ahead if o.plain is not None]
        return cls(
            len(outcomes),
            _share(o.inside for o in outcomes),
            len(ahead),
            _share(o.inside for o in ahead),
            statistics.median(o.high - o.low for o in ahead) if ahead else 0.0,
            statistics.fmean(abs(o.point - o.waited) for o in ahead) if ahead else 0.0,
            statistics.fmean(plain) if plain else 0.0,
        )

    def summary(self) -> str:
        """One line for people: the figures the acceptance criteria name."""
        return (
            f"{self.measured} measured, inside the range {self.coverage:.0%} "
            f"({self.with_ahead} with someone ahead: {self.coverage_ahead:.0%}, "
            f"median width {self.median_width_ahead:.0f} min); mean error of the point "
            f"{self.point_error:.1f} min, of the plain formula {self.plain_error:.1f} min"
        )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0
