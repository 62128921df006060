"""Real processes on loopback: hubs killed, networks misbehaving, kiosks killed mid-write."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nowserving.domain.config import load_config
from nowserving.domain.rules import ticket_id
from nowserving.domain.state import OfficeState, replay
from nowserving.store.eventstore import EventStore
from tests.hub.conftest import RunningHub, start_hub, stop_hub
from tests.sync.proxy import ChaosProxy

pytestmark = pytest.mark.slow
THIRD_KIOSK = (
    '\n[[devices]]\nid = "kiosk-3"\nrole = "kiosk"\nsecret = "third-kiosk-secret-0123456789"\n'
)


def node(
    hub_url: str, config: Path, device: str, folder: Path, count: int, counter: str = ""
) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "tests.sync.node",
        "--hub",
        hub_url,
        "--config",
        str(config),
        "--device",
        device,
        "--folder",
        str(folder),
        "--count",
        str(count),
    ]
    if counter:
        command += ["--counter", counter]
    with (folder.parent / f"{device}.log").open("a") as log:  # kept, for a failing run
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=Path(__file__).parents[2]
        )


def outputs(process: subprocess.Popen[str], timeout: float = 120) -> list[dict[str, Any]]:
    out, _ = process.communicate(timeout=timeout)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def first_results(process: subprocess.Popen[str], count: int) -> list[dict[str, Any]]:
    """Read a node's output until it has shown `count` tickets (however slow the machine is)."""
    assert process.stdout is not None
    shown: list[dict[str, Any]] = []
    while len([r for r in shown if "label" in r]) < count:
        line = process.stdout.readline()
        assert line, f"the node stopped after {len(shown)} results"
        if line.startswith("{"):
            shown.append(json.loads(line))
    return shown


def wait_issuing(hub: RunningHub, devices: list[str], seconds: float = 90) -> None:
    """Wait until each kiosk has issued through the hub (started, even on a loaded machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sqlite3.connect(hub.data / "office.sqlite") as conn:
            asked = {
                row[0].split("/", 1)[0]
                for row in conn.execute(
                    "SELECT json_extract(data, '$.request') FROM events "
                    "WHERE kind = 'ticket.issued' AND json_extract(data, '$.request') IS NOT NULL"
                )
            }
        if asked.issuperset(devices):
            return
        time.sleep(0.05)
    raise AssertionError(f"not every kiosk of {devices} issued within {seconds} s")


def hub_tickets(hub: RunningHub) -> dict[str, str]:
    """ticket id -> label, read straight from the hub's SQLite file."""
    with sqlite3.connect(hub.data / "office.sqlite") as conn:
        rows = conn.execute(
            "SELECT ticket, json_extract(data, '$.label') FROM events WHERE kind = 'ticket.issued'"
        ).fetchall()
    assert len(rows) == len({row[0] for row in rows}), "a ticket was stored twice"
    return dict(rows)


def hub_projection(hub: RunningHub) -> OfficeState:
    """The hub's current day, projected from its SQLite file."""
    store = EventStore(hub.data / "office.sqlite")
    try:
        day = sorted({e.day for _, e in store.events_after(0) if e.day})[-1]
        return replay(day, store.events_for_day(day))
    finally:
        store.close()


def test_three_kiosks_through_hub_crashes_and_a_bad_network(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub", extra_config=THIRD_KIOSK)
    port = int(hub.url.rsplit(":", 1)[1])
    with ChaosProxy(port, drop=0.1, cut=0.3, delay=0.03) as proxy:
        via = f"http://127.0.0.1:{proxy.port}"
        kiosks = [node(via, hub.config, f"kiosk-{n}", tmp_path / f"pc{n}", 40) for n in (1, 2, 3)]
        wait_issuing(hub, ["kiosk-1", "kiosk-2", "kiosk-3"])
        for _ in range(3):  # the hub's PC crashes, again and again
            time.sleep(1.5)
            hub.process.send_signal(signal.SIGKILL)
            hub.process.wait()
            time.sleep(2.5)  # longer than a kiosk retries an unanswered issue: it uses its lease
            hub = start_hub(tmp_path / "hub", extra_config=THIRD_KIOSK, port=port)
        reports = [outputs(k) for k in kiosks]
    try:
        assert all(report[-1].get("settled") for report in reports), "a kiosk could not settle"
        shown = [r for report in reports for r in report if "label" in r]
        assert len(shown) == 120
        # The bad network bit (a few connections lost; how many depends on the retry timing).
        assert proxy.stats["dropped"] + proxy.stats["cut"] >= 3, proxy.stats
        at_hub = hub_tickets(hub)
        for ticket in shown:
            assert at_hub.get(ticket["id"]) == ticket["label"], ticket  # exactly once
        labels = Counter(at_hub.values())
        assert max(labels.values()) == 1, "a number was given twice"
        # Afterwards, once every node is back in touch, each holds exactly what the hub holds
        # (a ticket the hub made for an answer that was lost is folded into the kiosk's own).
        held = set(hub_projection(hub).tickets)
        assert held == {ticket["id"] for ticket in shown}, "one ticket per resident"
        for n in (1, 2, 3):
            final = outputs(node(hub.url, hub.config, f"kiosk-{n}", tmp_path / f"pc{n}", 0))[-1]
            assert final["settled"] and set(final["holds"]) == held, f"kiosk-{n} differs"
        offline = [t for t in shown if int(t["label"].split("-")[1]) >= 500]
        assert offline, "no kiosk ever had to use its lease: the faults did not bite"
    finally:
        stop_hub(hub)


def test_kill_nine_keeps_every_ticket_that_was_shown(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub")
    try:
        kiosk = node(hub.url, hub.config, "kiosk-1", tmp_path / "pc1", 10_000)
        before = first_results(kiosk, 11)  # under way, whatever the machine's load
        kiosk.send_signal(signal.SIGKILL)  # power cut in the middle of writes
        shown = [r for r in before + outputs(kiosk) if "label" in r]
        assert len(shown) > 10
        replica = tmp_path / "pc1" / "kiosk-1.sqlite"
        with sqlite3.connect(replica) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        held = EventStore(replica)
        day = sorted({e.day for _, e in held.events_after(0) if e.day})[-1]
        state = replay(day, held.events_for_day(day))
        for ticket in shown:
            assert ticket["id"] in state.tickets or ticket["id"] in hub_tickets(hub)
        held.close()
        # The desk, killed while calling residents.
        desk = node(hub.url, hub.config, "desk-1", tmp_path / "pc2", 10_000, counter="c2")
        before = first_results(desk, 1)
        desk.send_signal(signal.SIGKILL)
        called = [r for r in before + outputs(desk) if "label" in r]
        with sqlite3.connect(tmp_path / "pc2" / "desk-1.sqlite") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            mine = {
                row[0]
                for row in conn.execute("SELECT ticket FROM events WHERE kind = 'ticket.called'")
            }
        assert {c["id"] for c in called} <= mine
        # The hub, killed while a kiosk writes through it; what it confirmed survives.
        confirmed = []
        for n in range(400):
            try:
                confirmed.append(hub.issue("ids"))
            except Exception:
                break
            if n == 150:
                hub.process.send_signal(signal.SIGKILL)
        hub.process.wait()
        with sqlite3.connect(hub.data / "office.sqlite") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        hub = start_hub(tmp_path / "hub", port=int(hub.url.rsplit(":", 1)[1]))
        at_hub = hub_tickets(hub)
        assert all(ticket_id(t["token"]) in at_hub for t in confirmed)
        # The killed kiosk comes back and hands over what it had not pushed yet.
        again = node(hub.url, hub.config, "kiosk-1", tmp_path / "pc1", 0)
        assert outputs(again)[-1]["settled"]
        at_hub = hub_tickets(hub)
        assert all(t["id"] in at_hub for t in shown)
    finally:
        stop_hub(hub)
        assert load_config(hub.config)
