"""The desk marks appointments: "Appt 9:00" in the queue and at the counter, never on a
walk-in's ticket (a word, not a colour)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desk.window import DeskWindow
from nowserving.domain.config import parse_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.conftest import FakeClock, office_time
from tests.desk.test_desk import sign_in, wait_done
from tests.kiosk.conftest import tap
from tests.service.test_booking import OFFICE  # Mondays 8 to 12, half-hour slots

pytestmark = pytest.mark.gui


def test_a_checked_in_booking_is_marked_in_the_queue_and_at_the_counter(
    qtbot: QtBot, tmp_path: Path
) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-27 12:00"))  # the Friday before
    hub = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    nine = office_time("2026-11-30 09:00")
    made, _ = hub.book("permits", nine, "+1 510 555 0147")
    clock.ms = office_time("2026-11-30 08:45")
    booked = hub.check_in(made.code)[0]
    walk_in = hub.issue("permits")
    clock.ms = office_time("2026-11-30 09:01")  # the booking's slot has come

    desk_service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "desk-1", now=clock)
    desk = DeskWindow(config, desk_service, "c1")  # c1 serves permits only
    qtbot.addWidget(desk)
    desk.show()
    sign_in(qtbot, desk, "tom", "2468")
    panel = desk.counter_panel
    qtbot.waitUntil(lambda: panel.queue.rowCount() == 2, timeout=3000)
    notes = {panel.queue.item(r, 0).text(): panel.queue.item(r, 3).text() for r in range(2)}
    assert notes[booked.label].startswith("Appt 9:00")
    assert "Appt" not in notes[walk_in.label]

    called = wait_done(qtbot, desk, "call_next", lambda: tap(qtbot, panel.buttons["call_next"]))
    assert called.id == booked.id  # type: ignore[attr-defined]
    assert panel.number.text() == booked.label and "Appt 9:00" in panel.details.text()
    wait_done(qtbot, desk, "complete", lambda: tap(qtbot, panel.buttons["complete"]))
    called = wait_done(qtbot, desk, "call_next", lambda: tap(qtbot, panel.buttons["call_next"]))
    assert called.id == walk_in.id  # type: ignore[attr-defined]
    assert panel.number.text() == walk_in.label and "Appt" not in panel.details.text()
