"""A bounded log without secrets.

`Summarise`: a flood of one kind of message becomes a few lines and a count. Each
kind (logger, level and message template, whatever the arguments) may log `burst`
lines per `window` seconds; the rest are counted, and when the window ends one
line says "… and 1,532 more like this in the last minute".

`Redact`: tickets' tokens and short codes, device secrets, PINs, session tokens and
residents' phone numbers and e-mail addresses never reach the log (the journal would
keep what the retention purge removed).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
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
        # The template, as `Redact` left it: one kind whatever the arguments.
        kind: Kind = (record.name, record.levelno, str(getattr(record, "template", record.msg)))
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


HIDDEN = "…"
_SECRET_SHAPES = [
    # A resident's token or short code in an address: /t/<token>, /c/<code>,
    # /api/tickets/<token>/…
    (re.compile(r"(/(?:t|c|api/tickets)/)[^\s/?#\"']+"), rf"\g<1>{HIDDEN}"),
    # A value named like a secret: token=…, "pin": "1234", secret: …, session=…
    (
        re.compile(
            r"""(?i)(\b(?:token|code|secret|pin|session|password|authorization|api_?key|key)["']?\s*[:=]\s*"""
            r"""["']?)(?:bearer\s+)?[^\s"'&,;}]+"""
        ),
        rf"\g<1>{HIDDEN}",
    ),
    (re.compile(r"(?i)(bearer\s+)\S+"), rf"\g<1>{HIDDEN}"),
    # A login in a URL: an apprise provider's "twilio://SID:TOKEN@...", a database's.
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^\s/@]+@"), rf"\g<1>{HIDDEN}@"),
    # Anything shaped like a random token (16+ URL-safe base64 characters with a digit
    # or a capital in it); lowercase hex ids (tickets, events) stay readable.
    (re.compile(r"(?<![\w-])(?=[\w-]*[A-Z0-9])(?![0-9a-f-]+(?![\w-]))[\w-]{16,}"), HIDDEN),
    # A resident's phone number (international form, as stored) or e-mail address.
    (re.compile(r"(?<![\w+])\+[1-9][0-9 ().-]{5,20}[0-9]"), HIDDEN),
    (re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(\.[\w-]+)+"), HIDDEN),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret-shaped part, and each of `secrets`, replaced by "…"."""
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """A filter for a log handler (before `Summarise`): each record's message and
    traceback without secrets. `secrets` are strings to hide wherever they appear (the
    office's device secrets), whatever their shape."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.hide(secrets)

    def hide(self, secrets: Iterable[str]) -> None:
        """Hide these strings too, wherever they appear."""
        self.secrets = sorted({*self.secrets, *secrets}, key=len, reverse=True)  # longest first

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "template"):  # another handler's Redact did it already
            record.template = record.msg
            record.msg = redact(record.getMessage(), self.secrets)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
