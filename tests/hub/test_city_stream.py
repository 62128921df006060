"""Three offices stream into one PostgreSQL while it is stopped and started again."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio.to_thread
import psycopg
import pytest

from nowserving.domain.config import City, OfficeConfig
from nowserving.hub.city_stream import CityStream
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.pg import Cluster

OFFICES = ("north", "south", "east")
TICKETS = 30  # per office and phase: with batches of 10, a stream of several rounds
WAIT_S = 60.0  # generous: a loaded 2-core machine; it protects against a hang, not speed


def _office(tmp_path: Path, config: OfficeConfig, url: str, office_id: str) -> LocalService:
    city = City(database=url, office_id=office_id, batch=10, retry_max_seconds=0.5)
    office = config.model_copy(update={"city": city})
    return LocalService(EventStore(tmp_path / f"{office_id}.sqlite"), office, "hub")


def _busy_day(service: LocalService, tickets: int) -> None:
    """Tickets issued, then called and served by staff: events with tokens and staff ids."""
    issued = [service.issue("permits") for _ in range(tickets)]
    service.open_counter("c1", staff="maria")
    for _ in range(tickets // 2):
        called = service.call_next("c1", staff="maria")
        assert called is not None
        service.complete(called.id, staff="maria")
    service.cancel(issued[-1].token)


def _central(url: str, office: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT id, ticket, hlc, kind, staff, data FROM events WHERE office = %s "
            "ORDER BY position",
            (office,),
        ).fetchall()


def _history(rows: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    tickets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for event_id, ticket, hlc, *_ in rows:
        if ticket:
            tickets[ticket].append((hlc, event_id))
    return {ticket: [e for _, e in sorted(events)] for ticket, events in tickets.items()}


def test_three_offices_stream_through_a_database_restart_nothing_lost_or_doubled(
    postgres: Cluster, config: OfficeConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.create_database("stream")
    services = [_office(tmp_path, config, url, office) for office in OFFICES]
    for service in services:  # a backlog: the streams start behind
        _busy_day(service, TICKETS)
    caplog.set_level(logging.INFO, "nowserving.hub")

    async def until(check: Any) -> None:
        async with asyncio.timeout(WAIT_S):
            while not await anyio.to_thread.run_sync(check):
                await asyncio.sleep(0.05)

    def streamed(office: str) -> int:
        try:
            return len(_central(url, office))
        except psycopg.Error:  # the schema is not there yet
            return 0

    async def scenario() -> None:
        streams = [CityStream(service) for service in services]
        tasks = [asyncio.create_task(stream.run()) for stream in streams]
        await until(lambda: all(streamed(office) > 0 for office in OFFICES))
        # Mid-stream: the database goes down while offices go on working.
        await anyio.to_thread.run_sync(postgres.stop)
        busy = [threading.Thread(target=_busy_day, args=(s, TICKETS)) for s in services]
        for thread in busy:
            thread.start()
        # One hub restarts while the database is away: its stream resumes from the cursor.
        tasks[0].cancel()
        await asyncio.gather(tasks[0], return_exceptions=True)
        await until(lambda: not any(thread.is_alive() for thread in busy))
        await anyio.to_thread.run_sync(postgres.start)
        tasks[0] = asyncio.create_task(CityStream(services[0]).run())
        await until(
            lambda: all(
                streamed(s.config.city.office_id or "") == s.store.count() for s in services
            )
        )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())

    # The two streams that stayed up met the outage (the restarted one may have been
    # stopped before it tried).
    assert caplog.text.count("city database unreachable") >= len(OFFICES) - 1
    for service, office in zip(services, OFFICES, strict=True):
        local = [event for _, event in service.store.events_after(0, 100_000)]
        central = _central(url, office)
        assert [row[0] for row in central] == [event.id for event in local]  # none doubled
        assert _history(central) == _history(
            [(e.id, e.ticket, e.hlc) for e in local]
        )  # every ticket's history, in clock order
        for (_, _, _, kind, staff, data), event in zip(central, local, strict=True):
            assert kind == str(event.kind)
            assert staff is None  # staff ids stay in the office unless the city asks
            assert not {"token", "phone", "email", "name"} & set(data)
            assert data == {k: v for k, v in event.data.items() if k != "token"}
        assert int(service.store.get_state(f"city.cursor.{office}")) == service.store.last_rowid()
