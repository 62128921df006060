from __future__ import annotations

import pytest

from nowserving.clock import HybridClock, Stamp


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
