"""Call-to-screen latency: a desk in another process calls; how soon does the display show it?

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_display.py [--calls 200]

Both share one store file, as on the hub's PC. Latency is measured from the call
event's own timestamp to the moment the display has rendered it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DESK = """
import sys, time
from nowserving.domain.config import load_config
from nowserving.system.paths import sample_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
desk = LocalService(EventStore(sys.argv[1]), load_config(sample_config()), "desk-1")
for _ in range(int(sys.argv[2])):
    desk.issue("payments")
    desk.call_next("c6")
    time.sleep(0.15)
"""


HTTP_DESK = """
import sys, time, requests
url, calls = sys.argv[1], int(sys.argv[2])
kiosk = {"Authorization": "Bearer Fpac3jYCoCpQWaBXGvvEjjQip_SLUYVK"}
desk = {"Authorization": "Bearer 7wtzMkqDbOs3K7IyXVbWGktcHkgfHxfH"}
token = requests.post(url + "/api/staff/login", json={"staff": "maria", "pin": "1234"},
                      headers=desk).json()["token"]
for _ in range(calls):
    requests.post(url + "/api/tickets", json={"line": "payments"}, headers=kiosk)
    requests.post(url + "/api/counters/c6/call-next", headers={"Authorization": "Bearer " + token})
    time.sleep(0.15)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--hub", action="store_true", help="across the network: desk -> hub API -> SSE -> display"
    )
    args = parser.parse_args()

    from display.app import build
    from nowserving.domain.config import load_config
    from nowserving.service.local import LocalService
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import sample_config
    from nowserving_qt.bootstrap import Session, application, pick_device

    app = application("display")
    config = load_config(sample_config())
    path = Path(tempfile.mkdtemp()) / "office.sqlite"
    if args.hub:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from display.app import build_remote
        from nowserving.sync.board_stream import HubBoard
        from tests.hub.conftest import DISPLAY, start_hub, stop_hub

        hub = start_hub(path.parent)
        window = build_remote(config, HubBoard(hub.url, DISPLAY, config), tts_engine="mock")
        desk_command = [sys.executable, "-c", HTTP_DESK, hub.url, str(args.calls)]
    else:
        service = LocalService(EventStore(path), config, "display-1")
        window = build(
            Session(config, pick_device(config, "display", None), service), tts_engine="mock"
        )
        desk_command = [sys.executable, "-c", DESK, str(path), str(args.calls)]
    window.setFixedSize(1920, 1080)
    window.show()
    latencies: list[float] = []
    seen: set[str] = set()
    desk = subprocess.Popen(desk_command)
    deadline = time.monotonic() + args.calls * 0.5 + 30
    while len(latencies) < args.calls and time.monotonic() < deadline:
        app.processEvents()
        board = window.board
        if board and board.calls and board.calls[0].event_id not in seen:
            call = board.calls[0]
            seen.add(call.event_id)
            if window.now_label.text() == call.label:
                latencies.append(time.time() * 1000 - call.at)
        time.sleep(0.002)
    desk.wait()
    if args.hub:
        stop_hub(hub)
    ordered = sorted(latencies)
    where = "through the hub's stream" if args.hub else "same PC"
    print(
        f"call to screen, {where} ({len(ordered)} calls, display polls every "
        f"{window.watcher._timer.interval()} ms): median {statistics.median(ordered):.0f} ms, "
        f"p99 {ordered[int(len(ordered) * 0.99) - 1]:.0f} ms, max {ordered[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
