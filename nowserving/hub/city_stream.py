"""The hub's stream of its event log into the city's PostgreSQL database (`[city]`).

Each round reads the events after a cursor kept in the hub's own store (the rowid of
the last event the city committed), writes them with the office's lines as they are
now in one transaction, then saves the cursor. A crash between the two sends that
batch again, which the database skips (idempotent by event id); nothing is lost,
because the cursor moves only after the commit. On connecting, the cursor also steps
back to what the database holds, so a city database restored from an older backup is
filled up again. While the database is away the task waits (backoff with jitter, up
to `[city] retry_max_seconds`) and tries again; the hub goes on meanwhile. All the
blocking work runs in worker threads, never on the event loop.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

import anyio.to_thread

from nowserving.service.local import LocalService
from nowserving.sync.backoff import Backoff

log = logging.getLogger("nowserving.hub")
POLL_S = 0.5  # how often an idle stream looks for new events (SQLite's data_version)
HEARTBEAT_S = 15.0  # lines' waits move with time: the city hears from the office this often
FIRST_RETRY_S = 0.5


def cursor_key(office_id: str) -> str:
    return f"city.cursor.{office_id}"


class CityStream:
    """One office's stream; `run()` is the hub task, `round()` one batch (blocking)."""

    def __init__(self, service: LocalService) -> None:
        city = service.config.city
        assert city.database is not None and city.office_id is not None
        # Imported here: psycopg and yoyo (0.25 s) only for a hub that streams to the city.
        from nowserving.store.city import CityWriter, unverified_hosts

        unchecked = unverified_hosts(city.database)
        if unchecked:
            log.warning(
                "the city database (%s) is reached without checking its certificate: "
                "add ?sslmode=verify-full (and sslrootcert=…) to [city] database",
                ", ".join(unchecked),
            )
        self.service = service
        self.writer = CityWriter(city.database, city.office_id, staff_names=city.staff_names)
        self.key = cursor_key(city.office_id)
        self.cursor = 0
        self.purged_for = ""  # the day whose retention the city database has had

    def connect(self) -> None:
        held = self.writer.connect()
        mine = int(self.service.store.get_state(self.key, "0"))
        self.cursor = min(mine, held)

    def round(self) -> int:
        """Send the next batch (or just the lines' state); how many events were in it."""
        if not self.writer.connected:
            self.connect()
        service = self.service
        batch = service.store.events_after(self.cursor, service.config.city.batch)
        self.writer.write(service.config, batch, service.lines())
        if batch:
            self.cursor = batch[-1][0]
            service.store.set_state(self.key, str(self.cursor))
        today = service.today()
        if self.purged_for != today:
            days = service.config.office.retention_days
            self.writer.purge((date.fromisoformat(today) - timedelta(days=days)).isoformat())
            self.purged_for = today
        return len(batch)

    async def run(self) -> None:
        """Stream for good; the database away is waited out, not raised."""
        from nowserving.store.city import Unreachable, reason

        city = self.service.config.city
        backoff = Backoff(FIRST_RETRY_S, city.retry_max_seconds)
        away_since: float | None = None
        try:
            while True:
                # Read before the round: what is written during it wakes the next one.
                seen = await anyio.to_thread.run_sync(self.service.store.version)
                try:
                    sent = await anyio.to_thread.run_sync(self.round)
                except Unreachable as exc:
                    self.writer.close()
                    if away_since is None:
                        away_since = time.monotonic()
                        log.warning("city database unreachable (%s); retrying", reason(exc))
                    await anyio.sleep(backoff.next())
                    continue
                if away_since is not None:
                    log.info(
                        "city database reachable again after %.0f s", time.monotonic() - away_since
                    )
                    away_since = None
                backoff.reset()
                if sent < city.batch:  # caught up: wait for something new
                    await self._changed(seen)
        finally:
            await anyio.to_thread.run_sync(self.writer.close)

    async def _changed(self, seen: tuple[int, int]) -> None:
        """Return once the store's version is no longer `seen`, or after HEARTBEAT_S."""
        store = self.service.store
        deadline = time.monotonic() + HEARTBEAT_S
        while time.monotonic() < deadline:
            await anyio.sleep(POLL_S)
            if await anyio.to_thread.run_sync(store.version) != seen:
                return
