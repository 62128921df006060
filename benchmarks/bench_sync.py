"""Sync speed: a device that was cut off with a backlog, converging with the hub.

    .venv/bin/python benchmarks/bench_sync.py [--events 10000]

A kiosk replica writes `--events` events while the hub is down (tickets issued
from its lease, plus alerts), then the hub comes up and the script times how
long until the hub holds all of them, and the pull of the hub's log to a fresh
replica. Both over real HTTP on loopback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nowserving.domain.config import load_config
from nowserving.sync.replica import ReplicaService, open_replica
from tests.hub.conftest import start_hub, stop_hub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    hub = start_hub(folder / "hub")
    config = load_config(hub.config)
    kiosk_device = next(d for d in config.devices if d.id == "kiosk-1")
    kiosk = ReplicaService(
        open_replica(folder / "kiosk.sqlite"), config, kiosk_device, hub.url, interval=0.05
    )
    while not kiosk.sync.status.online:
        time.sleep(0.05)
    time.sleep(0.5)  # leases in
    port = int(hub.url.rsplit(":", 1)[1])
    stop_hub(hub)
    with kiosk.store.write():  # a long outage's worth of events, written straight to the log
        lines = [line.id for line in config.lines]
        for n in range(args.events):
            kiosk.store.add_lease(kiosk.today(), lines[n % len(lines)], 500 + n, 501 + n)
    began = time.perf_counter()
    for n in range(args.events):
        kiosk.report_alert("printer", "" if n % 2 else "Paper low")
    print(f"backlog: {args.events} events written offline in {time.perf_counter() - began:.1f} s")
    hub = start_hub(folder / "hub", port=port)
    began = time.perf_counter()
    while kiosk.sync.status.outbox > 0 or not kiosk.sync.status.online:
        time.sleep(0.01)
    pushed = time.perf_counter() - began
    print(
        f"converged (hub holds the whole backlog): {pushed:.2f} s, "
        f"{args.events / pushed:,.0f} events/s pushed"
    )
    desk_device = next(d for d in config.devices if d.id == "desk-1")
    began = time.perf_counter()
    fresh = ReplicaService(
        open_replica(folder / "fresh.sqlite"), config, desk_device, hub.url, interval=0.05
    )
    total = hub_total = fresh.store.count()
    while total < args.events:
        time.sleep(0.01)
        total = fresh.store.count()
    pulled = time.perf_counter() - began
    print(
        f"a new replica pulled {total:,} events in {pulled:.2f} s, "
        f"{total / pulled:,.0f} events/s (started from {hub_total})"
    )
    kiosk.close()
    fresh.close()
    stop_hub(hub)


if __name__ == "__main__":
    main()
