"""Bookings in the hub's store: kept, counted, moved, and their contacts forgotten."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nowserving.domain import rules
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
        "appointments": 0,  # no ticket yet that day: nothing to compare
        "appointment_wait_median": "",
        "appointment_wait_p90": "",
        "punctual_percent": "",
        "walk_ins": 0,
        "walk_in_wait_median": "",
        "walk_in_wait_p90": "",
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


def test_phone_check_ins_do_not_count_toward_the_remote_join_cap(tmp_path: Path) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    lines = [
        line.model_copy(update={"remote_cap": 1}) if line.id == "permits" else line
        for line in config.lines
    ]
    config = config.model_copy(update={"lines": lines})
    clock = FakeClock(office_time("2026-11-27 12:00"))
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    nine, half_past = (s.start for s in service.slots("permits", date(2026, 11, 30))[2:4])
    on_time = service.book("permits", nine, "+1 510 555 0147")[1]
    late = service.book("permits", half_past, "ana@example.org")[1]

    clock.ms = office_time("2026-11-30 08:45")
    assert not service.check_in(token=on_time, source="remote")[1]
    clock.ms = office_time("2026-11-30 09:41")  # beyond the grace: a walk-in ticket
    assert service.check_in(token=late, source="remote")[1]
    # Both are in line from their phones, yet the one remote place is still free.
    assert service.remote_joins_waiting("permits") == 0
    rules.check_remote_join(config, "permits", service.remote_joins_waiting("permits"))
    service.issue("permits", source="remote")  # a resident joining from afar takes it
    with pytest.raises(Rejected) as full:
        rules.check_remote_join(config, "permits", service.remote_joins_waiting("permits"))
    assert full.value.code == "remote_full"


def test_the_report_compares_the_waits_of_appointments_and_walk_ins(tmp_path: Path) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-27 12:00"))
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    monday = date(2026, 11, 30)

    def at(moment: str) -> None:
        clock.ms = office_time(f"2026-11-30 {moment}")

    def serve_next() -> None:  # one resident waits each time: no order rule decides
        called = service.call_next("c1")  # c1 serves permits only
        assert called is not None
        service.complete(called.id)

    nine, half_past, ten = (office_time(f"2026-11-30 {t}") for t in ("09:00", "09:30", "10:00"))
    early = service.book("permits", nine, "+15105550101")[0]
    late = service.book("permits", half_past, "+15105550102")[0]
    service.book("permits", ten, "+15105550103")  # never comes: a no-show
    at("08:40")
    service.issue("permits")
    at("08:50")
    service.open_counter("c1")
    serve_next()  # a walk-in waited 10 minutes
    at("08:52")
    service.check_in(early.code)
    at("09:02")
    serve_next()  # checked in early: waited 2 minutes from the slot, on time
    at("09:35")
    service.check_in(late.code)  # five minutes late, within the grace: still an appointment
    at("09:50")
    serve_next()  # waited 15 minutes from the check-in: called 20 after the slot
    at("09:51")
    service.issue("permits")
    at("10:27")
    serve_next()  # a walk-in waited 36 minutes

    tables = reports.build(
        service.store, config, monday, monday, now=office_time("2026-11-30 12:00")
    )
    (row,) = tables["bookings"]
    assert row == {
        "day": "2026-11-30",
        "line": "permits",
        "booked": 3,
        "cancelled": 0,
        "by_staff": 0,
        "checked_in": 2,
        "no_shows": 1,
        "late_median": -1.5,  # 8 minutes early, 5 late
        "appointments": 2,
        "appointment_wait_median": 8.5,
        "appointment_wait_p90": 15.0,
        "punctual_percent": 50.0,
        "walk_ins": 2,
        "walk_in_wait_median": 23.0,
        "walk_in_wait_p90": 36.0,
    }


def test_the_receipt_and_the_phone_page_count_an_appointment_due_while_one_waits(
    tmp_path: Path,
) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    clock = FakeClock(office_time("2026-11-27 12:00"))
    booked, walk_ins_only = (
        LocalService(EventStore(tmp_path / f"{name}.sqlite"), config, "hub", now=clock)
        for name in ("booked", "walk-ins-only")
    )
    nine = booked.book("permits", office_time("2026-11-30 09:00"), "+15105550101")[0]
    clock.ms = office_time("2026-11-30 08:30")
    for office in (booked, walk_ins_only):
        office.open_counter("c1")
        for _ in range(4):  # about 45 minutes of work: past nine
            office.issue("permits")
    booked.check_in(nine.code)
    receipt, plain = (office.issue("permits") for office in (booked, walk_ins_only))
    assert receipt.ahead == plain.ahead == 4  # the 9:00 booking is not due yet
    assert receipt.wait.point > plain.wait.point  # but it will go first when it is
    assert booked.ticket_status(receipt.token).wait == receipt.wait  # the phone page's
