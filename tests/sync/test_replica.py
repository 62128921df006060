"""Replicas on other PCs against a real hub process: online, cut off, and back."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nowserving import __version__
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import load_config
from nowserving.domain.state import Status
from nowserving.store.eventstore import LEASE_BASE
from nowserving.sync.client import LEASE_LOW, HubClient, HubRefused
from nowserving.sync.replica import ReplicaService, open_replica
from tests.conftest import FakeClock
from tests.hub.conftest import DESK, PINS, RunningHub, start_hub, stop_hub
from tests.sync.waiting import wait_until


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    running = start_hub(tmp_path / "hub")
    yield running
    stop_hub(running)


def replica(hub: RunningHub, folder: Path, device: str, **kwargs: object) -> ReplicaService:
    config = load_config(hub.config)
    entry = next(d for d in config.devices if d.id == device)
    node = ReplicaService(
        open_replica(folder / f"{device}.sqlite"), config, entry, hub.url, interval=0.05, **kwargs
    )  # type: ignore[arg-type]
    wait_until(lambda: node.sync.status.online)
    return node


def restart(hub: RunningHub) -> RunningHub:
    return start_hub(hub.data.parent, port=int(hub.url.rsplit(":", 1)[1]))


def settled(node: ReplicaService) -> bool:
    return node.sync.status.online and node.sync.status.outbox == 0


def test_a_kiosk_issues_through_the_hub_and_from_its_lease_when_cut_off(
    hub: RunningHub, tmp_path: Path
) -> None:
    kiosk = replica(hub, tmp_path, "kiosk-1")
    day = kiosk.today()
    wait_until(
        lambda: all(kiosk.store.leased_left(day, line.id) >= 8 for line in kiosk.config.lines)
    )
    online = kiosk.issue("permits")
    assert online.label == "A-001"  # the hub's own sequence
    wait_until(lambda: online.id in kiosk.state.tickets)  # pulled into the replica
    stop_hub(hub)
    offline = kiosk.issue("permits", lang="vi")
    assert int(offline.label.split("-")[1]) >= LEASE_BASE  # from the leased block
    assert kiosk.ticket_status(offline.token).ahead == 1  # still in line behind A-001
    back = restart(hub)
    try:
        wait_until(lambda: settled(kiosk))
        page = back.get(f"/api/tickets/{offline.token}")
        assert page.status_code == 200 and page.json()["label"] == offline.label
        assert back.issue("permits")["ticket"]["label"] == "A-002"  # no number reused
    finally:
        kiosk.close()
        stop_hub(back)


def test_desks_cut_off_from_each_other_agree_on_who_called_first(
    hub: RunningHub, tmp_path: Path
) -> None:
    hub.issue("licenses")
    first = replica(hub, tmp_path, "desk-1")
    second = replica(hub, tmp_path, "desk-2")
    for node in (first, second):
        wait_until(lambda node=node: len(node.state.tickets) == 1)
    stop_hub(hub)
    first.record_sign_in("maria", "c2")  # signed in while cut off: the hub takes it later
    second.record_sign_in("tom", "c3")
    mine = first.call_next("c2", staff="maria")
    time.sleep(0.01)
    theirs = second.call_next("c3", staff="tom")
    assert mine is not None and theirs is not None and mine.id == theirs.id  # same resident!
    back = restart(hub)
    try:
        for node in (first, second):
            wait_until(lambda node=node: settled(node))
        wait_until(
            lambda: all(len(n.state.calls) == 1 and n.state.conflicts for n in (first, second))
        )
        for node in (first, second):
            assert node.state.tickets[mine.id].counter == "c2"  # the earlier call won
            (conflict,) = node.state.conflicts
            assert conflict.device == second.clock.device  # desk 2 is told, everywhere
        assert (
            back.get("/api/counters/c2", "7wtzMkqDbOs3K7IyXVbWGktcHkgfHxfH").json()["current"]["id"]
            == mine.id
        )
    finally:
        first.close()
        second.close()
        stop_hub(back)


def test_a_desk_with_a_slow_clock_still_acts_after_what_it_saw(
    hub: RunningHub, tmp_path: Path
) -> None:
    five_minutes_slow = lambda: int(time.time() * 1000) - 300_000  # noqa: E731
    desk = replica(hub, tmp_path, "desk-1", now=five_minutes_slow)
    issued = hub.issue("ids")
    wait_until(lambda: issued["ticket"]["id"] in desk.state.tickets)
    desk.record_sign_in("tom", "c5")
    called = desk.call_next("c5", staff="tom")
    assert called is not None and called.id == issued["ticket"]["id"]
    wait_until(lambda: settled(desk))
    clerk = hub.sign_in("maria")
    wait_until(lambda: hub.get("/api/counters/c5", clerk).json()["current"] is not None)
    assert not desk.state.conflicts
    desk.close()


def test_sync_reads_the_clock_it_was_given(hub: RunningHub, tmp_path: Path) -> None:
    held = FakeClock(wall_ms())  # the hub's day, but standing still
    kiosk = replica(hub, tmp_path, "kiosk-1", now=held)
    try:
        wait_until(lambda: kiosk.sync.status.last_ok == held.ms)
        held.advance(seconds=90)
        wait_until(lambda: kiosk.sync.status.last_ok == held.ms)  # not time.monotonic()
        day = kiosk.today()  # leases are topped up for the office day of that clock
        wait_until(
            lambda: all(
                kiosk.store.leased_left(day, line.id) >= LEASE_LOW for line in kiosk.config.lines
            )
        )
    finally:
        kiosk.close()


def test_a_lost_or_damaged_replica_rebuilds_from_the_hub(hub: RunningHub, tmp_path: Path) -> None:
    for line in ("permits", "ids", "payments"):
        hub.issue(line)
    kiosk = replica(hub, tmp_path, "kiosk-1")
    wait_until(lambda: len(kiosk.state.tickets) == 3)
    kiosk.close()
    kiosk.store.close()
    path = tmp_path / "kiosk-1.sqlite"
    path.write_bytes(b"\x00garbage" * 1000)  # a disk error, say
    rebuilt = replica(hub, tmp_path, "kiosk-1")
    wait_until(lambda: len(rebuilt.state.tickets) == 3)
    assert list(tmp_path.glob("kiosk-1.sqlite.damaged-*"))  # kept for a look, not deleted
    rebuilt.close()
    rebuilt.store.close()
    for file in tmp_path.glob("kiosk-1.sqlite*"):
        file.unlink()
    fresh = replica(hub, tmp_path, "kiosk-1")
    wait_until(lambda: len(fresh.state.tickets) == 3)
    assert fresh.clock.device != rebuilt.clock.device  # a new writer: no sequence reuse
    fresh.close()


def test_an_outdated_device_is_refused_with_a_clear_message(hub: RunningHub) -> None:
    client = HubClient(hub.url, "Fpac3jYCoCpQWaBXGvvEjjQip_SLUYVK")
    client.session.headers["X-Nowserving-Sync"] = "0"
    with pytest.raises(HubRefused, match="update Nowserving on this device"):
        client.call("GET", "/api/sync/pull")
    client.session.headers["X-Nowserving-Sync"] = "9"
    with pytest.raises(HubRefused, match="update Nowserving on the hub"):
        client.call("GET", "/api/sync/pull")


def test_status_lists_every_device(hub: RunningHub, tmp_path: Path) -> None:
    kiosk = replica(hub, tmp_path, "kiosk-1")
    kiosk.issue("permits")
    wait_until(lambda: settled(kiosk))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nowserving",
            "status",
            "--config",
            str(hub.config),
            "--hub",
            hub.url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    kiosk.close()
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    # Nothing waiting, nothing behind, and the memory, uptime and version it reported.
    health = rf"\d+ MB\s+\d+\.\d h\s+{re.escape(__version__)}$"
    assert re.search(rf"s ago\s+0\s+0\s+{health}", rows["kiosk-1"]), rows["kiosk-1"]
    assert re.search(health, rows["hub"]), rows["hub"]  # the hub's own
    assert "never" in rows["desk-2"] and rows["desk-2"].endswith("—")


def test_sync_payloads_are_validated(hub: RunningHub) -> None:
    client = HubClient(hub.url, "Fpac3jYCoCpQWaBXGvvEjjQip_SLUYVK")
    forged = {
        "id": "x1",
        "device": "desk-1",
        "seq": 1,
        "hlc": "000000000000001.000000.desk-1",
        "kind": "ticket.called",
        "data": {"counter": "c1"},
    }
    with pytest.raises(Exception, match="its own events"):
        client.call("POST", "/api/sync/push", json={"events": [forged]})
    with pytest.raises(Exception, match="kind"):
        client.call("POST", "/api/sync/push", json={"events": [{**forged, "kind": "nope"}]})


def test_a_full_disk_on_a_replica_is_reported_and_corrupts_nothing(
    hub: RunningHub, tmp_path: Path
) -> None:
    from nowserving.store.eventstore import EventStore

    for _ in range(300):
        hub.issue("payments")
    config = load_config(hub.config)
    device = next(d for d in config.devices if d.id == "desk-1")
    path = tmp_path / "small.sqlite"
    empty = EventStore(path)
    pages = empty.db.conn.execute("PRAGMA page_count").fetchone()[0]
    empty.close()
    # Room for a few dozen events only: the pull must run into the limit.
    node = ReplicaService(
        EventStore(path, max_pages=pages + 8), config, device, hub.url, interval=0.05
    )
    wait_until(lambda: "full" in node.sync.status.problem)
    node.close()
    assert "nothing was saved" in node.sync.status.problem
    assert node.store.integrity() == "ok"
    held = node.store.count()
    node.store.close()
    assert EventStore(path).count() == held  # what was saved is intact


def test_an_offline_desk_says_so(hub: RunningHub, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from desk.window import DeskWindow

    desk_node = replica(hub, tmp_path, "desk-1")
    window = DeskWindow(desk_node.config, desk_node, "c2")
    qtbot.addWidget(window)
    window.show()
    window.sign_in("maria", "1234", "c2")
    qtbot.waitUntil(lambda: window.staff is not None, timeout=5000)
    assert not window.banner.isVisible()
    stop_hub(hub)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert "Working offline" in window.banner.text()
    desk_node.close()


def test_a_hub_restored_from_a_backup_gets_back_what_it_lost(
    hub: RunningHub, tmp_path: Path
) -> None:
    import sqlite3

    kiosk = replica(hub, tmp_path, "kiosk-1")
    for n in range(5):
        kiosk.report_alert("printer", f"before the backup {n}")
    wait_until(lambda: settled(kiosk))
    backup = tmp_path / "backup.sqlite"
    live, copy = sqlite3.connect(hub.data / "office.sqlite"), sqlite3.connect(backup)
    live.backup(copy)  # an online backup, as docs/deploy.md says
    live.close()
    copy.close()
    for n in range(7):
        kiosk.report_alert("printer", f"after the backup {n}")
    wait_until(lambda: settled(kiosk))
    stop_hub(hub)
    for extra in ("office.sqlite-wal", "office.sqlite-shm"):
        (hub.data / extra).unlink(missing_ok=True)
    (hub.data / "office.sqlite").write_bytes(backup.read_bytes())  # the restore
    back = restart(hub)
    try:
        writer = kiosk.clock.device
        with sqlite3.connect(hub.data / "office.sqlite") as conn:

            def held() -> int:
                return conn.execute(
                    "SELECT count(*) FROM events WHERE device = ?", (writer,)
                ).fetchone()[0]

            lost = held()
            assert lost < kiosk.store.max_seq(writer)  # the restore really lost some
            wait_until(lambda: held() == kiosk.store.max_seq(writer))
    finally:
        kiosk.close()
        stop_hub(back)


def test_a_garbled_answer_is_a_hub_problem_not_the_end_of_sync(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from nowserving.domain.errors import HubUnavailable

    class CutOff(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)  # headers, then the connection drops: no body
            self.send_header("Content-Type", "application/json")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), CutOff)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = HubClient(f"http://127.0.0.1:{server.server_port}", "secret")
        with pytest.raises(HubUnavailable, match="garbled or cut off"):
            client.call("GET", "/api/sync/pull")
    finally:
        server.shutdown()
        server.server_close()


def test_an_online_desk_has_the_hub_decide_and_shows_its_answer_at_once(
    hub: RunningHub,
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    import sqlite3

    from desk.window import DeskWindow

    waiting = hub.issue("ids")["ticket"]
    desk_node = replica(hub, tmp_path, "desk-1")
    window = DeskWindow(desk_node.config, desk_node, "c5")
    qtbot.addWidget(window)
    window.show()
    window.sign_in("maria", "9999", "c5")  # the hub checks the PIN, and refuses this one
    qtbot.waitUntil(lambda: "Wrong staff member or PIN" in window.signin.message.text())
    window.sign_in("maria", "1234", "c5")
    qtbot.waitUntil(lambda: window.staff is not None, timeout=5000)
    with qtbot.waitSignal(window.done, timeout=5000, check_params_cb=lambda a, _: a == "call_next"):
        window.counter_panel.trigger("call_next")
    assert window.counter_panel.number.text() == waiting["label"]  # shown at once, from the hub
    with sqlite3.connect(hub.data / "office.sqlite") as conn:
        decided = conn.execute(
            "SELECT device, json_extract(data, '$.request') FROM events "
            "WHERE kind = 'ticket.called' AND ticket = ?",
            (waiting["id"],),
        ).fetchall()
    assert len(decided) == 1 and decided[0][0] == "hub" and decided[0][1].startswith("desk-1/")
    desk_node.close()


def test_a_refused_event_is_not_sent_again_and_leaves_the_replica_projection(
    hub: RunningHub, tmp_path: Path
) -> None:
    issued = hub.issue("ids")["ticket"]["id"]
    desk = replica(hub, tmp_path, "desk-1")
    sent: list[str] = []
    call = desk.hub.call

    def counting(method: str, path: str, **kwargs: Any) -> Any:
        if path == "/api/sync/push":
            sent.extend(event["id"] for event in kwargs["json"]["events"])
        return call(method, path, **kwargs)

    desk.hub.call = counting  # type: ignore[method-assign]
    try:
        wait_until(lambda: issued in desk.state.tickets)
        called = desk.call_next("c5", staff="tom")  # tom never signed in at this desk
        assert called is not None and called.id == issued  # here it looked fine at first
        (event,) = desk.store.own_events_after(desk.clock.device, 0)
        wait_until(lambda: desk.state.tickets[issued].status is Status.WAITING)  # withdrawn
        for _ in range(3):  # three more full rounds: the refused event never goes out again
            began = desk.clock_now()
            wait_until(lambda began=began: (desk.sync.status.last_ok or 0) > began)
        assert sent.count(event.id) == 1
        assert desk.sync.pending() == 0 and not desk.state.conflicts
        assert hub.get("/api/counters/c5", DESK).json()["current"] is None
    finally:
        desk.close()


def test_a_clerk_the_desks_copy_of_the_office_does_not_know_yet_signs_in(
    hub: RunningHub, tmp_path: Path
) -> None:
    config = load_config(hub.config)
    desk = next(d for d in config.devices if d.id == "desk-1")
    older = config.model_copy(update={"staff": [s for s in config.staff if s.id != "tom"]})
    node = ReplicaService(open_replica(tmp_path / "desk.sqlite"), older, desk, hub.url, interval=60)
    try:
        wait_until(lambda: node.sync.status.online or node.sync.status.last_ok is not None, 30)
        person = node.sign_in("tom", PINS["tom"])  # added at the hub a moment ago
        assert person.id == "tom" and person.name == "Tom"
    finally:
        node.close()
