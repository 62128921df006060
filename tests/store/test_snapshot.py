"""A restart restores the kept snapshot of the day instead of replaying it, and gets the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nowserving.domain.clock import Stamp
from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Event, Kind
from nowserving.domain.state import OfficeState, pack_column, replay, unpack_column
from nowserving.service.local import SNAPSHOT_KEY, LocalService
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock


class CountingStore(EventStore):
    """The real store, counting how often a whole day is read back."""

    day_reads = 0

    def events_for_day(self, day: str, up_to: int | None = None) -> list[Event]:
        self.day_reads += 1
        return super().events_for_day(day, up_to)


def _busy_day(service: LocalService, clock: FakeClock) -> None:
    service.open_counter("c1")
    for n in range(30):
        service.issue(["permits", "licenses"][n % 2], priority=n % 5 == 0)
        clock.advance(minutes=1)
        if n % 3 == 0:
            service.call_next("c1")
    service.pause_line("records", "lunch")
    service.set_announcement({"en": "Closing at 4"})


def _saved_day(path: Path, config: OfficeConfig, clock: FakeClock) -> LocalService:
    """A service on `path` after a busy morning, with its snapshot kept."""
    service = LocalService(EventStore(path), config, "hub", now=clock)
    _busy_day(service, clock)
    service.save_snapshot()
    return service


def _same(restored: OfficeState, expected: OfficeState, config: OfficeConfig) -> None:
    assert restored.tickets == expected.tickets
    assert (restored.calls, restored.conflicts) == (expected.calls, expected.conflicts)
    assert (restored.announcement, restored.alerts) == (expected.announcement, expected.alerts)
    assert (restored.last_hlc, restored.ended) == (expected.last_hlc, expected.ended)
    # Reads create default entries for lines and counters, so compare them one by one.
    for line in config.lines:
        assert restored.line(line.id) == expected.line(line.id)
        assert restored.waiting(line.id) == expected.waiting(line.id)
    for counter in config.counters:
        assert restored.counter(counter.id) == expected.counter(counter.id)


def test_a_restart_restores_the_snapshot_instead_of_replaying(
    tmp_path: Path, config: OfficeConfig, clock: FakeClock
) -> None:
    path = tmp_path / "office.sqlite"
    first = _saved_day(path, config, clock)
    first.issue("permits")  # after the snapshot: caught up on top of it
    first.call_next("c1")
    first.store.close()

    store = CountingStore(path)
    again = LocalService(store, config, "hub", now=clock)

    assert store.day_reads == 0, "the restart replayed the day despite a snapshot"
    _same(again.state, replay(again.today(), store.events_for_day(again.today())), config)
    store.close()


def test_a_late_event_before_the_snapshot_falls_back_to_a_replay(
    store: EventStore, config: OfficeConfig, clock: FakeClock
) -> None:
    service = LocalService(store, config, "hub", now=clock)
    _busy_day(service, clock)
    service.save_snapshot()
    early = Stamp(clock.ms - 20 * 60_000, 0, "kiosk-9").encode()  # offline for 20 minutes
    data = {"number": 900, "label": "A-900", "token": "late-token"}
    late = Event("late", "kiosk-9", 1, early, Kind.TICKET_ISSUED, service.today(), "t-late",
                 "permits", None, data)  # fmt: skip
    with store.write():
        store.merge([late])
    service.refresh()

    assert "t-late" in service.state.tickets
    _same(service.state, replay(service.today(), store.events_for_day(service.today())), config)


def test_a_snapshot_from_other_projection_code_is_ignored(
    tmp_path: Path, config: OfficeConfig, clock: FakeClock
) -> None:
    path = tmp_path / "office.sqlite"
    first = _saved_day(path, config, clock)
    saved = json.loads(first.store.get_state(SNAPSHOT_KEY))
    saved["state"]["format"] = "older-code"
    saved["state"]["tickets"] = []  # what a stale snapshot would wrongly restore

    _restart_replays(first, saved, config, clock)


def _restart_replays(
    first: LocalService, saved: dict[str, Any], config: OfficeConfig, clock: FakeClock
) -> None:
    """A restart after `first` stops with `saved` as its snapshot replays the whole day."""
    first.store.set_state(SNAPSHOT_KEY, json.dumps(saved))
    first.store.close()
    store = CountingStore(first.store.path)
    again = LocalService(store, config, "hub", now=clock)
    assert store.day_reads == 1 and len(again.state.tickets) == 30
    store.close()


def test_columns_are_packed_and_come_back_the_same() -> None:
    flags = [False, 0, True, 1, None] * 40  # equal in Python, not the same value
    ids = [f"id-{n}" for n in range(200)]  # too many distinct values for codes
    columns = [flags, ids, ["permits"] * 3, ["a\nb", "c"], [1, 2, 3], ["day"] * 8]
    packed = [pack_column(column) for column in columns]

    assert isinstance(packed[0], dict) and len(packed[0]["codes"]) == 200
    assert packed[1] == {"lines": "\n".join(ids)}
    assert packed[2] == {"lines": "permits\npermits\npermits"}
    assert packed[3] == ["a\nb", "c"] and packed[4] == [1, 2, 3]  # kept as they are
    assert packed[5] == {"values": ["day"], "codes": "00000000"}
    back = [unpack_column(json.loads(json.dumps(column))) for column in packed]
    assert back == columns and [type(v) for v in back[0]] == [type(v) for v in flags]
    assert unpack_column({"values": ["a", "b"], "codes": "0110"}, str.upper) == ["A", "B", "B", "A"]
    assert unpack_column({"lines": "a\nb"}, str.upper) == ["A", "B"]


@pytest.mark.parametrize(
    "damage", ["a code of no value", "a ticket short", "lines not text", "one value, other codes"]
)
def test_a_damaged_snapshot_is_replayed_instead(
    tmp_path: Path, config: OfficeConfig, clock: FakeClock, damage: str
) -> None:
    path = tmp_path / "office.sqlite"
    first = _saved_day(path, config, clock)
    saved = json.loads(first.store.get_state(SNAPSHOT_KEY))
    columns = saved["state"]["tickets"]
    coded = [c for c in columns if isinstance(c, dict) and "codes" in c]
    lines = [c for c in columns if isinstance(c, dict) and "lines" in c]
    assert coded and lines, "a busy morning has columns of a few values, and of ids"
    single = next(c for c in coded if len(c["values"]) == 1)  # the day, the language
    if damage == "a code of no value":
        coded[-1]["codes"] = coded[-1]["codes"][:-1] + "~"
    elif damage == "a ticket short":
        lines[0]["lines"] = lines[0]["lines"].rpartition("\n")[0]
    elif damage == "lines not text":
        lines[0]["lines"] = 5
    else:
        single["codes"] = "1" * len(single["codes"])

    _restart_replays(first, saved, config, clock)
