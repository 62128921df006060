"""A remote desk's Call next: time to the hub's answer, and to the lobby display.

    .venv/bin/python benchmarks/bench_remote_call.py [--calls 300]

A hub process on loopback with residents waiting; a desk replica (signed in at
the hub) presses Call next `--calls` times. "Answer" is the time until the desk
has the hub's decision (and its replica holds the event: what the clerk sees);
"display" is the time until a remote display following the hub's board stream
(Server-Sent Events) shows that call. Median and p99 of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nowserving.domain.config import load_config
from nowserving.domain.errors import HubUnavailable
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.sync.board_stream import HubBoard
from nowserving.sync.replica import ReplicaService, open_replica
from tests.hub.conftest import DISPLAY, PINS, start_hub, stop_hub


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    hub = start_hub(folder / "hub")
    config = load_config(hub.config)
    kiosk = LocalService(EventStore(hub.data / "office.sqlite"), config, "kiosk-1")
    for _ in range(args.calls):
        kiosk.issue("licenses")
    device = next(d for d in config.devices if d.id == "desk-1")
    desk = ReplicaService(open_replica(folder / "desk.sqlite"), config, device, hub.url)
    desk.sign_in("maria", PINS["maria"])
    board = HubBoard(hub.url, DISPLAY, config)
    seen: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:  # the display's side: note when each call first appears
        while not stop.is_set():
            try:
                if board.refresh():
                    now = time.perf_counter()
                    for call in board.board().calls:
                        seen.setdefault(call.ticket, now)
            except HubUnavailable:  # the stream is still connecting
                pass
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(1.0)  # the stream is up
    answers, shown = [], []
    for _ in range(args.calls):
        began = time.perf_counter()
        ticket = desk.call_next("c2", staff="maria")
        answers.append(time.perf_counter() - began)
        assert ticket is not None and not desk._hub_away(), "the hub must decide every call"
        deadline = began + 5
        while ticket.id not in seen and time.perf_counter() < deadline:
            time.sleep(0.0005)
        shown.append(seen.get(ticket.id, deadline) - began)
        time.sleep(0.02)  # a clerk does not press twice within a few ms
    stop.set()
    board.close()
    desk.close()
    stop_hub(hub)
    for name, values in (("answer", answers), ("display", shown)):
        print(
            f"Call next -> {name}: median {statistics.median(values) * 1000:.1f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.1f} ms ({len(values)} calls)"
        )


if __name__ == "__main__":
    main()
