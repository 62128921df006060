"""Staff sign-in by PIN, with a lockout so a PIN cannot be found by trying.

Wrong PINs count against the *source* they came from (a desk device, a client
address, a kiosk's PIN pad), never against the staff member: whoever holds one
desk's secret can slow down that desk, not lock a clerk out at every desk.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence

from nowserving.domain.config import OfficeConfig, Staff
from nowserving.domain.errors import NowservingError
from nowserving.domain.security import hash_pin, verify_pin

ANY = "*"  # the source under which a bare PIN pad counts wrong tries
MAX_WRONG_PINS = 5
LOCKOUT_SECONDS = 300
MAX_SOURCES = 10_000  # sources remembered at once; the oldest are forgotten first
FORGET_SECONDS = 24 * 3600  # wrong tries older than this are forgotten


class SignInRefused(NowservingError):
    """Wrong staff member or PIN, or locked out for now."""

    def __init__(self, message: str, locked: bool = False, retry_after: float = 0) -> None:
        super().__init__(message)
        self.locked = locked
        self.retry_after = retry_after  # seconds until the lockout ends


@functools.cache
def _dummy_hash() -> str:
    """A hash no PIN is checked for in earnest: unknown staff ids cost one scrypt too."""
    return hash_pin("0000")


class PinGate:
    """Checks staff PINs; five wrong ones in a row from a source lock it for five minutes."""

    def __init__(self, config: OfficeConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        # Tries being checked now, per source: they count against the lockout before their
        # answer (scrypt lets threads run side by side, and forty at once must not all pass).
        self._checking: Counter[str] = Counter()
        self._lock = threading.Lock()

    def check_any(self, pin: str, sources: Sequence[str] = (ANY,)) -> Staff:
        """Whoever's PIN this is (a bare PIN pad); wrong tries count against the pad."""
        self._begin(sources)
        try:
            staff = next(
                (s for s in self.config.staff if not s.disabled and verify_pin(pin, s.pin_hash)),
                None,
            )
        finally:
            self._end(sources)
        return self._outcome(staff, sources)

    def check(
        self, staff_id: str, pin: str, *, sources: Sequence[str], admin_only: bool = False
    ) -> Staff:
        """The staff member if the PIN is right; SignInRefused otherwise.

        `sources` name where the try came from (e.g. the desk device and the client
        address); the try is refused while any of them is locked out. With `admin_only`
        (the admin page) staff without the admin right are as unknown: a clerk's right
        PIN gets the same answer as a wrong one, and counts as one.
        """
        self._begin(sources)
        try:
            staff = next(
                (
                    s
                    for s in self.config.staff
                    if s.id == staff_id and not s.disabled and (s.admin or not admin_only)
                ),
                None,
            )
            # An unknown (or disabled) id is checked against a dummy hash: no faster answer.
            matches = verify_pin(pin, staff.pin_hash if staff else _dummy_hash())
        finally:
            self._end(sources)
        return self._outcome(staff if matches else None, sources)

    def _begin(self, sources: Sequence[str]) -> None:
        """Refuse the try while a source is locked out, or while the tries it has in
        progress would use up what is left before the lockout; else count it in progress."""
        now = self._clock()
        with self._lock:
            for source in sources:
                failures = self._failures.get(source) or deque()
                checking = self._checking[source]
                if len(failures) + checking < MAX_WRONG_PINS:
                    continue
                wait = (failures[-1] if failures else now) + LOCKOUT_SECONDS - now
                if len(failures) >= MAX_WRONG_PINS and checking == 0 and wait <= 0:
                    continue  # one more try; if wrong, locked again (the last five are kept)
                minutes = max(1, round(wait / 60))
                raise SignInRefused(
                    f"Too many wrong PINs here: try again in {minutes} min, or ask a supervisor.",
                    locked=True,
                    retry_after=max(wait, 1),
                )
            self._checking.update(sources)

    def _end(self, sources: Sequence[str]) -> None:
        with self._lock:
            self._checking.subtract(sources)
            for source in sources:
                if self._checking[source] <= 0:
                    del self._checking[source]

    def _outcome(self, staff: Staff | None, sources: Sequence[str]) -> Staff:
        with self._lock:
            if staff is not None:
                for source in sources:
                    self._failures.pop(source, None)
                return staff
            now = self._clock()
            for source in sources:
                failures = self._failures.pop(source, None) or deque(maxlen=MAX_WRONG_PINS)
                failures.append(now)
                self._failures[source] = failures  # moved to the end: the newest
            # Oldest last failure first: forget what is stale, and the oldest beyond the cap.
            while self._failures and (
                len(self._failures) > MAX_SOURCES
                or next(iter(self._failures.values()))[-1] < now - FORGET_SECONDS
            ):
                self._failures.popitem(last=False)
        raise SignInRefused("Wrong staff member or PIN.")

    @property
    def sources(self) -> int:
        """How many sources have wrong tries on record (bounded by MAX_SOURCES)."""
        return len(self._failures)
