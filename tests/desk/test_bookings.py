"""The desk's Bookings tab on a paired PC: a day's bookings from the hub, and a clerk booking
a slot for a resident on the phone through the hub's staff API."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import requests
from pytestqt.qtbot import QtBot

from desk.window import DeskWindow
from nowserving.domain.config import load_config
from nowserving.sync.replica import ReplicaService, open_replica
from tests.desk.test_desk import sign_in, wait_done
from tests.hub.conftest import start_hub, stop_hub
from tests.kiosk.conftest import tap
from tests.sync.waiting import wait_until

pytestmark = pytest.mark.gui

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE = (
    "\n[calendar.hours]\n"
    + "".join(f'{day} = "06:00-22:00"\n' for day in DAYS)
    + '\n[booking]\nlines = ["permits"]\nslot_minutes = 30\nper_slot = { permits = 1 }\n'
)


def test_a_clerk_sees_the_days_bookings_and_books_one_on_the_phone(
    qtbot: QtBot, tmp_path: Path
) -> None:
    hub = start_hub(tmp_path / "hub", OFFICE)
    service: ReplicaService | None = None
    try:
        config = load_config(hub.config)
        desk_device = next(d for d in config.devices if d.id == "desk-1")
        service = ReplicaService(
            open_replica(tmp_path / "desk-1.sqlite"), config, desk_device, hub.url, interval=0.05
        )
        wait_until(lambda: service is not None and service.sync.status.online)
        # A resident booked tomorrow's first slot on /book (the only place it has).
        window = DeskWindow(config, service, "c2")
        tomorrow: date = window.bookings.day.itemData(1)
        slots = requests.get(
            f"{hub.public_url}/api/booking/permits/slots", params={"day": str(tomorrow)}, timeout=10
        ).json()
        booked = requests.post(
            f"{hub.public_url}/api/appointments",
            json={"line": "permits", "start": slots[0]["start"], "contact": "+1 510 555 0147"},
            timeout=10,
        )
        assert booked.status_code == 201, booked.text
        qtbot.addWidget(window)
        window.show()
        # Signing in opens the counter; its answer must not land on the booking's line later.
        with qtbot.waitSignal(
            window.done, timeout=10_000, check_params_cb=lambda name, _: name == "open_counter"
        ):
            sign_in(qtbot, window, "maria", "1234")

        window.tabs.setCurrentWidget(window.bookings)
        window.bookings.day.setCurrentIndex(1)
        table = window.bookings.table

        def row(r: int) -> list[str]:
            return [table.item(r, c).text() for c in range(table.columnCount())]

        qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=10_000)
        assert row(0)[1:] == [booked.json()["code"], "•••• 0147", "booked", ""]
        # The full first slot is not offered; the clerk books the next one for a caller.
        assert window.bookings.slot.itemData(0) == slots[1]["start"]
        qtbot.keyClicks(window.bookings.contact, "caller@example.org")
        made = wait_done(
            qtbot, window, "staff_book", lambda: tap(qtbot, window.bookings.book_button)
        )
        qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=10_000)
        assert row(1)[1:] == [made.code, "c•••@example.org", "booked", "Maria"]  # audited
        assert made.code in window.status.text()
    finally:
        if service is not None:
            service.close()
        stop_hub(hub)
