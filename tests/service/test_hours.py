"""Issuing follows the office's calendar: closed, full for today, remote join closing early."""

from __future__ import annotations

from pathlib import Path

import pytest

from nowserving.domain.config import parse_config
from nowserving.domain.errors import Rejected
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.conftest import FakeClock, office_time

CALENDAR = """
[calendar]
stop_when_full = true
remote_join_closes_before = 45

[calendar.hours]
tue = "08:00-16:00"
"""


def test_issuing_follows_the_hours(tmp_path: Path) -> None:
    config = parse_config(sample_config().read_text(encoding="utf-8") + CALENDAR)
    clock = FakeClock(office_time("2026-11-24 07:30"))  # a Tuesday, before opening
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "kiosk-1", now=clock)

    def refused(source: str = "kiosk") -> str:
        with pytest.raises(Rejected) as refusal:
            service.issue("payments", source=source)
        return refusal.value.code

    assert refused() == "line_closed"
    clock.ms = office_time("2026-11-24 15:20")
    service.issue("payments", source="kiosk")
    assert refused("remote") == "remote_closed"  # 40 minutes before closing
    service.open_counter("c6")  # the cashier serves payments alone: a wait is now known
    with pytest.raises(Rejected) as full:
        for _ in range(20):  # about 4 minutes each: 40 minutes are left
            service.issue("payments")
    assert full.value.code == "line_full"
    waiting = service.lines()[3]
    assert waiting.hours.status == "full" and 5 <= waiting.waiting <= 15
    assert waiting.wait.point > 40  # a newcomer's wait runs past closing
    assert len(service.state.tickets) == waiting.waiting  # the refusals wrote nothing
