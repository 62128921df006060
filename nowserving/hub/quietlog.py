"""A bounded log: a flood of one kind of message becomes a few lines and a count.

Each kind (logger, level and message template, whatever the arguments) may log
`burst` lines per `window` seconds; the rest are counted, and when the window
ends one line says "… and 1,532 more like this in the last minute".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Kind = tuple[str, int, str]
_OTHER = "(other messages)"  # the kind of any message beyond `max_kinds`


@dataclass
class _Window:
    start: float
    sample: str
    passed: int = 0
    held: int = 0


class Summarise(logging.Filter):
    """A filter for a log handler: `burst` lines per kind and window, then a count.

    Args:
        burst: lines of one kind let through per window.
        window: seconds.
        max_kinds: kinds tracked at once (messages built with f-strings are each a
            kind of their own); beyond it they share one.
    """

    def __init__(
        self,
        burst: int = 5,
        window: float = 60.0,
        max_kinds: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.max_kinds = max_kinds
        self._clock = clock
        self._windows: dict[Kind, _Window] = {}
        self._swept = clock()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "summary", False):
            return True
        now = self._clock()
        kind: Kind = (record.name, record.levelno, str(record.msg))
        with self._lock:
            due = self._ended(now) if now - self._swept >= self.window else []
            if kind not in self._windows and len(self._windows) >= self.max_kinds:
                kind = (record.name, record.levelno, _OTHER)
            window = self._windows.setdefault(kind, _Window(now, record.getMessage()))
            keep = window.passed < self.burst
            if keep:
                window.passed += 1
            else:
                window.held += 1
        _log_summaries(due)
        return keep

    def sweep(self, *, final: bool = False) -> None:
        """Log the counts of the windows that have ended (call it now and then), or of
        every window if `final` (the program is stopping)."""
        with self._lock:
            due = self._ended(self._clock() + (self.window if final else 0))
        _log_summaries(due)

    def _ended(self, now: float) -> list[tuple[Kind, _Window]]:
        self._swept = now
        ended = [(k, w) for k, w in self._windows.items() if now - w.start >= self.window]
        for kind, _ in ended:
            del self._windows[kind]
        return [(kind, window) for kind, window in ended if window.held]


def _log_summaries(due: list[tuple[Kind, _Window]]) -> None:
    for (name, level, _), window in due:
        logging.getLogger(name).log(
            level,
            "… and %s more like this in the last minute: %s",
            f"{window.held:,}",
            window.sample,
            extra={"summary": True},
        )


def start_sweeping(summarise: Summarise) -> threading.Event:
    """Sweep every window in a daemon thread, until the returned event is set."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(summarise.window):
            summarise.sweep()

    threading.Thread(target=run, name="log-summaries", daemon=True).start()
    return stop
