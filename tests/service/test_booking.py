"""Bookings in the hub's store: kept, counted, moved, and their contacts forgotten."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nowserving.domain.config import parse_config
from nowserving.domain.errors import NotFound, Rejected
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


def test_check_in_inside_the_window_once_and_late_ones_become_walk_ins(tmp_path: Path) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-27 12:00"))
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    nine, half_past = (s.start for s in service.slots("permits", date(2026, 11, 30))[2:4])
    on_time, token = service.book("permits", nine, "+1 510 555 0147", lang="es")
    late, _ = service.book("permits", half_past, "ana@example.org", lang="vi")
    never, _ = service.book("permits", nine, "+1 510 555 0148")

    clock.ms = office_time("2026-11-30 08:20")  # 40 minutes early: the window opens at 8:30
    with pytest.raises(Rejected) as early:
        service.check_in(on_time.code)
    assert early.value.code == "checkin_early"
    clock.ms = office_time("2026-11-30 08:45")
    walk_in = service.issue("permits")
    ticket, was_late = service.check_in(on_time.code.lower())
    assert not was_late and ticket.appointment == nine and ticket.lang == "es"
    assert service.check_in(token=token)[0].id == ticket.id  # once per booking
    assert [t.id for t in service.queue_for_line("permits")] == [walk_in.id, ticket.id]

    clock.ms = office_time("2026-11-30 09:05")  # its slot has come: before the walk-in
    assert service.call_next("c1").id == ticket.id  # type: ignore[union-attr]
    clock.ms = office_time("2026-11-30 09:41")  # 11 minutes after 9:30: grace is 10
    again, was_late = service.check_in(late.code)
    assert was_late and again.appointment is None and again.lang == "vi"
    clock.ms = office_time("2026-11-30 10:01")
    assert service.check_in(late.code)[0].id == again.id  # checked in already: that ticket
    with pytest.raises(Rejected) as missed:
        service.check_in(never.code)  # 61 minutes after its slot: the window has closed
    assert missed.value.code == "checkin_missed"
    with pytest.raises(NotFound):
        service.check_in("ZZZZ2222")


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
        "checked_in": 0,
        "no_shows": 0,
        "late_median": "",
    }

    # Check-ins, no-shows and minutes after the slot count too.
    clock.ms = starts[0] + 180_000  # three minutes late
    service.check_in(came.code)
    after = office_time("2026-11-30 12:00")  # every slot's grace is over
    (row,) = reports.build(service.store, config, monday, monday, now=after)["bookings"]
    assert (row["checked_in"], row["no_shows"], row["late_median"]) == (1, 1, 3.0)
    (row,) = reports.build(service.store, config, monday, monday, now=starts[2] - 1)["bookings"]
    assert row["no_shows"] == 0  # the phone booking's slot has not come yet


def test_walk_ins_waits_count_the_bookings_still_to_check_in(tmp_path: Path) -> None:
    """Every view of a walk-in's wait (their ticket, the line, the board) counts the bookings
    whose slot comes while they wait, once: as bookings, then as checked-in tickets."""
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-30 08:40"))
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    service.open_counter("c1", staff=None)
    walk_in = [service.issue("permits") for _ in range(3)][-1]

    def waits() -> tuple[float, float, float]:
        (board,) = [line for line in service.board().lines if line.id == "permits"]
        (line,) = [line for line in service.lines() if line.id == "permits"]
        return service.ticket(walk_in.id).wait.expected, line.wait.expected, board.wait.expected

    before = waits()
    nine = office_time("2026-11-30 09:00")
    first, _ = service.book("permits", nine, "+1 510 555 0147")
    service.book("permits", nine, "+1 510 555 0148")
    service.book("permits", office_time("2026-11-30 11:30"), "+1 510 555 0149")  # not counted
    booked = waits()
    assert all(after > was + 12 for after, was in zip(booked, before, strict=True)), booked
    service.check_in(first.code)
    assert waits()[0] == pytest.approx(booked[0], abs=1)  # the same resident, counted once
