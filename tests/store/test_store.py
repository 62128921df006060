"""The event store on real SQLite files."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from nowserving.domain.clock import HybridClock
from nowserving.domain.config import load_config
from nowserving.domain.errors import StoreError, StoreFullError
from nowserving.domain.events import Draft, Kind
from nowserving.service.local import LocalService
from nowserving.store.eventstore import SCHEMA_VERSION, EventStore
from nowserving.system.paths import sample_config


def _alert(n: int) -> Draft:
    return Draft(Kind.DEVICE_ALERT, None, data={"alert": f"a{n}", "message": "x" * 200})


def test_a_new_store_is_wal_and_versioned(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "sub" / "office.sqlite")
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()
    EventStore(tmp_path / "sub" / "office.sqlite").close()  # reopening migrates nothing


def test_append_stamps_sequence_and_clock(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "s.sqlite")
    clock = HybridClock("kiosk-1", lambda: 1_000)
    with store.write():
        first = store.append([_alert(1), _alert(2)], clock)
    with store.write():
        (third,) = store.append([_alert(3)], clock)
    assert [e.seq for e in [*first, third]] == [1, 2, 3]
    assert first[0].hlc < first[1].hlc < third.hlc
    assert [e.id for _, e in store.events_after(0)] == [e.id for e in [*first, third]]


def test_merge_is_idempotent(tmp_path: Path) -> None:
    source, target = EventStore(tmp_path / "a.sqlite"), EventStore(tmp_path / "b.sqlite")
    with source.write():
        events = source.append([_alert(n) for n in range(5)], HybridClock("k", lambda: 5))
    with target.write():
        assert target.merge(events) == 5
    with target.write():
        assert target.merge(events) == 0
    assert target.count() == 5


def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError), store.write():
        store.append([_alert(1)], HybridClock("k"))
        raise RuntimeError("boom")
    assert store.count() == 0


def test_a_store_from_a_newer_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    EventStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer Nowserving"):
        EventStore(path)
    assert path.read_bytes() == before


def test_a_damaged_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="damaged or is not a Nowserving store"):
        EventStore(path)
    assert path.read_bytes() == before


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(StoreError, match="another program"):
        EventStore(path)


def test_a_full_disk_is_a_clear_error_and_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    EventStore(path).close()
    store = EventStore(path, max_pages=40)
    clock = HybridClock("k")
    committed = 0
    with pytest.raises(StoreFullError, match="full: nothing was saved"):
        for n in range(10_000):
            with store.write():
                store.append([_alert(n)], clock)
            committed += 1
    assert committed > 0
    assert store.count() == committed
    assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    assert EventStore(path).count() == committed


def _issue_many(path: str, device: str, count: int) -> None:
    service = LocalService(EventStore(path), load_config(sample_config()), device)
    for _ in range(count):
        service.issue("permits")


def test_two_processes_issue_at_once_without_a_collision(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    EventStore(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_issue_many, args=(str(path), f"kiosk-{n}", 60)) for n in (1, 2, 3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    service = LocalService(EventStore(path), load_config(sample_config()), "desk-1")
    numbers = sorted(t.number for t in service.state.tickets.values())
    assert numbers == list(range(1, 181))


def test_request_ids_are_kept_with_their_events_and_forgotten_after_days(
    service: LocalService,
) -> None:
    with service.request("kiosk-1", "key-0123456789"):
        first = service.issue("permits")
    with service.request("kiosk-1", "key-0123456789"):
        again = service.issue("permits")
    with service.request("kiosk-2", "key-0123456789"):  # another device's id: its own
        other = service.issue("permits")
    assert again.id == first.id and again.token == first.token and other.id != first.id
    assert service.state.tickets[first.id].number == 1 and len(service.state.tickets) == 2
    assert service.store.forget_requests(service.today()) == 0  # today's stay
    assert service.store.forget_requests("9999-12-31") == 2


def test_peek_sees_what_is_committed_without_waiting_for_a_write_in_progress(
    tmp_path: Path,
) -> None:
    # The hub's event loop looks up bearer tokens with peek(): it must never wait behind
    # a commit, and must see a session (or a revocation) as soon as it is committed.
    store = EventStore(tmp_path / "office.sqlite")
    store.add_session("h1", "maria", "desk-1", 10.0)
    with store.write():  # holds the store's lock and SQLite's write lock
        store.db.conn.execute("DELETE FROM sessions WHERE hash = 'h1'")
        assert store.session("h1", quick=True) == ("maria", "desk-1", 10.0)
    assert store.session("h1", quick=True) is None
    store.close()
