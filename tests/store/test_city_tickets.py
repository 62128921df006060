"""The city's tickets summary: kept by the database from the events inserted, whatever
their order, and a replayed batch adds nothing."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from yoyo import get_backend, read_migrations

from nowserving.domain.clock import Stamp
from nowserving.domain.config import City, OfficeConfig
from nowserving.domain.events import Event, Kind
from nowserving.service.local import LocalService
from nowserving.store.city import (
    MIGRATIONS,
    CityWriter,
    anonymised,
    migrate,
    office_row,
    unverified_hosts,
    yoyo_url,
)
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock
from tests.pg import Cluster
from tests.store.test_reports import known_day

__all__ = ["known_day"]  # the fixture: a day of issues, calls, no-shows, leaving

# The same figures computed from the events themselves, as the reports did before.
FROM_EVENTS = """
SELECT office, ticket,
       min(day) FILTER (WHERE kind = 'ticket.issued'),
       min(line) FILTER (WHERE kind = 'ticket.issued'),
       min(at) FILTER (WHERE kind = 'ticket.issued'),
       min(at) FILTER (WHERE kind = 'ticket.called'),
       max(at) FILTER (WHERE kind = 'ticket.called'),
       max(at) FILTER (WHERE kind = 'ticket.served'),
       (array_agg(staff ORDER BY hlc DESC) FILTER (WHERE kind = 'ticket.served'))[1],
       max(at) FILTER (WHERE kind = 'ticket.left'),
       count(*) FILTER (WHERE kind = 'ticket.transferred')::int,
       (array_agg(kind ORDER BY hlc DESC) FILTER (WHERE kind IN ('ticket.served',
           'ticket.no_show', 'ticket.left', 'ticket.returned', 'ticket.called')))[1]
FROM events WHERE ticket IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
"""
SUMMARY = """
SELECT office, ticket, day, line, issued, called, last_called, served, staff, left_at,
       transfers, last_kind
FROM tickets ORDER BY 1, 2
"""


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_the_summary_matches_the_events_in_any_order_and_replays_add_nothing(
    known_day: dict[str, str],
    store: EventStore,
    config: OfficeConfig,
    clock: FakeClock,
    postgres: Cluster,
) -> None:
    url = postgres.create_database("tickets")
    office = config.model_copy(update={"city": City(database=url, office_id="north")})
    service = LocalService(store, office, "hub", now=clock)
    events = store.events_after(0, 10_000)
    writer = CityWriter(url, "north", staff_names=True)
    writer.connect()
    half = len(events) // 2
    # The later half first, then everything (its first half new, the rest a replay).
    writer.write(office, events[half:], service.lines())
    writer.write(office, events, service.lines())
    writer.write(office, events[: half // 2], service.lines())
    writer.close()

    summary = _rows(url, SUMMARY)
    assert len(summary) == len({event.ticket for _, event in events if event.ticket})
    assert summary == _rows(url, FROM_EVENTS)
    kinds = {row[-1] for row in summary}
    assert {"ticket.served", "ticket.no_show", "ticket.left"} <= kinds  # the day's endings


def test_the_migration_fills_the_summary_from_events_already_there(
    known_day: dict[str, str],
    store: EventStore,
    config: OfficeConfig,
    clock: FakeClock,
    postgres: Cluster,
) -> None:
    url = postgres.create_database("tickets_backfill")
    backend = get_backend(yoyo_url(url))
    first = read_migrations(str(MIGRATIONS)).filter(lambda m: m.id == "0001.events")
    backend.apply_migrations(backend.to_apply(first))
    backend.connection.close()
    office = config.model_copy(update={"city": City(database=url, office_id="north")})
    with psycopg.connect(url, autocommit=True) as conn:  # a city streamed into before 0002
        conn.execute(
            "INSERT INTO offices VALUES (%s, %s, %s, %s, %s, now())", office_row("north", office)
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO events (office, position, id, device, seq, hlc, at, kind, day, "
                "ticket, line, staff, data) VALUES ('north', %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s, %s)",
                [anonymised(p, e, staff_names=True) for p, e in store.events_after(0, 10_000)],
            )
    migrate(url)
    summary = _rows(url, SUMMARY)
    assert summary and summary == _rows(url, FROM_EVENTS)


def test_a_clerks_note_about_a_resident_stays_at_the_office() -> None:
    called = Event(
        "e1",
        "desk-1",
        1,
        Stamp(1796000000000, 0, "desk-1").encode(),
        Kind.TICKET_CALLED,
        "2026-12-01",
        ticket="t1",
        line="permits",
        staff="maria",
        data={"counter": "c1", "reason": "Mrs Reyes, in a wheelchair"},
    )
    paused = Event(
        "e2",
        "desk-1",
        2,
        Stamp(1796000000001, 0, "desk-1").encode(),
        Kind.LINE_PAUSED,
        None,
        line="permits",
        staff="maria",
        data={"reason": "Lunch break"},
    )
    for staff_names in (False, True):
        assert json.loads(anonymised(1, called, staff_names=staff_names)[-1]) == {"counter": "c1"}
    # A line's pause reason is the office's notice to everyone: it goes.
    assert json.loads(anonymised(2, paused, staff_names=False)[-1]) == {"reason": "Lunch break"}


def test_a_city_database_across_the_network_is_reached_with_its_certificate_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)
    assert unverified_hosts("postgresql://office:pw@db.city.example:5432/city") == [
        "db.city.example"
    ]
    assert unverified_hosts("postgresql://office:pw@db1,db2/city?sslmode=require") == [
        "db1",
        "db2",
    ]
    assert unverified_hosts("postgresql://office:pw@db/city?sslmode=verify-full") == []
    assert unverified_hosts("postgresql://office@localhost/city") == []
    assert unverified_hosts("postgresql:///city?host=/run/postgresql") == []
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    assert unverified_hosts("postgresql://office:pw@db.city.example/city") == []
