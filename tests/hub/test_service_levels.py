"""The hub's service-level watch: an alert on every desk's board when a line is about to
miss its target, changed when it misses it, cleared when the target holds again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nowserving.domain.config import OfficeConfig, ServiceLevel
from nowserving.hub.service_levels import watch_service_levels
from nowserving.hub.tasks import Supervisor
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock, office_time


class _Stop(BaseException):
    """Ends the watch, which would run for good (passes `except Exception`)."""


def test_the_desk_sees_at_risk_then_missed_then_nothing(
    config: OfficeConfig, tmp_path: Path
) -> None:
    target = ServiceLevel(within_minutes=20, percent=90)
    lines = [
        line.model_copy(update={"service_level": target}) if line.id == "permits" else line
        for line in config.lines
    ]
    config = config.model_copy(update={"lines": lines})
    clock = FakeClock(office_time("2026-11-24 09:00"))
    hub = LocalService(EventStore(tmp_path / "office.sqlite"), config, "hub", now=clock)
    desk = LocalService(EventStore(tmp_path / "office.sqlite"), config, "desk-1", now=clock)
    desk.open_counter("c1", staff="maria")
    desk.issue("permits")
    seen: list[list[str]] = []

    def moments() -> None:  # what happens between two checks
        step = len(seen) - 1
        if step == 0:
            clock.advance(minutes=17)  # 3 minutes from the target
        elif step == 1:
            clock.advance(minutes=4)  # past it
        elif step == 2:
            desk.call_next("c1", staff="maria")  # late
        elif step == 3:
            for _ in range(9):  # nine called at once: 9 of 10 in time, the target holds
                desk.issue("permits")
                desk.call_next("c1", staff="maria")
        else:
            raise _Stop

    async def sleep(seconds: float) -> None:
        desk.refresh()
        seen.append([f"{a.alert}: {a.message}" for a in desk.board().alerts])
        moments()

    with pytest.raises(_Stop):
        asyncio.run(watch_service_levels(hub, Supervisor(hub, sleep=sleep)))
    assert seen[0] == []
    name = "service_level.permits: Building permits"
    assert seen[1] == [f"{name}: about to miss its service level (90 % called within 20 min)"]
    assert seen[2] == [f"{name}: service level missed today (90 % called within 20 min)"]
    assert seen[3] == seen[2]  # called late: still missed today (0 of 1 in time)
    assert seen[4] == []
