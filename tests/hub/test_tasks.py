"""The hub's background tasks: the nightly retention purge, and the supervisor over all."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from nowserving.domain.config import OfficeConfig
from nowserving.hub import tasks
from nowserving.hub.tasks import PURGE_RETRY_S, Supervisor, purge_nightly
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.conftest import SAMPLE_ZONE, FakeClock, office_time


class _Stop(BaseException):
    """Ends the test's run of a task that would run for good (passes `except Exception`)."""


def _tokens_by_day(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT day, count(*) FROM events WHERE json_extract(data, '$.token') IS NOT NULL "
            "GROUP BY day"
        ).fetchall()
    return dict(rows)


def test_the_purge_runs_each_night_at_the_set_hour_and_a_lock_is_retried(
    config: OfficeConfig, tmp_path: Path
) -> None:
    office = config.office.model_copy(update={"retention_days": 1})
    hub_settings = config.hub.model_copy(update={"purge_hour": 3})
    config = config.model_copy(update={"office": office, "hub": hub_settings})
    path = tmp_path / "office.sqlite"
    clock = FakeClock(office_time("2026-11-24 09:00"))
    hub = LocalService(EventStore(path), config, "hub", now=clock)
    hub.store.db.conn.execute("PRAGMA busy_timeout = 200")  # the forced lock fails fast
    kiosk = LocalService(EventStore(path), config, "kiosk-1", now=clock)  # another process
    for _ in range(3):
        kiosk.issue("permits")
    locker = sqlite3.connect(path, isolation_level=None)
    nights: list[str] = []
    seen: list[dict[str, int]] = []
    retries = []

    async def sleep(seconds: float) -> None:
        if seconds == PURGE_RETRY_S:  # the purge met the lock: it is let go after one retry
            retries.append(clock.ms)
            if len(retries) == 2:
                locker.execute("ROLLBACK")
        else:
            seen.append(_tokens_by_day(path))  # what the last purge left
            if len(nights) == 3:
                raise _Stop
            for _ in range(3):  # the office is busy: more tickets before the next night
                kiosk.issue("permits")
            if len(nights) == 1:  # a backup (or a stuck process) holds the write lock
                locker.execute("BEGIN IMMEDIATE")
        clock.ms += int(seconds * 1000)
        if seconds != PURGE_RETRY_S:
            nights.append(datetime.fromtimestamp(clock.ms / 1000, SAMPLE_ZONE).isoformat())
        await asyncio.sleep(0)

    supervisor = Supervisor(hub, sleep)
    with pytest.raises(_Stop):
        asyncio.run(supervisor.keep("retention", lambda: purge_nightly(hub, supervisor)))

    # At start, then at 03:00 each night: not 24 h after start.
    assert nights == [
        "2026-11-25T03:00:00-08:00",
        "2026-11-26T03:00:00-08:00",
        "2026-11-27T03:00:00-08:00",
    ]
    assert seen == [
        {"2026-11-24": 3},  # at start: nothing old enough yet
        {"2026-11-24": 6},  # night 1: 11-24 is still within its 1 day
        {"2026-11-25": 3},  # night 2, through the lock: 11-24 purged
        {"2026-11-26": 3},  # night 3: 11-25 purged
    ]
    assert len(retries) == 2  # two tries met the lock, the third went through
    assert not supervisor.failures and not hub.board().alerts  # retried, not fatal
    locker.close()
    kiosk.store.close()
    hub.store.close()


def test_a_failing_task_is_an_alert_on_the_desk_until_it_recovers(
    config: OfficeConfig, tmp_path: Path, clock: FakeClock
) -> None:
    hub = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    runs: list[int] = []
    alerts_while_down: list[list[tuple[str, str, str]]] = []

    async def sleep(seconds: float) -> None:  # the supervisor's backoff
        alerts_while_down.append([(a.device, a.alert, a.message) for a in hub.board().alerts])

    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the disk went away")
        await supervisor.ok("flaky")

    supervisor = Supervisor(hub, sleep)
    asyncio.run(supervisor.keep("flaky", flaky))
    assert len(runs) == 2
    assert alerts_while_down == [
        [("hub", "task.flaky", "Background task 'flaky' failed: the disk went away")]
    ]
    assert hub.board().alerts == [] and supervisor.failures == {}
    hub.store.close()


def test_a_task_that_keeps_failing_waits_longer_each_time_and_anew_once_it_ran_well(
    config: OfficeConfig, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "HEALTHY_AFTER_S", 0.05)  # real time: kept short
    hub = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    waits: list[float] = []
    runs: list[int] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def failing() -> None:
        runs.append(1)
        if len(runs) == 5:
            await asyncio.sleep(0.2)  # this time it ran well a while before failing
        if len(runs) < 7:
            raise RuntimeError("the disk went away")

    supervisor = Supervisor(hub, sleep, rand=lambda: 0.5)  # each wait: half its ceiling
    asyncio.run(supervisor.keep("failing", failing))
    assert waits == [2.5, 5.0, 10.0, 20.0, 2.5, 5.0]
    hub.store.close()
