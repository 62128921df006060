"""Appointment slots, their capacity and who may book them (pure rules)."""

from __future__ import annotations

from datetime import date

import pytest

from nowserving.domain.booking import (
    capacity,
    check_room,
    contact_key,
    find_slot,
    slot_starts,
    unused_code,
)
from nowserving.domain.config import Device, parse_config
from nowserving.domain.errors import Rejected
from nowserving.domain.permissions import check_in_refusal
from nowserving.system.paths import sample_config
from tests.conftest import office_time

CONFIG = parse_config(
    sample_config().read_text(encoding="utf-8")
    + """
[calendar.hours]
sun = "00:30-04:00"
mon = "08:00-10:00"

[booking]
lines = ["permits", "payments"]
slot_minutes = 30

[booking.per_slot]
permits = 3
"""
)


def test_slots_follow_the_hours_also_when_the_clocks_change() -> None:
    monday = slot_starts(CONFIG, "permits", date(2026, 11, 30))
    assert [s for s, _ in monday] == [
        office_time(f"2026-11-30 {t}") for t in ("08:00", "08:30", "09:00", "09:30")
    ]
    spring = slot_starts(CONFIG, "permits", date(2026, 3, 8))  # 02:00-03:00 never happens
    starts = [s for s, _ in spring]
    assert starts == sorted(set(starts))
    assert all(end - start == 1_800_000 for start, end in spring)
    assert len(spring) == len(slot_starts(CONFIG, "permits", date(2026, 3, 15))) - 2
    fall = slot_starts(CONFIG, "permits", date(2026, 11, 1))  # 01:00-02:00 happens twice
    assert [b - a for a, b in fall].count(1_800_000 + 3_600_000) == 1  # 01:30-02:00 spans it


def test_capacity_fixed_or_from_counters() -> None:
    assert capacity(CONFIG, "permits") == 3
    # The cashier, and half of counter 3 (it serves licenses too), 4 minutes each.
    assert capacity(CONFIG, "payments") == int(1.5 * 30 / 4)
    # Counter 4 serves records and ids: half of it each, so it is not booked twice over.
    assert capacity(CONFIG, "records") == int(0.5 * 30 / 6)


def test_what_may_be_booked() -> None:
    start = office_time("2026-11-30 09:00")
    assert find_slot(CONFIG, "permits", start, office_time("2026-11-28 12:00"))[0] == start
    for line, at, now in (
        ("records", start, "2026-11-28 12:00"),  # takes no bookings
        ("permits", start + 60_000, "2026-11-28 12:00"),  # not a slot start
        ("permits", start, "2026-11-30 09:10"),  # passed
        ("permits", office_time("2027-01-04 09:00"), "2026-11-28 12:00"),  # too far ahead
    ):
        with pytest.raises(Rejected):
            find_slot(CONFIG, line, at, office_time(now))
    check_room(CONFIG, "permits", taken=2, held=1, from_address=5)
    for taken, held, code in ((3, 0, "slot_full"), (0, 2, "too_many_bookings")):
        with pytest.raises(Rejected) as refused:
            check_room(CONFIG, "permits", taken, held, 0)
        assert refused.value.code == code


def test_a_contact_is_a_phone_or_an_address() -> None:
    assert contact_key("+1 (510) 555-0147") == contact_key("15105550147") == "+15105550147"
    assert contact_key(" Ana@Example.org ") == "ana@example.org"
    with pytest.raises(Rejected):
        contact_key("call me")


def test_one_number_in_any_spelling_is_one_contact_against_the_cap() -> None:
    # "00", "+" and none: one number, so max_per_contact counts it once.
    spellings = ("+1 510 555 0147", "0015105550147", "1 (510) 555-0147")
    assert {contact_key(s) for s in spellings} == {"+15105550147"}
    for no_country_code in ("+0015105550147", "+015105550147", "0612345678"):
        with pytest.raises(Rejected) as refused:
            contact_key(no_country_code)
        assert refused.value.code == "bad_contact"
    # With the office's country code a national number is that country's (as for texts).
    assert contact_key("06 12 34 56 78", "33") == contact_key("+33 6 12 34 56 78", "33")


def test_a_new_check_in_code_is_one_no_booking_holds() -> None:
    drawn: list[str] = []

    def taken(code: str) -> bool:  # the first three codes drawn are held already
        drawn.append(code)
        return len(drawn) <= 3

    assert unused_code(taken) == drawn[-1] and len(drawn) == 4


def test_a_kiosk_sends_a_booking_of_a_line_it_does_not_issue_to_one_that_does() -> None:
    def kiosk(name: str, *lines: str) -> Device:
        return Device(id=name, role="kiosk", lines=list(lines))

    entrance, upstairs, everything = kiosk("k1", "permits"), kiosk("k2", "ids"), kiosk("k3")
    desk = Device(id="d1", role="desk")
    assert check_in_refusal(entrance, [entrance, upstairs], "permits") is None
    assert check_in_refusal(everything, [everything], "ids") is None  # no lines: all
    assert check_in_refusal(entrance, [entrance, upstairs], "ids") == "checkin.other_kiosk"
    assert check_in_refusal(entrance, [entrance, everything], "ids") == "checkin.other_kiosk"
    # No other kiosk issues it (a desk is no kiosk, and this one does not count itself).
    assert check_in_refusal(entrance, [entrance, upstairs, desk], "records") == "checkin.ask_desk"
