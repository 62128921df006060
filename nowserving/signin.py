"""Staff sign-in by PIN, with a lockout so a PIN cannot be found by trying."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from nowserving.config import OfficeConfig, Staff
from nowserving.errors import NowservingError
from nowserving.security import verify_pin

ANY = "*"  # the key under which a bare PIN pad counts wrong tries
MAX_WRONG_PINS = 5
LOCKOUT_SECONDS = 300


class SignInRefused(NowservingError):
    """Wrong staff member or PIN, or locked out for now."""

    def __init__(self, message: str, locked: bool = False, retry_after: float = 0) -> None:
        super().__init__(message)
        self.locked = locked
        self.retry_after = retry_after  # seconds until the lockout ends


class PinGate:
    """Checks staff PINs; five wrong ones in a row lock that person out for five minutes."""

    def __init__(self, config: OfficeConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check_any(self, pin: str) -> Staff:
        """Whoever's PIN this is (a bare PIN pad); wrong tries count against the pad."""
        for staff in self.config.staff:
            if verify_pin(pin, staff.pin_hash):
                return self.check(staff.id, pin, key=ANY)
        return self.check(ANY, pin)

    def check(self, staff_id: str, pin: str, *, key: str | None = None) -> Staff:
        """The staff member if the PIN is right; SignInRefused otherwise."""
        key = key or staff_id
        with self._lock:
            failures = self._failures.get(key)
            if failures and len(failures) >= MAX_WRONG_PINS:
                wait = failures[-1] + LOCKOUT_SECONDS - self._clock()
                if wait > 0:
                    minutes = max(1, round(wait / 60))
                    raise SignInRefused(
                        f"Too many wrong PINs: try again in {minutes} min, or ask a supervisor.",
                        locked=True,
                        retry_after=wait,
                    )
                failures.clear()
        staff = next((s for s in self.config.staff if s.id == staff_id), None)
        if staff is None or not verify_pin(pin, staff.pin_hash):
            with self._lock:
                self._failures.setdefault(key, deque(maxlen=MAX_WRONG_PINS)).append(self._clock())
            raise SignInRefused("Wrong staff member or PIN.")
        with self._lock:
            self._failures.pop(key, None)
        return staff
