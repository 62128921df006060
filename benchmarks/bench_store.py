"""How fast the store issues tickets on a store holding a year of history.

    .venv/bin/python benchmarks/bench_store.py [--days 300] [--per-day 1000] [--issues 2000]

Prints tickets per second, the median and p99 of one `issue()` (a committed,
fsynced ticket), and, in the same run, a bare SQLite insert of one row per
transaction with the same durability settings, for comparison.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from nowserving.domain.clock import Stamp
from nowserving.domain.config import load_config
from nowserving.domain.events import Event, Kind
from nowserving.domain.rules import ticket_id, ticket_label
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config


def fill_history(store: EventStore, days: int, per_day: int) -> int:
    """A year of plausible days: issued, called, served for every ticket."""
    config = load_config(sample_config())
    lines = [(line.id, line.prefix) for line in config.lines]
    start = date.today() - timedelta(days=days + 1)
    total = 0
    for offset in range(days):
        day = (start + timedelta(days=offset)).isoformat()
        base = int(time.mktime((start + timedelta(days=offset)).timetuple()) * 1000) + 8 * 3600_000
        batch = []
        for n in range(per_day):
            line, prefix = lines[n % len(lines)]
            token = f"history-{day}-{n}"
            tid = ticket_id(token)
            wall = base + n * 20_000
            number = n // len(lines) + 1
            for step, (kind, data) in enumerate(
                [
                    (
                        Kind.TICKET_ISSUED,
                        {
                            "number": number,
                            "label": ticket_label(prefix, number),
                            "token": token,
                            "priority": False,
                            "lang": "en",
                            "source": "kiosk",
                        },
                    ),
                    (Kind.TICKET_CALLED, {"counter": "c2"}),
                    (Kind.TICKET_SERVED, {}),
                ]
            ):
                hlc = Stamp(wall + step * 300_000, 0, "history").encode()
                seq = total + len(batch) + 1
                batch.append(
                    Event(f"h{seq}", "history", seq, hlc, kind, day, tid, line, None, data)
                )
        with store.write():
            store.merge(batch)
        total += len(batch)
    return total


def bench_issue(service: LocalService, count: int, queue: int) -> list[float]:
    """Time `issue()` alone; counters keep about `queue` residents waiting (0: none served)."""
    lines = [line.id for line in service.config.lines]
    counters = [counter.id for counter in service.config.counters]
    timings = []
    for n in range(count):
        began = time.perf_counter()
        service.issue(lines[n % len(lines)])
        timings.append(time.perf_counter() - began)
        if queue and n >= queue:
            service.call_next(counters[n % len(counters)])
    return timings


def bench_bare_sqlite(path: Path, count: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    timings = []
    for n in range(count):
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (f"row {n}",))
        conn.execute("COMMIT")
        timings.append(time.perf_counter() - began)
    conn.close()
    return timings


def describe(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    rate = len(timings) / sum(timings)
    return (
        f"{name:<34} {rate:8.0f}/s   median {statistics.median(timings) * 1e6:7.0f} µs"
        f"   p99 {p99 * 1e6:7.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument(
        "--queue",
        type=int,
        default=100,
        help="residents kept waiting (0: nobody is served, the queue only grows)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "year.sqlite")
        began = time.perf_counter()
        events = fill_history(store, args.days, args.per_day)
        size = (Path(folder) / "year.sqlite").stat().st_size / 1e6
        print(
            f"history: {events:,} events over {args.days} days "
            f"({size:.0f} MB), written in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        service = LocalService(store, load_config(sample_config()), "kiosk-1")
        print(
            f"open the service on it (build today's state): "
            f"{(time.perf_counter() - began) * 1000:.1f} ms"
        )
        label = f"issue(), ~{args.queue} waiting" if args.queue else "issue(), queue only grows"
        print(describe(label, bench_issue(service, args.issues, args.queue)))
        print(
            describe(
                "bare SQLite, 1 row per transaction",
                bench_bare_sqlite(Path(folder) / "bare.sqlite", args.issues),
            )
        )


if __name__ == "__main__":
    main()
