"""How long to wait before trying again: one formula for every retrying loop.

Exponential with a cap and "full jitter": the n-th wait after a failure is drawn
uniformly from [0, min(cap, base × 2ⁿ)]. The jitter matters more than the curve:
after a hub restart every device lost it at the same instant, and without it they
would all come back at the same instant too, again and again.
"""

from __future__ import annotations

import random
from collections.abc import Callable

MIN_BASE_S = 0.05  # a server's `retry:` of 0 must not turn a reconnect loop into a spin


class Backoff:
    """Waits between tries: growing, capped, spread; `reset()` after a success.

    Args:
        base: the ceiling of the first wait, in seconds.
        cap: no wait is longer than this.
        rand: uniform draws in [0, 1); tests pass a seeded `random.Random().random`.
    """

    def __init__(self, base: float, cap: float, rand: Callable[[], float] = random.random) -> None:
        if not 0 < base <= cap:
            raise ValueError(f"a backoff needs 0 < base <= cap (got {base}, {cap})")
        self.base = base
        self.cap = cap
        self._rand = rand
        self._failures = 0

    def next(self) -> float:
        """The wait after one more failure, in seconds."""
        # The exponent stops growing once past the cap: no float overflow after a long outage.
        ceiling = min(self.cap, self.base * 2.0 ** min(self._failures, 64))
        self._failures += 1
        return self._rand() * ceiling

    def reset(self) -> None:
        """A try went through: the next failure starts again from `base`."""
        self._failures = 0

    def rebase(self, seconds: float) -> None:
        """Start from `seconds` instead (a server's SSE `retry:`), kept within the cap."""
        self.base = min(max(seconds, MIN_BASE_S), self.cap)
