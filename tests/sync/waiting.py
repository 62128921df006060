"""Waiting on threads and processes that report no event: poll, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {check}")
        time.sleep(0.02)
