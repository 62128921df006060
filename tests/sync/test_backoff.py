"""The one backoff: waits grow, stop at the cap, are spread between devices, start over."""

from __future__ import annotations

import random

import pytest

from nowserving.sync.backoff import MIN_BASE_S, Backoff


def test_the_waits_grow_up_to_the_cap() -> None:
    halfway = Backoff(0.5, 10.0, rand=lambda: 0.5)  # each wait is half of its ceiling
    assert [halfway.next() for _ in range(8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    longest = Backoff(0.5, 10.0, rand=lambda: 0.999_999)
    for _ in range(10_000):  # a long outage: still at most the cap, and no overflow
        assert longest.next() <= 10.0


def test_a_success_starts_the_waits_over() -> None:
    backoff = Backoff(1.0, 60.0, rand=lambda: 0.999_999)
    for _ in range(6):
        backoff.next()
    assert backoff.next() > 30
    backoff.reset()
    assert backoff.next() <= 1.0


def test_devices_started_together_do_not_retry_together() -> None:
    # 100 displays lost the hub at the same instant (it restarted): where each one's
    # first and third retries fall in their windows (0.5 s and 2 s wide).
    rng = random.Random(15)
    devices = [Backoff(0.5, 10.0, rand=rng.random) for _ in range(100)]
    first = [device.next() for device in devices]
    assert max(first) - min(first) >= 0.25  # spread over at least half the window
    assert len({round(wait, 2) for wait in first}) > 30  # not a few clumps either
    for device in devices:
        device.next()
    third = [device.next() for device in devices]
    assert max(third) - min(third) >= 1.0


def test_the_servers_retry_becomes_the_base_within_bounds() -> None:
    backoff = Backoff(0.5, 10.0, rand=lambda: 0.999_999)
    backoff.rebase(3.0)  # `retry: 3000`
    assert 2.9 < backoff.next() <= 3.0
    backoff.rebase(0)  # a hostile or broken server: no spinning
    assert backoff.base == MIN_BASE_S
    backoff.rebase(86_400)  # nor waiting a day
    assert backoff.base == 10.0


@pytest.mark.parametrize(("base", "cap"), [(0, 1), (-1, 1), (2, 1)])
def test_a_backoff_needs_a_positive_base_under_its_cap(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="0 < base <= cap"):
        Backoff(base, cap)
