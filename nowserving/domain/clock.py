"""Hybrid logical clock: a total order of events across devices.

A stamp is (wall milliseconds, counter, device). It never goes backwards on one
device, even when the PC's clock does, and it moves past every stamp the device
has seen, so an effect always sorts after its cause. Encoded as fixed-width
text, stamps sort correctly as plain strings (and so in an SQLite index).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

_WALL_DIGITS = 15
_COUNTER_DIGITS = 6
MAX_COUNTER = 10**_COUNTER_DIGITS - 1
# How far ahead of this PC's wall clock a stamp from elsewhere may move the clock: a PC whose
# clock is a year fast must not drag every node's stamps a year ahead. The hub refuses
# events stamped further ahead than this (permissions.py).
MAX_SKEW_MS = 5 * 60_000


def wall_ms() -> int:
    """The PC's wall clock in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, order=True, slots=True)
class Stamp:
    """One hybrid-logical-clock reading."""

    wall: int
    counter: int
    device: str

    def encode(self) -> str:
        """Fixed-width text that sorts like the stamp itself."""
        return f"{self.wall:0{_WALL_DIGITS}d}.{self.counter:0{_COUNTER_DIGITS}d}.{self.device}"

    @classmethod
    def decode(cls, text: str) -> Stamp:
        """Parse the output of `encode`; raise ValueError on anything else."""
        wall, counter, device = text.split(".", 2)
        if len(wall) != _WALL_DIGITS or len(counter) != _COUNTER_DIGITS or not device:
            raise ValueError(f"not a clock stamp: {text!r}")
        return cls(int(wall), int(counter), device)


class HybridClock:
    """Issues stamps for one device.

    Args:
        device: the id written into every stamp.
        now: wall-clock source in ms (injected so tests can skew or freeze it).
    """

    def __init__(self, device: str, now: Callable[[], int] = wall_ms) -> None:
        self.device = device
        self._now = now
        self._wall = 0
        self._counter = 0

    def tick(self) -> Stamp:
        """A new stamp, later than every stamp issued or observed so far."""
        physical = self._now()
        if physical > self._wall:
            self._wall, self._counter = physical, 0
        elif self._counter < MAX_COUNTER:
            self._counter += 1
        else:  # the counter's digits are used up: borrow the next millisecond instead
            self._wall, self._counter = self._wall + 1, 0
        return Stamp(self._wall, self._counter, self.device)

    def observe(self, seen: Stamp | str) -> bool:
        """Merge a stamp from elsewhere so the next tick sorts after it.

        A stamp more than MAX_SKEW_MS ahead of this PC's wall clock moves the clock only
        that far; returns False when it was clamped like that (the other clock is fast).
        """
        stamp = Stamp.decode(seen) if isinstance(seen, str) else seen
        wall, counter, believed = stamp.wall, stamp.counter, True
        bound = self._now() + MAX_SKEW_MS
        if wall > bound:
            wall, counter, believed = bound, 0, False
        if (wall, counter) > (self._wall, self._counter):
            self._wall, self._counter = wall, counter
        return believed
