"""Opening hours: when a line takes residents, from the office's `[calendar]`.

Hours are office-local wall times, turned into instants in the office's zone. On the
day the clocks spring forward, a time inside the skipped hour means the moment the
clocks jump (the first moment whose wall time is at or after it); on the day they fall
back, a time inside the repeated hour means its first occurrence. So a span never runs
backwards, and "08:00" is 08:00 on the wall on every day of the year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from nowserving.domain.config import Calendar, OfficeConfig

SEARCH_DAYS = 400  # how far ahead "when does it open next" looks: a year of holidays and more
Status = Literal["open", "closed", "full"]


@dataclass(frozen=True, slots=True)
class Hours:
    """Whether a line takes residents at one moment, as the rules and screens need it.

    `opens_at`: closed or full, when it takes residents next (ms; None: not within
    SEARCH_DAYS). `closes_at`: open or full, when the current span ends (ms).
    `remote_open`: remote join takes residents too (it closes earlier). `day`: the
    office-local date it was asked on, so a screen can say "today" or "tomorrow".
    """

    status: Status
    opens_at: int | None = None
    closes_at: int | None = None
    remote_open: bool = True
    day: str = ""


ALWAYS = Hours("open")  # an office without a calendar


def local_date(at: int, zone: ZoneInfo) -> date:
    """The office-local date at `at` (ms since the epoch)."""
    return datetime.fromtimestamp(at / 1000, UTC).astimezone(zone).date()


def local_instant(day: date, minute: int, zone: ZoneInfo) -> int:
    """The instant (ms) the wall clock in `zone` first shows `minute` after midnight of `day`,
    or the first minute after it that exists (a minute skipped by DST means the jump)."""
    while minute >= 1440:  # "24:00": midnight that ends the day
        day, minute = day + timedelta(days=1), minute - 1440
    for wall in range(minute, 1440):
        naive = datetime.combine(day, time(wall // 60, wall % 60))
        aware = naive.replace(tzinfo=zone)  # fold=0: the first occurrence of a repeated time
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            return int(aware.timestamp() * 1000)
    return local_instant(day + timedelta(days=1), 0, zone)  # the rest of the day was skipped


def spans(calendar: Calendar, zone: ZoneInfo, line: str, day: date) -> list[tuple[int, int]]:
    """The line's opening spans on an office-local date, as (start, end) instants in ms."""
    if day in calendar.closed:
        return []
    return [
        (local_instant(day, start, zone), local_instant(day, end, zone))
        for start, end in calendar.line_hours(line, day.weekday())
    ]


def current_span(calendar: Calendar, zone: ZoneInfo, line: str, at: int) -> tuple[int, int] | None:
    """The span the line is open in at `at`, or None when it is closed then."""
    for start, end in spans(calendar, zone, line, local_date(at, zone)):
        if start <= at < end:
            return start, end
    return None


def next_opening(calendar: Calendar, zone: ZoneInfo, line: str, after: int) -> int | None:
    """The first span start later than `after` (ms), or None within SEARCH_DAYS."""
    day = local_date(after, zone)
    for offset in range(SEARCH_DAYS):
        for start, _ in spans(calendar, zone, line, day + timedelta(days=offset)):
            if start > after:
                return start
    return None


def hours_at(config: OfficeConfig, line: str, at: int, wait_minutes: float | None = None) -> Hours:
    """Whether `line` takes residents at `at` (ms).

    `wait_minutes` is a newcomer's estimated wait (None: unknown). With the last-ticket
    rule (`stop_when_full`), a line whose wait runs past the end of its span is full: it
    opens again with its next span.
    """
    calendar = config.calendar
    if calendar is None:
        return ALWAYS
    zone = config.zone
    day = local_date(at, zone).isoformat()
    span = current_span(calendar, zone, line, at)
    if span is None:
        return Hours("closed", next_opening(calendar, zone, line, at), None, False, day)
    end = span[1]
    if calendar.stop_when_full and wait_minutes is not None and at + wait_minutes * 60_000 > end:
        return Hours("full", next_opening(calendar, zone, line, end), end, False, day)
    remote = end - at > calendar.remote_join_closes_before * 60_000
    return Hours("open", None, end, remote, day)
