from __future__ import annotations

import pytest

from nowserving.domain.clock import MAX_COUNTER, MAX_SKEW_MS, HybridClock, Stamp


def test_stamps_increase_even_when_the_wall_clock_goes_back() -> None:
    now = [1_000]
    clock = HybridClock("k1", lambda: now[0])
    first = clock.tick()
    now[0] = 500  # the PC's clock was set back
    second = clock.tick()
    assert second > first
    assert second.encode() > first.encode()


def test_observing_a_later_stamp_moves_past_it() -> None:
    clock = HybridClock("k1", lambda: 1_000)
    clock.observe(Stamp(9_000, 3, "hub"))
    assert clock.tick() > Stamp(9_000, 3, "hub")


def test_encoding_sorts_like_the_stamps() -> None:
    stamps = [Stamp(5, 0, "b"), Stamp(5, 0, "a"), Stamp(4, 12, "z"), Stamp(10**12, 0, "a")]
    assert sorted(s.encode() for s in stamps) == [s.encode() for s in sorted(stamps)]
    assert all(Stamp.decode(s.encode()) == s for s in stamps)


@pytest.mark.parametrize("text", ["", "12.3.x", "000000000000001.000000.", "garbage"])
def test_decode_rejects_what_is_not_a_stamp(text: str) -> None:
    with pytest.raises(ValueError):
        Stamp.decode(text)


def test_a_stamp_from_a_fast_clock_moves_this_one_only_by_the_bound() -> None:
    clock = HybridClock("k1", lambda: 1_000_000)
    year = 365 * 24 * 3600 * 1000
    assert clock.observe(Stamp(1_000_000 + year, 7, "kiosk-2")) is False  # clamped
    assert clock.tick().wall <= 1_000_000 + MAX_SKEW_MS + 1
    assert clock.observe(Stamp(1_000_000 + MAX_SKEW_MS, 3, "hub")) is True  # within the bound
    assert clock.tick() > Stamp(1_000_000 + MAX_SKEW_MS, 3, "hub")


def test_the_counter_rolls_into_the_next_millisecond_instead_of_overflowing() -> None:
    clock = HybridClock("k1", lambda: 5_000)  # a frozen wall clock
    clock.observe(Stamp(5_000, MAX_COUNTER - 1, "hub"))
    stamps = [clock.tick() for _ in range(3)]
    assert [(s.wall, s.counter) for s in stamps] == [(5_000, MAX_COUNTER), (5_001, 0), (5_001, 1)]
    assert sorted(s.encode() for s in stamps) == [s.encode() for s in stamps]
    assert all(Stamp.decode(s.encode()) == s for s in stamps)
