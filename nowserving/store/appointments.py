"""Residents' bookings in the hub's store (see the `appointments` migration for why a table).

Every function that writes is called inside `EventStore.write()`, whose BEGIN IMMEDIATE
makes "count, then insert" one step: two residents racing for a slot's last place
cannot both get it.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Mapping
from typing import Any

from nowserving.domain.booking import Appointment
from nowserving.store.eventstore import EventStore

BOOKED, CANCELLED = "booked", "cancelled"
_FIELDS = 'code, line, start, "end", lang, status, contact, ticket, booked_by'


def _appointment(row: sqlite3.Row) -> Appointment:
    return Appointment(row[0], row[1], row[2], row[3], row[4] or "", row[5], row[6], row[7], row[8])


def taken(store: EventStore, line: str, starts: list[int]) -> dict[int, int]:
    """Bookings held per slot start (cancelled ones free their place)."""
    if not starts:
        return {}
    marks = ",".join("?" * len(starts))
    rows = store.read(
        f"SELECT start, count(*) FROM appointments WHERE line = ? AND status = ? "
        f"AND start IN ({marks}) GROUP BY start",
        (line, BOOKED, *starts),
    )
    return {int(r[0]): int(r[1]) for r in rows}


def expected(store: EventStore, line: str, since: int, until: int) -> list[int]:
    """The slot starts (ms) of a line's bookings not checked in yet, one per booking, with
    `since` <= start < `until`: residents still to come into the line by their slot."""
    rows = store.read(
        "SELECT start FROM appointments WHERE line = ? AND status = ? AND ticket = '' "
        "AND start >= ? AND start < ? ORDER BY start",
        (line, BOOKED, since, until),
    )
    return [int(r[0]) for r in rows]


def held_by(store: EventStore, contact: str, now: int) -> int:
    """Open bookings of one phone or e-mail (those still to come)."""
    rows = store.read(
        "SELECT count(*) FROM appointments WHERE contact = ? AND status = ? AND start > ?",
        (contact, BOOKED, now),
    )
    return int(rows[0][0])


def booked_from(store: EventStore, client: str, since: int) -> int:
    """Bookings made from one client address since `since` (ms), cancelled ones too."""
    rows = store.read(
        "SELECT count(*) FROM appointments WHERE client = ? AND created >= ?", (client, since)
    )
    return int(rows[0][0])


def insert(
    store: EventStore,
    appointment: Appointment,
    token_hash: str,
    day: str,
    client: str,
    created: int,
) -> None:
    """Keep a new booking. Inside `write()`."""
    store.db.conn.execute(
        'INSERT INTO appointments (code, token_hash, line, day, start, "end", contact, '
        "client, lang, created, status, booked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            appointment.code,
            token_hash,
            appointment.line,
            day,
            appointment.start,
            appointment.end,
            appointment.contact,
            client,
            appointment.lang,
            created,
            BOOKED,
            appointment.booked_by,
        ),
    )


def by_token(store: EventStore, token_hash: str) -> Appointment | None:
    rows = store.read(f"SELECT {_FIELDS} FROM appointments WHERE token_hash = ?", (token_hash,))
    return _appointment(rows[0]) if rows else None


def by_code(store: EventStore, code: str) -> Appointment | None:
    rows = store.read(f"SELECT {_FIELDS} FROM appointments WHERE code = ?", (code,))
    return _appointment(rows[0]) if rows else None


def checked_in(store: EventStore, code: str, ticket_token: str) -> None:
    """Keep the ticket a booking checked in for. Inside `write()`."""
    store.db.conn.execute("UPDATE appointments SET ticket = ? WHERE code = ?", (ticket_token, code))


def checked_in_tickets(store: EventStore, since_day: str) -> set[str]:
    """The tokens of the tickets bookings of `since_day` (ISO) and later checked in for."""
    rows = store.read(
        "SELECT ticket FROM appointments WHERE day >= ? AND ticket != ''", (since_day,)
    )
    return {str(r[0]) for r in rows}


def cancel(store: EventStore, code: str) -> None:
    """Free a booking's place. Inside `write()`."""
    store.db.conn.execute("UPDATE appointments SET status = ? WHERE code = ?", (CANCELLED, code))


def for_day(store: EventStore, day: str, line: str | None = None) -> list[Appointment]:
    """A day's bookings (cancelled ones too), by slot, for staff."""
    only = " AND line = ?" if line else ""
    rows = store.read(
        f"SELECT {_FIELDS} FROM appointments WHERE day = ?{only} ORDER BY start, code",
        (day, line) if line else (day,),
    )
    return [_appointment(r) for r in rows]


def move(store: EventStore, code: str, start: int, end: int, day: str) -> None:
    """Give a booking another slot. Inside `write()`."""
    store.db.conn.execute(
        'UPDATE appointments SET start = ?, "end" = ?, day = ? WHERE code = ?',
        (start, end, day, code),
    )


def purge(store: EventStore, today: str) -> int:
    """Forget the phone numbers, addresses and client addresses of bookings whose day is
    over (the slot and its code stay, for the reports). Inside `write()`."""
    cursor = store.db.conn.execute(
        "UPDATE appointments SET contact = '', client = '' WHERE day < ? AND contact != ''",
        (today,),
    )
    return cursor.rowcount


def report_rows(
    store: EventStore,
    start: str,
    end: str,
    now: int,
    grace_ms: int,
    issued_at: Mapping[str, int],
    line: str | None = None,
) -> list[dict[str, Any]]:
    """Bookings per day and line from `start` to `end` (ISO dates): booked (still), cancelled,
    booked by staff, checked in, no-shows (no check-in by `grace_ms` after the slot's start,
    that moment past at `now`) and the median minutes from the slot's start to the check-in
    (`issued_at`: when each ticket was issued, by token; early check-ins count negative)."""
    only = " AND line = ?" if line else ""
    rows = store.read(
        "SELECT day, line, start, status, booked_by, ticket "
        f"FROM appointments WHERE day BETWEEN ? AND ?{only} ORDER BY day, line",
        (start, end, line) if line else (start, end),
    )
    groups: dict[tuple[str, str], list[sqlite3.Row]] = {}
    for row in rows:
        groups.setdefault((row[0], row[1]), []).append(row)
    found = []
    for (day, line_id), group in groups.items():
        kept = [r for r in group if r[3] == BOOKED]
        counts: dict[str, Any] = {
            "day": day,
            "line": line_id,
            "booked": len(kept),
            "cancelled": len(group) - len(kept),
            "by_staff": sum(1 for r in group if r[4]),
        }
        came = [r for r in kept if r[5]]
        late = [(issued_at[r[5]] - r[2]) / 60_000 for r in came if r[5] in issued_at]
        counts["checked_in"] = len(came)
        counts["no_shows"] = sum(1 for r in kept if not r[5] and r[2] + grace_ms < now)
        counts["late_median"] = round(statistics.median(late), 1) if late else ""
        found.append(counts)
    return found
