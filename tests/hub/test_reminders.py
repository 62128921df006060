"""Booking reminders: queued with the booking, sent by the hub's notify worker to the SMS
gateway on loopback when their time comes, once each, never for a cancelled booking."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from nowserving.domain.config import parse_config
from nowserving.hub.notify_worker import Worker
from nowserving.hub.tasks import Supervisor
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.conftest import FakeClock, office_time
from tests.hub.test_notify import Gateway, gateway  # noqa: F401 (the module's gateway)
from tests.service.test_booking import OFFICE as BOOKING  # Monday 8-12, 30-minute slots

OFFICE = (
    BOOKING
    + """
[notify.sms]
url = "http://127.0.0.1:{port}/sms"
"""
)
KEPT, CANCELLED, MOVED = "+15105550101", "+15105550102", "+15105550103"


def test_reminders_go_the_day_before_and_an_hour_before_once_each_in_the_residents_language(
    tmp_path: Path,
    gateway: tuple[Gateway, int],  # noqa: F811
) -> None:
    recorder, port = gateway
    config = parse_config(
        sample_config().read_text(encoding="utf-8") + OFFICE.replace("{port}", str(port))
    )
    clock = FakeClock(office_time("2026-11-27 12:00"))  # the Friday before
    service = LocalService(EventStore(tmp_path / "hub.sqlite"), config, "hub", now=clock)
    worker = Worker(service, Supervisor(service))
    eight, half_past, nine, half_past_nine = (
        s.start for s in service.slots("permits", date(2026, 11, 30))[:4]
    )
    kept, token = service.book("permits", eight, KEPT, lang="es")
    service.cancel_booking(service.book("permits", half_past, CANCELLED)[1])
    moved_token = service.book("permits", nine, MOVED)[1]
    service.move_booking(moved_token, half_past_nine)

    def sent(phone: str) -> list[str]:
        asyncio.run(worker.round())
        return recorder.texts_to(phone)

    assert sent(KEPT) == []  # nothing is due on Friday
    clock.ms = office_time("2026-11-29 12:00")  # Sunday: the day before
    (day_before,) = sent(KEPT)
    assert "Recordatorio" in day_before and kept.code in day_before
    assert f"/a/{token}?lang=es" in day_before and "8:00" in day_before
    (moved,) = sent(MOVED)
    assert "9:30" in moved
    assert sent(KEPT) == [day_before]  # a second round sends nothing again

    clock.ms = office_time("2026-11-30 08:45")  # an hour before 9:30 (and after 8:00's)
    assert len(sent(KEPT)) == 2
    assert len(sent(MOVED)) == 2
    assert sent(CANCELLED) == []
    keys = [m["key"] for m in recorder.taken if m["to"] in (KEPT, MOVED)]
    assert len(keys) == len(set(keys)) == 4
