"""What Qt prints, sorted: what someone can act on is logged; noise once per cause.

Qt's multimedia backend lists every optional library it did not find (PipeWire, VA-API),
and the offscreen platform complains about each window hint. Nobody can act on those:
each cause is logged once, as one plain sentence, and its repeats are dropped (they
stay at debug level). Everything else Qt warns about is logged as it is (logger "qt").
The handler is installed when `nowserving_qt` is first imported, because Qt's
multimedia speaks while the apps' modules are still being imported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("qt")

Handler = Callable[[QtMsgType, QMessageLogContext, str], None]

# (what the category or the message looks like, the one sentence said for all of them)
NOISE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^qt\.multimedia|PulseAudioService|^QSoundEffect|pipewire|\bva\b"),
        "Qt multimedia: optional sound and video libraries are missing here; it does "
        "without them (sound itself is checked at start).",
    ),
    (
        re.compile(r"propagateSizeHints|offscreen|^qt\.qpa\.(fonts|plugin)"),
        "Qt: this screen platform ignores some window hints (harmless).",
    ),
]


class QtMessages:
    """The message handler: Qt calls `handle` for each message it would print."""

    def __init__(self) -> None:
        self.said: set[str] = set()
        self.pending: list[str] = []  # said before logging was set up

    def handle(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        category = context.category or ""
        for pattern, sentence in NOISE:
            if pattern.search(category) or pattern.search(message):
                if sentence not in self.said:
                    self.said.add(sentence)
                    self._say(sentence)
                log.debug("%s: %s", category, message)  # all of it, for whoever asks
                return
        if kind in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            log.debug("%s: %s", category, message)
        elif kind == QtMsgType.QtWarningMsg:
            log.warning("%s", message)
        else:
            log.error("%s", message)

    def _say(self, sentence: str) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info(sentence)
        else:
            self.pending.append(sentence)

    def flush(self) -> None:
        """Say what was held back, now that logging is set up."""
        for sentence in self.pending:
            log.info(sentence)
        self.pending.clear()


messages = QtMessages()
_previous: list[Handler | None] = []  # the handler Qt had before; empty until installed


def install() -> None:
    """Route Qt's messages through `messages` (once per process)."""
    if not _previous:
        _previous.append(qInstallMessageHandler(messages.handle))
