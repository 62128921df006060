"""A city of offices streaming into one PostgreSQL: ingest rate, lag, city page answer time.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_city.py [--offices 30] [--tickets 3000]
        [--history-days 30]

A private PostgreSQL cluster (tests/pg.py: initdb in a temp dir; as root it runs as
`nobody`). Each office is a real hub stream (hub/city_stream.CityStream, its own SQLite
store) in one process; a writer thread per office appends its day as fast as SQLite
allows, a ticket (issued, called, served: three events) per transaction, while all the
streams run. Measured:

- ingest rate: events in PostgreSQL per second, from the first write to the last event in;
- lag: per event, the database's arrival time minus the event's own clock time (p50/p99);
- the city page's queries (`city_waits`, the dashboard), uncached, after `--history-days`
  more days of the same offices were added in SQL (generate_series), as a year would be.

Everything shares this machine's cores; the offices' writers compete with the streams.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import anyio.to_thread
import psycopg

from nowserving.domain.clock import HybridClock
from nowserving.domain.config import City, OfficeConfig, ServiceLevel, load_config
from nowserving.domain.events import Draft, Kind
from nowserving.domain.rules import new_token, ticket_id
from nowserving.hub.city_stream import CityStream
from nowserving.service.local import LocalService
from nowserving.store.city import migrate
from nowserving.store.city_views import CityReader
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.pg import make_cluster, remove_cluster

LINES = ("permits", "licenses", "records", "payments", "ids")


def office_config(base: OfficeConfig, url: str, office: str) -> OfficeConfig:
    lines = [
        line.model_copy(update={"service_level": ServiceLevel(within_minutes=20, percent=90)})
        for line in base.lines
    ]
    city = City(database=url, office_id=office, batch=1000, retry_max_seconds=2)
    name = base.office.model_copy(update={"name": f"Office {office}"})
    return base.model_copy(update={"lines": lines, "city": city, "office": name})


def write_day(service: LocalService, tickets: int) -> None:
    """The office's day, a ticket per transaction (issued, called, served)."""
    store, clock = service.store, HybridClock("bench-desk")
    day = service.today()
    for n in range(tickets):
        token = new_token()
        line = LINES[n % len(LINES)]
        tid = ticket_id(token)
        data = {
            "number": n // len(LINES) + 1,
            "label": f"A-{n // len(LINES) + 1:03d}",
            "token": token,
            "priority": False,
            "lang": "en",
            "source": "kiosk",
        }
        drafts = [
            Draft(Kind.TICKET_ISSUED, day, ticket=tid, line=line, data=data),
            Draft(Kind.TICKET_CALLED, day, tid, line, "maria", {"counter": "c1"}),
            Draft(Kind.TICKET_SERVED, day, tid, line, "maria", {}),
        ]
        with store.write():
            store.append(drafts, clock)


HISTORY = """
INSERT INTO events (office, id, position, device, seq, hlc, at, kind, day, ticket, line, data,
                    received)
SELECT o.id, concat_ws('-', 'h', d, t, k), 0, 'bench', 0, '', ts, kind, day,
       concat_ws('-', 'h', d, t),
       (ARRAY['permits','licenses','records','payments','ids'])[1 + t %% 5], '{}', ts
FROM offices o,
     generate_series(1, %(days)s) AS d,
     generate_series(1, %(tickets)s) AS t,
     LATERAL (SELECT current_date - d AS day,
                     (current_date - d) + time '08:00' + t * interval '9 second' AS base) b,
     LATERAL (VALUES (1, 'ticket.issued', b.base), (2, 'ticket.called', b.base + interval '12 min'),
                     (3, 'ticket.served', b.base + interval '20 min')) AS e(k, kind, ts)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offices", type=int, default=30)
    parser.add_argument("--tickets", type=int, default=3000, help="per office")
    parser.add_argument("--history-days", type=int, default=30, help="past days added in SQL")
    args = parser.parse_args()
    base = load_config(sample_config())
    cluster = make_cluster()
    try:
        url = cluster.create_database("bench")
        migrate(url)
        folder = Path(tempfile.mkdtemp(prefix="bench-city-"))
        names = [f"o{n:03d}" for n in range(args.offices)]
        services = [
            LocalService(
                EventStore(folder / f"{name}.sqlite"), office_config(base, url, name), "hub"
            )
            for name in names
        ]
        total = args.offices * args.tickets * 3

        async def run() -> float:
            streams = [CityStream(service) for service in services]
            tasks = [asyncio.create_task(stream.run()) for stream in streams]
            started = time.perf_counter()
            writers = [threading.Thread(target=write_day, args=(s, args.tickets)) for s in services]
            for writer in writers:
                writer.start()

            def count() -> int:
                with psycopg.connect(url) as conn:
                    row = conn.execute("SELECT count(*) FROM events").fetchone()
                    return int(row[0]) if row else 0

            while await anyio.to_thread.run_sync(count) < total:
                await asyncio.sleep(0.5)
            elapsed = time.perf_counter() - started
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return elapsed

        elapsed = asyncio.run(run())
        with psycopg.connect(url) as conn:
            lags = sorted(
                float(r[0])
                for r in conn.execute("SELECT extract(epoch FROM received - at) FROM events")
            )
        p50, p99 = statistics.median(lags), lags[int(0.99 * (len(lags) - 1))]
        print(
            f"{args.offices} offices x {args.tickets} tickets = {total:,} events in "
            f"{elapsed:.1f} s: {total / elapsed:,.0f} events/s into PostgreSQL"
        )
        print(f"lag behind the offices: p50 {p50:.2f} s, p99 {p99:.2f} s, max {lags[-1]:.2f} s")

        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(HISTORY, {"days": args.history_days, "tickets": args.tickets})
            conn.execute("ANALYZE events")
            rows = conn.execute("SELECT count(*) FROM events").fetchone()
        print(
            f"history: {args.history_days} more days ({rows[0] if rows else 0:,} events in all) "
            f"added in {time.perf_counter() - started:.0f} s"
        )
        reader = CityReader(url)
        reader.open()
        try:
            for name, query in (("city_waits", reader.waits), ("dashboard", reader.dashboard)):
                query()  # warm
                times = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    query()
                    times.append((time.perf_counter() - t0) * 1000)
                times.sort()
                print(
                    f"{name}, uncached: median {statistics.median(times):.1f} ms, "
                    f"max {times[-1]:.1f} ms (20 runs)"
                )
        finally:
            reader.close()
        for service in services:
            service.store.close()
    finally:
        remove_cluster(cluster)


if __name__ == "__main__":
    main()
