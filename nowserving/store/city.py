"""The city's PostgreSQL database: its schema, and what one office writes into it.

The schema is kept by yoyo-migrations: numbered SQL files in `city_migrations/`, each
applied once and recorded in the database, under yoyo's lock, so hubs starting together
do not race. (Alembic would need SQLAlchemy for a schema of three tables; yoyo speaks
psycopg 3 itself, `postgresql+psycopg://`.) Never edit a shipped migration: add one.

An office writes the anonymised form of its events: no `PERSONAL_KEYS` (tokens, names,
phone numbers, e-mail addresses), no clerk's notes about a ticket, and no staff ids unless
the city asks for them (`[city] staff_names`). Writes are idempotent by (office, event
id): a batch sent twice, because the office stopped between the database's commit and
saving its cursor, adds nothing. A trigger keeps one row per ticket (`tickets`, migration
0002) from the events inserted, in the same transaction, for the dashboard and the reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from nowserving.domain.clock import Stamp
from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Event
from nowserving.domain.payloads import PERSONAL_KEYS
from nowserving.domain.views import LineView

MIGRATIONS = Path(__file__).with_name("city_migrations")
CONNECT_TIMEOUT_S = 5
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# What may name a person beyond PERSONAL_KEYS: an admin change's sentence ("PIN of Maria
# changed") and a staff id in the data; kept only with `staff_names`.
STAFF_KEYS = ("staff", "what")
# A clerk's own words about one resident (why they were called out of order: "in a
# wheelchair", a name): they may be health data or name them, and no city figure uses them.
TICKET_NOTES = ("reason",)
# The database cannot be reached or went away mid-round: wait and try again.
Unreachable = (psycopg.OperationalError, psycopg.InterfaceError)


def reason(exc: psycopg.Error) -> str:
    """The first line of a database error: it names the host and what failed, never the
    password, so it may be logged or shown."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def migrate(url: str) -> None:
    """Bring the city database's schema up to date (a no-op when it is)."""
    backend = get_backend(yoyo_url(url))
    migrations = read_migrations(str(MIGRATIONS))
    try:
        # The lock only when there is something to apply: thirty hubs starting at once
        # would otherwise queue on it (yoyo polls for it) for nothing.
        if backend.to_apply(migrations):
            with backend.lock():
                backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()


def unverified_hosts(url: str) -> list[str]:
    """The hosts of `url` over the network whose certificate would go unchecked: libpq's
    default (`sslmode=prefer`) trusts whoever answers, and an impostor on the way may then
    read the stream and ask for the password in clear. Empty with `sslmode=verify-full`
    (in the address or `PGSSLMODE`) or a database on this machine."""
    params = conninfo_to_dict(url)
    if (params.get("sslmode") or os.environ.get("PGSSLMODE")) == "verify-full":
        return []
    hosts = str(params.get("host") or "").split(",")
    return [h for h in hosts if h and not h.startswith("/") and h not in LOCAL_HOSTS]


def yoyo_url(url: str) -> str:
    # yoyo picks its psycopg 3 backend by this scheme; psycopg itself takes both.
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def anonymised(position: int, event: Event, *, staff_names: bool) -> tuple[Any, ...]:
    """An event as the city stores it: (position, id, device, seq, hlc, at, kind, day,
    ticket, line, staff, data), without what points to a person."""
    hidden = PERSONAL_KEYS if staff_names else (*PERSONAL_KEYS, *STAFF_KEYS)
    if event.ticket is not None:
        hidden = (*hidden, *TICKET_NOTES)
    data = {key: value for key, value in event.data.items() if key not in hidden}
    at = datetime.fromtimestamp(Stamp.decode(event.hlc).wall / 1000, UTC)
    return (
        position,
        event.id,
        event.device,
        event.seq,
        event.hlc,
        at,
        str(event.kind),
        event.day,
        event.ticket,
        event.line,
        event.staff if staff_names else None,
        json.dumps(data, ensure_ascii=False),
    )


def office_row(office_id: str, config: OfficeConfig) -> tuple[Any, ...]:
    """The office as the city page shows it: names in the office's first language."""
    lang = config.default_language
    lines = [
        {
            "id": line.id,
            "prefix": line.prefix,
            "name": config.text(line.name, lang),
            "service_level": line.service_level.model_dump() if line.service_level else None,
        }
        for line in config.lines
    ]
    counters = [
        {"id": c.id, "name": config.counter_name(c.id, lang), "lines": c.lines}
        for c in config.counters
    ]
    return (
        office_id,
        config.office.name,
        config.office.timezone,
        json.dumps(lines, ensure_ascii=False),
        json.dumps(counters, ensure_ascii=False),
    )


class CityWriter:
    """One office's connection to the city database. Blocking: run it in a worker thread.

    Args:
        url: the database (`postgresql://user:password@host/name`); never logged.
        office_id: this office's id there.
        staff_names: whether staff ids go along.
    """

    def __init__(self, url: str, office_id: str, *, staff_names: bool) -> None:
        self.url = url
        self.office_id = office_id
        self.staff_names = staff_names
        self._conn: psycopg.Connection[Any] | None = None

    def connect(self) -> int:
        """Open the connection (migrating the schema first); returns the highest position
        of this office's events the database holds (0 if none)."""
        self.close()
        migrate(self.url)
        # autocommit: each `transaction()` below is one BEGIN ... COMMIT, nothing left open.
        self._conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
        row = self._conn.execute(
            "SELECT coalesce(max(position), 0) FROM events WHERE office = %s", (self.office_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def write(
        self,
        config: OfficeConfig,
        events: Sequence[tuple[int, Event]],
        lines: Sequence[LineView],
    ) -> None:
        """In one transaction: the office's description, its new events (those already
        there are skipped), and its lines as they are now."""
        conn = self._require()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO offices (id, name, timezone, lines, counters, seen_at) "
                "VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, timezone = excluded.timezone, lines = excluded.lines, "
                "counters = excluded.counters, seen_at = excluded.seen_at",
                office_row(self.office_id, config),
            )
            if events:
                cur.executemany(
                    "INSERT INTO events (office, position, id, device, seq, hlc, at, kind, day, "
                    "ticket, line, staff, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s, %s) ON CONFLICT (office, id) DO NOTHING",
                    [
                        (self.office_id, *anonymised(p, e, staff_names=self.staff_names))
                        for p, e in events
                    ],
                )
            cur.executemany(
                "INSERT INTO lines_now (office, line, waiting, wait_low, wait_high, paused, "
                "counters_open) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (office, line) "
                "DO UPDATE SET waiting = excluded.waiting, wait_low = excluded.wait_low, "
                "wait_high = excluded.wait_high, paused = excluded.paused, "
                "counters_open = excluded.counters_open",
                [
                    (
                        self.office_id,
                        v.id,
                        v.waiting,
                        v.wait.low if v.wait.known else None,
                        v.wait.high if v.wait.known else None,
                        v.paused,
                        v.counters_open,
                    )
                    for v in lines
                ],
            )

    def purge(self, before_day: str) -> int:
        """Retention in the city: staff ids of days before `before_day` are dropped, from
        the events and from the tickets summary; how many events lost theirs."""
        conn = self._require()
        with conn.transaction():
            cursor = conn.execute(
                "UPDATE events SET staff = NULL WHERE office = %s AND day < %s "
                "AND staff IS NOT NULL",
                (self.office_id, before_day),
            )
            conn.execute(
                "UPDATE tickets SET staff = NULL WHERE office = %s AND day < %s "
                "AND staff IS NOT NULL",
                (self.office_id, before_day),
            )
        return cursor.rowcount

    def _require(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            raise psycopg.OperationalError("not connected to the city database")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
