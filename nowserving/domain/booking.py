"""Appointments: the slots a line offers, how many each takes, and who may book one.

Pure: the hub's store keeps the bookings (store/appointments.py) and asks here,
inside its write transaction, whether one more fits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import NotFound, Rejected
from nowserving.domain.notify import normalize_phone
from nowserving.domain.opening import local_date, local_instant
from nowserving.domain.rules import SHORT_ALPHABET

MINUTE = 60_000
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")


@dataclass(frozen=True, slots=True)
class Slot:
    start: int  # ms
    end: int
    free: int  # bookings it still takes


@dataclass(frozen=True, slots=True)
class Appointment:
    code: str  # typed at the kiosk or read from the QR: checks in
    line: str
    start: int  # ms
    end: int
    lang: str
    status: str  # booked, cancelled
    contact: str = ""  # for staff and reminders only; never on a public page
    ticket: str = ""  # the token of the ticket it checked in for (secret, like the link)
    booked_by: str = ""  # the staff member who booked it for the resident; "" if they did


def takes_bookings(config: OfficeConfig, line: str) -> bool:
    return line in config.booking.lines and config.calendar is not None


def capacity(config: OfficeConfig, line: str) -> int:
    """Bookings per slot: the configured number, else counters × slot ÷ typical minutes,
    where a counter serving several lines counts as its share for each (one of two lines:
    half a counter), so lines sharing a counter do not book its time twice over."""
    fixed = config.booking.per_slot.get(line)
    if fixed is not None:
        return fixed
    counters = sum(Fraction(1, len(c.lines)) for c in config.counters if line in c.lines)
    typical = Fraction(config.line(line).typical_minutes)
    return max(1, int(counters * config.booking.slot_minutes / typical))


def slot_starts(config: OfficeConfig, line: str, day: date) -> list[tuple[int, int]]:
    """The (start, end) instants in ms of a line's slots on an office-local date: every
    `slot_minutes` from the start of each opening span, each ending within it (wall-clock
    times: on DST days a slot may last an hour more, or not happen)."""
    calendar = config.calendar
    if calendar is None or day in calendar.closed:
        return []
    length = config.booking.slot_minutes
    zone = config.zone
    found = []
    for start, end in calendar.line_hours(line, day.weekday()):
        for minute in range(start, end - length + 1, length):
            slot = (local_instant(day, minute, zone), local_instant(day, minute + length, zone))
            if slot[1] > slot[0]:  # a slot inside the hour the clocks skip does not happen
                found.append(slot)
    return found


def bookable_days(config: OfficeConfig, now: int) -> list[date]:
    """Today and the days after it that residents may book, by `days_ahead`."""
    today = local_date(now, config.zone)
    return [today + timedelta(days=n) for n in range(config.booking.days_ahead + 1)]


def find_slot(config: OfficeConfig, line: str, start: int, now: int) -> tuple[int, int]:
    """The slot starting at `start` (ms), if it is one of the line's bookable slots."""
    if not takes_bookings(config, line):
        raise Rejected("This line takes no appointments.", code="no_booking")
    day = local_date(start, config.zone)
    if day not in bookable_days(config, now):
        raise Rejected("That day cannot be booked.", code="slot_unknown")
    for slot in slot_starts(config, line, day):
        if slot[0] == start:
            if start <= now:
                raise Rejected("That time has passed.", code="slot_unknown")
            return slot
    raise Rejected("There is no such slot.", code="slot_unknown")


def check_room(config: OfficeConfig, line: str, taken: int, held: int, from_address: int) -> None:
    """Rejected when the slot is full or the resident holds too many bookings already."""
    if taken >= capacity(config, line):
        raise Rejected("That time has just been booked; please pick another.", code="slot_full")
    if held >= config.booking.max_per_contact:
        raise Rejected(
            "This phone number or e-mail address already holds the most bookings allowed.",
            code="too_many_bookings",
        )
    if from_address >= config.booking.max_per_address:
        raise Rejected("Too many bookings from here today.", code="too_many_bookings")


def check_unused(appointment: Appointment) -> None:
    """Rejected once a booking has checked in: its ticket holds the slot's place in line,
    so moving or cancelling it would free that place for one more booking (past the
    slot's capacity) while the ticket keeps it."""
    if appointment.ticket:
        raise Rejected(
            "This booking has checked in already; it can no longer be moved or cancelled.",
            code="booking_checked_in",
        )


def check_in_late(config: OfficeConfig, appointment: Appointment, now: int) -> bool:
    """Whether a booking checking in at `now` (ms) is late beyond the grace minutes (then it
    gets a walk-in ticket); Rejected outside the check-in window or if it was cancelled."""
    if appointment.status != "booked":
        raise Rejected("This booking was cancelled.", code="booking_unknown")
    settings = config.booking
    if now < appointment.start - settings.checkin_before * MINUTE:
        raise Rejected("It is too early to check in for this booking.", code="checkin_early")
    if now > appointment.start + settings.checkin_after * MINUTE:
        raise Rejected(
            "This booking's time has passed; please take a ticket.", code="checkin_missed"
        )
    return now > appointment.start + settings.grace_minutes * MINUTE


def clean_code(text: str) -> str:
    """A check-in code as typed or scanned (spaces, dashes, lower case), or Rejected."""
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != 8 or any(c not in SHORT_ALPHABET for c in code):
        raise unknown_code()
    return code


def contact_key(text: str, country: str = "") -> str:
    """A phone number or e-mail address as kept and compared, so that one number in any
    spelling counts once against `max_per_contact` ("+1 510-555 0147", "0015105550147" and
    "15105550147" are one; with the office's `country` code a number without "+" or "00"
    is national, as for text messages); Rejected if it is neither."""
    value = text.strip()
    phone = re.sub(r"[\s().-]", "", value)
    if _PHONE.fullmatch(phone):
        if not country and not phone.startswith(("+", "00")):
            phone = "+" + phone  # no office country: a number without "+" is international
        try:
            return normalize_phone(phone, country)
        except ValueError:
            pass  # "+0…": no country code starts with 0
    if len(value) <= 254 and _EMAIL.fullmatch(value):
        return value.lower()
    raise Rejected(
        "Give a phone number with its country code (+…) or an e-mail address.",
        code="bad_contact",
    )


def new_code() -> str:
    """An 8-character check-in code (39.6 random bits), easy to type: no 0/O, 1/I. It starts
    with a letter: the kiosk tells a barcode scanner typing it from its tactile keypad's
    digits by that first key (kiosk/window.py)."""
    letters = [c for c in SHORT_ALPHABET if c.isalpha()]
    return secrets.choice(letters) + "".join(secrets.choice(SHORT_ALPHABET) for _ in range(7))


def unused_code(taken: Callable[[str], bool]) -> str:
    """A new check-in code that no booking holds yet (`taken`): codes stay in the store
    for the reports, and 40 bits meet again after about a million bookings."""
    while taken(code := new_code()):
        pass
    return code


def token_hash(token: str) -> str:
    """How the store keeps a booking's link token: a copy of the file opens no booking."""
    return hashlib.sha256(f"booking:{token}".encode()).hexdigest()


def unknown() -> NotFound:
    return NotFound("No booking has that link.", code="booking_unknown")


def unknown_code() -> NotFound:
    return NotFound("No booking has that code.", code="booking_unknown")
