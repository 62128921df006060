"""The admin's changes to the office, in process: lines removed (at once or at the next
day), languages and settings, each checked as check-config checks and audited."""

from __future__ import annotations

from datetime import date

import pytest

from nowserving.domain.config import OfficeConfig, office_document, retired_lines, without_lines
from nowserving.domain.errors import Rejected
from nowserving.domain.events import Kind
from nowserving.hub import office_admin
from nowserving.hub.context import Hub
from nowserving.hub.office_admin import InvalidOffice
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock

NAMES = {"en": "Parking permits", "es": "Permisos de estacionamiento"}


@pytest.fixture
def hub(store: EventStore, config: OfficeConfig, clock: FakeClock) -> Hub:
    return Hub(LocalService(store, config, "hub", now=clock))


def audit(hub: Hub) -> list[str]:
    events = hub.service.store.events_after(0)
    return [e.data["what"] for _, e in events if e.kind is Kind.OFFICE_CHANGED]


def test_a_line_without_tickets_goes_at_once_one_with_tickets_the_next_day(
    hub: Hub, clock: FakeClock
) -> None:
    office_admin.save_line(hub, "parking", NAMES, prefix="P", by="maria")
    assert office_admin.remove_line(hub, "parking", by="maria") is True  # added by mistake
    assert "parking" not in {line.id for line in hub.config.lines}

    office_admin.save_line(hub, "parking", NAMES, prefix="P", by="maria")
    office_admin.save_counter(hub, "c7", {"en": "Counter 7"}, ["parking"], by="maria")
    hub.service.issue("parking")
    with pytest.raises(InvalidOffice, match="Counter c7 serves only parking"):
        office_admin.remove_line(hub, "parking", by="maria")  # tomorrow c7 would serve nothing
    office_admin.save_counter(hub, "c7", {"en": "Counter 7"}, ["parking", "ids"], by="maria")

    assert office_admin.remove_line(hub, "parking", by="maria") is False
    with pytest.raises(Rejected) as refused:
        hub.service.issue("parking")
    assert refused.value.code == "line_removed"
    assert next(v for v in hub.service.lines() if v.id == "parking").removed
    assert hub.service.waiting_count("parking") == 1  # its resident is still called today
    assert office_admin.drop_retired(hub) == set()  # the same day: it stays

    clock.ms += 24 * 3600 * 1000
    assert office_admin.drop_retired(hub) == {"parking"}
    assert "parking" not in {line.id for line in hub.config.lines}
    assert hub.config.counter("c7").lines == ["ids"]
    stored = hub.registry.office()  # what devices follow
    assert stored is not None and stored[1].lines == hub.config.lines
    assert audit(hub) == [
        "added line parking (P: 'Parking permits')",
        "removed line parking",
        "added line parking (P: 'Parking permits')",
        "added counter c7 (Counter 7: parking)",
        "changed counter c7 (Counter 7: parking, ids)",
        "retired line parking (no new tickets; gone tomorrow)",
        "removed retired lines parking",
    ]


def test_languages_and_settings_are_checked_as_check_config_checks(hub: Hub) -> None:
    with pytest.raises(InvalidOffice, match="not translated into 'xx'"):
        office_admin.set_languages(hub, ["en", "xx"], "en", by="maria")
    office_admin.set_languages(hub, ["en", "es", "vi"], "es", by="maria")
    assert hub.config.office.languages == ["es", "en", "vi"]

    kiosk = office_document(hub.config)["kiosk"]
    with pytest.raises(InvalidOffice) as bad:
        office_admin.save_settings(hub, "kiosk", {**kiosk, "idle_seconds": "5"}, by="maria")
    assert str(bad.value) == (
        "office: kiosk.idle_seconds: Input should be greater than or equal to 10"
    )
    office_admin.save_settings(hub, "kiosk", {**kiosk, "idle_seconds": "60"}, by="maria")
    assert hub.config.kiosk.idle_seconds == 60
    assert audit(hub)[-2:] == [
        "set the languages to es, en, vi",
        "changed the kiosk settings: idle_seconds 45 → 60",
    ]


def test_retired_lines_leave_the_counters_and_devices_lists_too(config: OfficeConfig) -> None:
    today = date(2026, 11, 24)
    lines = [line.model_dump(mode="json") for line in config.lines]
    lines[0]["retired_on"] = "2026-11-24"
    retired = config.model_copy(update={"lines": [type(config.lines[0])(**r) for r in lines]})
    assert retired_lines(retired, today) == set()
    assert retired_lines(retired, date(2026, 11, 25)) == {"permits"}
    document = without_lines(office_document(config), {"permits"})
    assert all("permits" not in c["lines"] for c in document["counters"])
    assert [line["id"] for line in document["lines"]] == [line.id for line in config.lines[1:]]
