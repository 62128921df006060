"""The kiosk follows the office's calendar: a closed line says when it opens, and opens."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kiosk.app import build
from nowserving.domain.config import parse_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from nowserving_qt.bootstrap import Session, pick_device
from tests.conftest import FakeClock, office_time
from tests.kiosk.conftest import language_button, tap

CALENDAR = """
[calendar.hours]
mon = "08:00-16:00"
sat = "09:00-12:00"

[calendar.lines.payments]
sat = ""
"""


def test_a_closed_line_says_when_it_opens_then_opens(qtbot: QtBot, tmp_path: Path) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + CALENDAR)
    clock = FakeClock(office_time("2026-11-28 10:00"))  # a Saturday: payments stays shut
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "kiosk-1", now=clock)
    window = build(
        Session(config, pick_device(config, "kiosk", None), service),
        kiosk_mode=False,
        tts_engine="mock",
    )
    qtbot.addWidget(window)
    window.setFixedSize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    try:
        tap(qtbot, language_button(window, "es"))
        permits, payments = window.services.tiles()[0], window.services.tiles()[3]
        assert permits.isEnabled() and not payments.isEnabled()
        texts = [label.text() for label in payments.findChildren(QLabel)]
        assert "Cerrado — abre el lunes a las 8:00" in texts
        clock.ms = office_time("2026-11-30 08:00")  # Monday morning: the minute check sees it
        window.hours_timer.timeout.emit()
        payments = window.services.tiles()[3]
        assert payments.isEnabled()
        tap(qtbot, payments)
        with qtbot.waitSignal(window.ticket_shown, timeout=5000) as shown:
            tap(qtbot, window.priority.no)
        assert shown.args[0].line == "payments"
    finally:
        window.printer.stop()
