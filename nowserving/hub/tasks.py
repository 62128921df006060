"""The hub's background tasks: supervised, so that none of them dies without a word.

A task that raises is logged with its traceback, shown to staff on the desk as a
device alert of the hub ("task.<name>"), and started again after a jittered
backoff that grows up to `MAX_BACKOFF_S` and starts over once the task has run
well for `HEALTHY_AFTER_S`. A task calls `Supervisor.ok(name)` after a good
round, which clears its alert; a task that runs for good (the live streams) gets
its alert cleared once it has run `HEALTHY_AFTER_S` since its restart. The nightly
retention purge is one such task.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

import anyio.to_thread

from nowserving.domain.errors import StoreError
from nowserving.hub import office_admin
from nowserving.hub.context import Hub
from nowserving.service.local import LocalService
from nowserving.store.retention import purge
from nowserving.sync.backoff import Backoff

log = logging.getLogger("nowserving.hub")
FIRST_BACKOFF_S = 5.0
MAX_BACKOFF_S = 900.0  # a broken task is tried again at least every 15 minutes
HEALTHY_AFTER_S = 60.0
PURGE_ATTEMPTS = 4  # a busy store (a long sync batch, a backup) is tried again this often
PURGE_RETRY_S = 30.0
REQUEST_DAYS = 2  # how long the hub remembers a request id

Sleep = Callable[[float], Awaitable[None]]


class Supervisor:
    """Keeps the hub's background tasks running and reports their failures to the desk.

    Args:
        service: the hub's service, where alerts are written.
        sleep: how to wait (tests pass one that moves a fake clock).
        rand: the backoff's jitter (tests pass a fixed one).
    """

    def __init__(
        self,
        service: LocalService,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.service = service
        self.sleep = sleep
        self.rand = rand
        self.failures: dict[str, str] = {}  # task name -> message of its open alert

    def start(self, name: str, body: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        return asyncio.create_task(self.keep(name, body), name=name)

    async def keep(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run `body` until it returns; after each crash, alert, wait and run it again."""
        backoff = Backoff(FIRST_BACKOFF_S, MAX_BACKOFF_S, self.rand)
        while True:
            # Real time, not `self.sleep`: only "still running a while later" matters here.
            healthy = asyncio.create_task(self._ok_after(name, HEALTHY_AFTER_S))
            try:
                await body()
                return
            except Exception as exc:  # every failure is reported; cancellation passes through
                if healthy.done():  # it ran well a good while: a fresh failure, not the same
                    backoff.reset()
                wait = backoff.next()
                log.exception("hub task %s failed; retrying in %.0f s", name, wait)
                await self._alert(name, f"Background task {name!r} failed: {exc}"[:200])
            finally:
                healthy.cancel()
            await self.sleep(wait)

    async def _ok_after(self, name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.ok(name)

    async def ok(self, name: str) -> None:
        """The task `name` completed a round: clear its alert, if any."""
        if name in self.failures:
            await self._alert(name, "")

    async def _alert(self, name: str, message: str) -> None:
        try:
            await anyio.to_thread.run_sync(self.service.report_alert, f"task.{name}", message)
        except StoreError as exc:  # the store itself is the trouble: the log must do
            log.error("hub task %s: could not record its alert: %s", name, exc)
            return
        if message:
            self.failures[name] = message
        else:
            self.failures.pop(name, None)


def seconds_until_hour(now_ms: int, service: LocalService, hour: int) -> float:
    """Seconds from `now_ms` to the next `hour`:00 in the office's time zone."""
    now = datetime.fromtimestamp(now_ms / 1000, service.config.zone)
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)  # wall-clock arithmetic: still hour:00 across DST
    return max(1.0, (target - now).total_seconds())


async def purge_nightly(service: LocalService, supervisor: Supervisor) -> None:
    """Retention: once at start, then every night at `hub.purge_hour` local time."""
    while True:
        await purge_once(service, supervisor.sleep)
        await supervisor.ok("retention")
        hour = service.config.hub.purge_hour
        await supervisor.sleep(seconds_until_hour(service.clock_now(), service, hour))


async def purge_once(service: LocalService, sleep: Sleep) -> int:
    """One purge; a busy store is retried a few times before the failure is raised."""
    today = date.fromisoformat(service.today())
    attempt = 1
    while True:
        try:
            count = await anyio.to_thread.run_sync(purge, service.store, service.config, today)
        except StoreError as exc:
            if attempt >= PURGE_ATTEMPTS or "busy" not in str(exc):
                raise
            log.warning("retention purge: %s; trying again in %.0f s", exc, PURGE_RETRY_S)
            attempt += 1
            await sleep(PURGE_RETRY_S)
            continue
        days = service.config.office.retention_days
        log.info(
            "retention: personal data removed from %d events older than %d days (before %s)",
            count,
            days,
            today - timedelta(days=days),
        )
        # Request ids answer retries within the day (issue 14); two days is plenty.
        before = (today - timedelta(days=REQUEST_DAYS)).isoformat()
        await anyio.to_thread.run_sync(service.store.forget_requests, before)
        return count


async def drop_retired_daily(hub: Hub, supervisor: Supervisor) -> None:
    """Lines retired on an earlier day leave the office: at start, then at each new day."""
    while True:
        await anyio.to_thread.run_sync(office_admin.drop_retired, hub)
        await supervisor.ok("retired-lines")
        # Just past midnight, office time: the first second of the new office day.
        await supervisor.sleep(seconds_until_hour(hub.service.clock_now(), hub.service, 0) + 1)
