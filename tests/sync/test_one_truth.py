"""One office, one truth: real hub and desk processes on loopback, pressing Call next together."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nowserving.domain.config import load_config
from nowserving.domain.state import OfficeState, Status
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.sync.replica import ReplicaService, open_replica
from tests.hub.conftest import PINS, RunningHub, start_hub, stop_hub
from tests.sync.proxy import ChaosProxy
from tests.sync.test_faults import hub_projection, node, outputs, wait_issuing
from tests.sync.test_replica import wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


class Desk:
    """A desk process; one JSON line answers each command."""

    def __init__(self, hub: str, config: Path, device: str, folder: Path, staff: str, counter: str):
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "tests.sync.desk_node", "--hub", hub]
        command += ["--config", str(config), "--device", device, "--folder", str(folder)]
        command += ["--staff", staff, "--pin", PINS[staff], "--counter", counter]
        with (folder / "desk.log").open("a") as log:  # kept, for a failing run
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=ROOT,
            )
        assert self.read()["ready"], f"{device} could not sign in at the hub"

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the desk process ended"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            self.send("quit")
        try:
            self.process.communicate(timeout=15)  # and close the pipes
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()


def both_call(desks: list[Desk]) -> list[dict[str, Any]]:
    """Both clerks press Call next at the same instant: each process is waiting on its pipe."""
    for desk in desks:
        desk.send("call")
    return [desk.read() for desk in desks]


def issue_many(hub: RunningHub, line: str, count: int) -> None:
    """Residents take tickets at a kiosk on the hub's PC (sharing its file: quicker)."""
    kiosk = LocalService(EventStore(hub.data / "office.sqlite"), load_config(hub.config), "kiosk-1")
    for _ in range(count):
        kiosk.issue(line)
    kiosk.store.close()


def at_one_counter(state: OfficeState) -> None:
    """Nobody is called to two counters, by the log or on the board."""
    store_calls = Counter(c.ticket for c in state.calls)
    assert max(store_calls.values(), default=1) == 1, "the board sends someone to two counters"
    current = [c.current for c in state.counters.values() if c.current]
    assert len(current) == len(set(current)), "one resident at two counters"


def test_two_desks_pressing_call_next_together_500_times_never_share_a_resident(
    tmp_path: Path,
) -> None:
    hub = start_hub(tmp_path / "hub")
    rounds = 500
    issue_many(hub, "licenses", 2 * rounds)  # the one line both counters serve
    desks = [
        Desk(hub.url, hub.config, "desk-1", tmp_path / "pc1", "maria", "c2"),
        Desk(hub.url, hub.config, "desk-2", tmp_path / "pc2", "tom", "c3"),
    ]
    try:
        shared, offline = 0, 0
        for _ in range(rounds):
            left, right = both_call(desks)
            assert left.get("id") and right.get("id"), (left, right)
            shared += left["id"] == right["id"]
            offline += not (left["online"] and right["online"])
        assert shared == 0, f"{shared} of {rounds} rounds called one resident to two counters"
        assert offline == 0, "the hub was in touch all along: it decided every call"
        state = hub_projection(hub)
        called = [t.id for t in state.tickets.values() if t.status is not Status.WAITING]
        assert len(called) == 2 * rounds and not state.conflicts
        at_one_counter(state)
        with sqlite3.connect(hub.data / "office.sqlite") as conn:
            signed = conn.execute(
                "SELECT staff, json_extract(data, '$.desk') FROM events "
                "WHERE kind = 'staff.signed_in'"
            ).fetchall()
        assert set(signed) == {("maria", "desk-1"), ("tom", "desk-2")}, "PINs checked at the hub"
    finally:
        for desk in desks:
            desk.close()
        stop_hub(hub)


def test_a_partition_between_calls_resolves_by_clock_and_tells_the_losing_desk(
    tmp_path: Path,
) -> None:
    hub = start_hub(tmp_path / "hub")
    issue_many(hub, "licenses", 40)
    port = int(hub.url.rsplit(":", 1)[1])
    with ChaosProxy(port, drop=0, cut=0, delay=0) as network:
        cut_off = f"http://127.0.0.1:{network.port}"
        desks = [
            Desk(hub.url, hub.config, "desk-1", tmp_path / "pc1", "maria", "c2"),
            Desk(cut_off, hub.config, "desk-2", tmp_path / "pc2", "tom", "c3"),
        ]
        try:
            for _ in range(5):
                assert all(answer["online"] for answer in both_call(desks))
            network.partition()
            apart = [both_call(desks) for _ in range(6)]
            assert not any(right["online"] for _, right in apart[1:]), "desk-2 decided itself"
            network.partition(cut=False)
            for _ in range(2):  # the second time, each has what the others pushed the first
                reports = []
                for desk in desks:
                    desk.send("settle")
                    reports.append(desk.read())
        finally:
            for desk in desks:
                desk.close()
    try:
        assert all(report["settled"] for report in reports), reports
        state = hub_projection(hub)
        lost = {c.event_id for c in state.conflicts}
        assert lost, "the partition made no conflict: both desks would have called the same"
        told = {event for report in reports for event in report["lost"]}
        assert told == lost, "each losing desk is told of exactly its lost calls"
        at_one_counter(state)
    finally:
        stop_hub(hub)


def test_a_hub_killed_with_issues_in_flight_leaves_one_ticket_per_resident(
    tmp_path: Path,
) -> None:
    hub = start_hub(tmp_path / "hub")
    port = int(hub.url.rsplit(":", 1)[1])
    kiosks = [node(hub.url, hub.config, f"kiosk-{n}", tmp_path / f"pc{n}", 100) for n in (1, 2)]
    try:
        wait_issuing(hub, ["kiosk-1", "kiosk-2"])  # busy issuing before the first crash
        for n in range(6):  # the hub's PC dies again and again, mid-request
            time.sleep(0.8 + 0.15 * n)
            hub.process.send_signal(signal.SIGKILL)
            hub.process.wait()
            if n % 2 == 0:
                time.sleep(2.5)  # down for longer than a kiosk retries: it uses its lease
            hub = start_hub(tmp_path / "hub", port=port)
        reports = [outputs(k, timeout=240) for k in kiosks]
        assert all(report[-1].get("settled") for report in reports), "a kiosk could not settle"
        shown = {r["id"]: r["label"] for report in reports for r in report if "label" in r}
        assert len(shown) == 200
        state = hub_projection(hub)
        held = {t.id: t.label for t in state.tickets.values()}
        assert held == shown, "every resident holds exactly one ticket, and no phantom waits"
        assert all(t.status is Status.WAITING for t in state.tickets.values())
        assert not state.conflicts, "staff see nothing odd"
        offline = [label for label in shown.values() if int(label.split("-")[1]) >= 500]
        assert offline, "no kiosk ever had to use its lease: the kills did not bite"
    finally:
        stop_hub(hub)


def test_an_issue_whose_answer_was_lost_and_whose_phantom_was_called_ends_as_one_ticket(
    tmp_path: Path,
) -> None:
    hub = start_hub(tmp_path / "hub")
    port = int(hub.url.rsplit(":", 1)[1])
    config = load_config(hub.config)
    device = next(d for d in config.devices if d.id == "kiosk-1")
    clerk = hub.sign_in("maria")
    assert hub.post("/api/counters/c1/open", clerk).ok
    with ChaosProxy(port, drop=0, cut=0, delay=0) as network:
        kiosk = ReplicaService(
            open_replica(tmp_path / "kiosk.sqlite"),
            config,
            device,
            f"http://127.0.0.1:{network.port}",
            interval=0.05,
        )
        try:
            wait_until(lambda: kiosk.store.leased_left(kiosk.today(), "permits") >= 8)
            network.answers_lost = True  # the hub takes the request; its answer is lost
            holding: list[Any] = []
            resident = threading.Thread(target=lambda: holding.append(kiosk.issue("permits")))
            resident.start()
            wait_until(lambda: hub_issued(hub) == 1)
            network.partition()  # and then the hub is out of reach: the kiosk uses its lease
            phantom = hub.post("/api/counters/c1/call-next", clerk).json()
            resident.join(timeout=15)
            (printed,) = holding
            assert printed.label != phantom["label"] and int(printed.label[2:]) >= 500
            network.answers_lost = False
            network.partition(cut=False)
            wait_until(lambda: hub.get("/api/counters/c1", clerk).json()["current"] is not None)
            wait_until(lambda: kiosk.sync.pending() == 0 and kiosk.sync.status.online)
        finally:
            kiosk.close()
    try:
        at_counter = hub.get("/api/counters/c1", clerk).json()["current"]
        assert at_counter["label"] == printed.label, "the resident's own number is called"
        calls = hub.get("/api/board", clerk).json()["calls"]
        assert [c["label"] for c in calls if c["counter"] == "c1"] == [printed.label]
        assert hub.get("/api/counters/c1/queue", clerk).json() == []  # no phantom waits
        state = hub_projection(hub)
        assert set(state.tickets) == {printed.id} and not state.conflicts
        served = hub.post(f"/api/staff/tickets/{phantom['id']}/complete", clerk)
        assert served.status_code == 404  # staff act on the ticket they now see
    finally:
        stop_hub(hub)


def hub_issued(hub: RunningHub) -> int:
    with sqlite3.connect(hub.data / "office.sqlite") as conn:
        return int(
            conn.execute("SELECT count(*) FROM events WHERE kind = 'ticket.issued'").fetchone()[0]
        )
