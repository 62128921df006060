"""The lobby display: renders the board, announces new calls, never decides anything."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QDate, QLocale, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from display.announcer import Announcer
from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import NowservingError
from nowserving.domain.pairing import REMOVED
from nowserving.domain.views import BoardView, CallView, pause_text
from nowserving.service.interface import BoardSource
from nowserving.system import i18n
from nowserving_qt.qr import qr_pixmap
from nowserving_qt.theme import stylesheet, unit
from nowserving_qt.watcher import ServiceWatcher
from nowserving_qt.widgets import clear, label

log = logging.getLogger(__name__)


FLASH_MS = 6000
HOURS_CHECK_MS = 30_000  # a line opening at 8:00 shows as open by 8:00:30


def _corrects(call: CallView, before: dict[str, CallView], now: dict[str, CallView]) -> bool:
    """Whether `call` replaces a call of the same resident that lost a conflict.

    The earlier call (by clock) wins, so a call that shows up now although it is
    older than one withdrawn from the board is a correction: the board changes,
    silently, instead of chiming for the same resident a second time.
    """
    return any(
        old.ticket == call.ticket and old.event_id not in now and old.at >= call.at
        for old in before.values()
    )


def _recent(calls: list[CallView], count: int) -> list[CallView]:
    """The calls before the latest, newest first, each resident once (a recall is news
    about the same resident, not another one)."""
    seen = {calls[0].ticket} if calls else set()
    recent: list[CallView] = []
    for call in calls[1:]:
        if call.ticket not in seen and len(recent) < count:
            seen.add(call.ticket)
            recent.append(call)
    return recent


class DisplayWindow(QWidget):
    """Now serving, the recent calls, the lines, the ticker, the clock, the join QR."""

    def __init__(self, config: OfficeConfig, service: BoardSource, announcer: Announcer) -> None:
        super().__init__()
        self.config = config
        self.service = service
        self.announcer = announcer
        self.board: BoardView | None = None
        self._shown: dict[str, CallView] | None = None  # event id -> call on the last board
        self._offline_since: datetime | None = None
        self._removed = False
        self._ticker_lang = 0
        self._style_key: tuple[int, bool] | None = None
        self._join_size = 0
        self._build()
        self.flash_timer = QTimer(self, singleShot=True, interval=FLASH_MS)
        self.flash_timer.timeout.connect(self.render_view)
        self.watcher = ServiceWatcher(service, interval_ms=50, parent=self)
        self.watcher.changed.connect(self.refresh)
        self.watcher.trouble.connect(self.set_trouble)
        self.clock = QTimer(self, interval=1000)
        self.clock.timeout.connect(self._tick)
        self.clock.start()
        # Lines open and close by the calendar with no event to say so: look again each minute.
        self.hours_timer = QTimer(self, interval=HOURS_CHECK_MS)
        self.hours_timer.timeout.connect(self._hours_changed)
        self.hours_timer.start()
        self.ticker_timer = QTimer(self, interval=8000)
        self.ticker_timer.timeout.connect(self._rotate_ticker)
        self.ticker_timer.start()
        self.refresh()

    def _build(self) -> None:
        self.setWindowTitle(f"{self.config.office.name} — Now serving")
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.office = label(self.config.office.name, "title", align=Qt.AlignmentFlag.AlignLeading)
        self.time = label("", "big", wrap=False, align=Qt.AlignmentFlag.AlignTrailing)
        top.addWidget(self.office, 1)
        top.addWidget(self.time)
        outer.addLayout(top)
        self.banner = label("", "alert")  # not an announcement: something is wrong
        self.banner.hide()
        outer.addWidget(self.banner)
        self.body = QGridLayout()
        outer.addLayout(self.body, 1)
        self.now = QVBoxLayout()
        self.now_title = label("", "subtitle")
        self.stale = label("", "warning")
        self.now_label = label("", "huge", wrap=False)
        self.now_counter = label("", "title")
        self.recent_title = label("", "subtitle")
        for widget in (
            self.now_title,
            self.stale,
            self.now_label,
            self.now_counter,
            self.recent_title,
        ):
            self.now.addWidget(widget)
        self.recent = QGridLayout()
        self.now.addLayout(self.recent)
        self.now.addStretch(1)
        self.side = QVBoxLayout()
        self.lines = QGridLayout()
        self.side.addLayout(self.lines)
        self.side.addStretch(1)
        self.join = QHBoxLayout()
        self.join_qr = QLabel()
        self.join_text = label("", "subtitle")
        self.join.addWidget(self.join_qr)
        self.join.addWidget(self.join_text, 1)
        self.side.addLayout(self.join)
        self.ticker = label("", "banner")
        outer.addWidget(self.ticker)

    # -- data ------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.config = self.service.config  # changed at the hub: names, texts, settings
        try:
            board = self.service.board()
        except NowservingError as exc:
            self.set_trouble(str(exc))
            return
        self.set_trouble("")
        shown = self._shown
        fresh = [c for c in reversed(board.calls) if shown is not None and c.event_id not in shown]
        # Only the last board's calls are remembered: a day of calls costs nothing, and a
        # display back from an outage does not replay a backlog.
        self._shown = {c.event_id: c for c in board.calls}
        for call in fresh:
            if not _corrects(call, shown or {}, self._shown):
                self.announcer.announce(call.label, self._counter_names(call), call.recall)
        self.board = board
        self.render_view(flash=bool(fresh))

    def _hours_changed(self) -> None:
        # Not while the hub or store is in trouble: reading the replica's board would clear
        # the banner, which only the watcher may do once the trouble is over.
        if self._offline_since is None:
            self.refresh()

    def set_trouble(self, message: str) -> None:
        """While the store or hub cannot be read: keep the last board, say since when."""
        if bool(message) == (self._offline_since is not None):
            return
        if message:
            self._offline_since = datetime.now(self.config.zone)  # the clock's zone
            log.warning("display offline: %s", message)
        else:
            self._offline_since = None
        self._removed = message == REMOVED  # revoked at the hub: say so, not "reconnecting"
        self.render_view()

    def _counter_name(self, call: CallView) -> str:
        return self.config.counter_name(call.counter, self.config.default_language)

    def _counter_names(self, call: CallView) -> dict[str, str]:
        """The counter's name in each language, so a call is said wholly in one language."""
        try:
            return self.config.in_every_language(self.config.counter(call.counter).name)
        except KeyError:
            return {lang: call.counter for lang in self.config.office.languages}

    # -- rendering ---------------------------------------------------------------------------

    def render_view(self, flash: bool = False) -> None:
        height = max(self.height(), 480)
        orientation = self.config.display.orientation
        portrait = orientation == "portrait" or (
            orientation == "auto" and self.height() > self.width()
        )
        scale = min(height, round(self.width() * 0.75))
        if (scale, portrait) != self._style_key:
            self._style_key = (scale, portrait)
            self.setStyleSheet(stylesheet(scale, primary=self.config.office.colors.get("primary")))
            self._place(portrait)
        lang = self.config.default_language
        board = self.board
        offline = self._offline_since is not None
        self.now_title.setText(i18n.text(lang, "display.now_serving"))
        self.stale.setText(i18n.text(lang, "display.may_be_stale"))
        self.stale.setVisible(offline)
        self.now_title.setVisible(not offline)  # the warning takes the heading's place
        calls = board.calls if board else []
        if calls:
            latest = calls[0]
            self.now_label.setText(latest.label)
            self.now_counter.setText(self._counter_name(latest))
        else:
            self.now_label.setText("—")
            self.now_counter.setText("")
        self.now_label.setProperty(
            "role", "huge-stale" if offline else ("huge-flash" if flash else "huge")
        )
        self.now_label.style().unpolish(self.now_label)
        self.now_label.style().polish(self.now_label)
        if flash:
            self.flash_timer.start()
        clear(self.recent)
        recent = _recent(calls, self.config.display.recent_calls)
        self.recent_title.setText(i18n.text(lang, "display.recent"))
        self.recent_title.setVisible(bool(recent))
        for row, call in enumerate(recent):
            self.recent.addWidget(label(call.label, "big", wrap=False), row, 0)
            self.recent.addWidget(label(self._counter_name(call), "big"), row, 1)
        self._render_lines(board, lang)
        self._render_join(lang, unit(height))
        self._render_ticker()
        self._render_banner()
        self._tick()

    def _place(self, portrait: bool) -> None:
        for layout in (self.now, self.side):
            self.body.removeItem(layout)
        if portrait:
            self.body.addLayout(self.now, 0, 0)
            self.body.addLayout(self.side, 1, 0)
            self.body.setColumnStretch(0, 1)
            self.body.setColumnStretch(1, 0)
        else:
            self.body.addLayout(self.now, 0, 0)
            self.body.addLayout(self.side, 0, 1)
            self.body.setColumnStretch(0, 3)
            self.body.setColumnStretch(1, 2)

    def _render_lines(self, board: BoardView | None, lang: str) -> None:
        clear(self.lines)
        if board is None:
            return
        names = {line.id: self.config.text(line.name, lang) for line in self.config.lines}
        # The board may name a line the office here does not have yet (added at the hub,
        # the office follows within seconds): its id meanwhile.
        for row, line in enumerate(board.lines):
            if line.hours.status != "open":
                state, role = i18n.hours_text(lang, line.hours, self.config.zone), "warning"
            elif line.paused:
                reason = pause_text(self.config, line, lang)
                state, role = f"{i18n.text(lang, 'display.paused')}: {reason}", "warning"
            elif line.reroute_to:
                state, role = (
                    i18n.text(
                        lang, "display.go_to", line=names.get(line.reroute_to, line.reroute_to)
                    ),
                    "warning",
                )
            else:
                wait = i18n.wait_text(lang, line.wait)
                state, role = (
                    f"{i18n.text(lang, 'common.people_waiting', count=line.waiting)} · {wait}",
                    "",
                )
            self.lines.addWidget(
                label(
                    f"{line.prefix}  {names.get(line.id, line.id)}",
                    "line-name",
                    align=Qt.AlignmentFlag.AlignLeading,
                ),
                row * 2,
                0,
            )
            self.lines.addWidget(
                label(state, role, align=Qt.AlignmentFlag.AlignLeading), row * 2 + 1, 0
            )

    def _render_join(self, lang: str, u: int) -> None:
        remote = [line for line in self.config.lines if line.remote_join]
        self.join_qr.setVisible(bool(remote))
        self.join_text.setVisible(bool(remote))
        if remote and self._join_size != u * 6:
            self._join_size = u * 6
            base = self.config.office.public_base_url
            self.join_qr.setPixmap(qr_pixmap(f"{base}/join", self._join_size))
        self.join_text.setText(i18n.text(lang, "display.scan_to_join"))

    def not_spoken(self) -> list[str]:
        """Where the office turned speech off (or does not announce in a language), the
        ticker says so in writing, in each such language."""
        spoken = set(self.announcer.languages) if self.announcer.speaker.available else set()
        return [
            i18n.text(lang, "display.not_spoken")
            for lang in self.config.office.languages
            if lang not in spoken
        ]

    def _render_ticker(self) -> None:
        texts = [t for t in (self.board.announcement.values() if self.board else []) if t]
        texts += self.not_spoken()
        self.ticker.setVisible(bool(texts))
        if texts:
            self.ticker.setText(texts[self._ticker_lang % len(texts)])

    def _rotate_ticker(self) -> None:
        self._ticker_lang += 1
        self._render_ticker()
        self._render_banner()

    def _render_banner(self) -> None:
        """While offline: since when, in each office language in turn (with the ticker)."""
        if self._offline_since is None:
            self.banner.hide()
            return
        languages = self.config.office.languages
        lang = languages[self._ticker_lang % len(languages)]
        since = self._offline_since.strftime("%H:%M")
        self.banner.setText(
            REMOVED if self._removed else i18n.text(lang, "display.reconnecting", time=since)
        )
        self.banner.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft
            if i18n.direction(lang) == "rtl" and not self._removed
            else Qt.LayoutDirection.LeftToRight
        )
        self.banner.show()

    def _tick(self) -> None:
        now = datetime.now(self.config.zone)
        # The day and month in the office's first language, as every other text on the board.
        date = QLocale(self.config.default_language).toString(
            QDate(now.year, now.month, now.day), "ddd d MMM"
        )
        self.time.setText(f"{now:%H:%M}   {date}")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.render_view()
