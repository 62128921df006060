"""Bookings in the hub's store: kept, counted, moved, and their contacts forgotten."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from nowserving.domain.config import parse_config
from nowserving.service.local import LocalService
from nowserving.store import reports, retention
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.conftest import FakeClock, office_time

OFFICE = """
[calendar.hours]
mon = "08:00-12:00"

[booking]
lines = ["permits"]
slot_minutes = 30
"""


def test_a_booking_is_kept_moved_and_its_contact_forgotten_after_its_day(tmp_path: Path) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-27 12:00"))  # the Friday before
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    monday = date(2026, 11, 30)
    first, second = (s.start for s in service.slots("permits", monday)[:2])
    made, token = service.book("permits", first, "+1 510 555 0147", lang="es", client="10.0.0.7")
    assert service.slots("permits", monday)[0].free == service.slots("permits", monday)[1].free - 1
    assert service.move_booking(token, second).start == second
    (listed,) = service.list_appointments(monday)
    assert (listed.code, listed.contact, listed.lang) == (made.code, "+15105550147", "es")

    retention.purge(service.store, config, date(2026, 11, 30))  # its day is not over yet
    assert service.list_appointments(monday)[0].contact == "+15105550147"
    retention.purge(service.store, config, date(2026, 12, 1))
    assert service.list_appointments(monday)[0].contact == ""


def test_the_report_counts_bookings_cancellations_and_once_checked_in_no_shows(
    tmp_path: Path,
) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-27 12:00"))
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    monday = date(2026, 11, 30)
    starts = [s.start for s in service.slots("permits", monday)[:3]]
    came = service.book("permits", starts[0], "+15105550101")[0]
    service.cancel_booking(service.book("permits", starts[1], "+15105550102")[1])
    service.staff_book("permits", starts[2], staff="tom")  # no contact: booked on the phone
    (row,) = reports.build(service.store, config, monday, monday, now=clock.ms)["bookings"]
    assert row == {
        "day": "2026-11-30",
        "line": "permits",
        "booked": 2,
        "cancelled": 1,
        "by_staff": 1,
    }

    # Check-in (the `checkin` branch) keeps the token of the ticket a booking checked in
    # for: then check-ins, no-shows and minutes after the slot count too.
    clock.ms = starts[0] + 180_000  # three minutes late
    ticket = service.issue("permits")
    with service.store.write():
        conn = service.store.db.conn
        conn.execute("ALTER TABLE appointments ADD COLUMN ticket TEXT NOT NULL DEFAULT ''")
        conn.execute("UPDATE appointments SET ticket = ? WHERE code = ?", (ticket.token, came.code))
    after = office_time("2026-11-30 12:00")  # every slot's grace is over
    (row,) = reports.build(service.store, config, monday, monday, now=after)["bookings"]
    assert (row["checked_in"], row["no_shows"], row["late_median"]) == (1, 1, 3.0)
    (row,) = reports.build(service.store, config, monday, monday, now=starts[2] - 1)["bookings"]
    assert row["no_shows"] == 0  # the phone booking's slot has not come yet
