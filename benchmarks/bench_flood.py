"""Kiosk issue latency while one address floods the hub with idle and slow connections.

    .venv/bin/python benchmarks/bench_flood.py [--connections 2000] [--issues 200]

Starts a real hub process on loopback, measures issuing without a flood, then with
`--connections` idle and byte-a-second connections from 127.0.0.2 (reopened as the hub
closes them), and prints the median and p99 of each, and the size of the hub's log.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_hub import Keepalive  # this script's folder is on the path

from tests.hub.conftest import KIOSK, start_hub, stop_hub
from tests.hub.flood import flooding, percentile, raise_open_files


def bench_issue(url: str, count: int) -> list[float]:
    """Seconds per `POST /api/tickets` from a kiosk, `count` times on one connection."""
    kiosk, body = Keepalive(url, KIOSK), json.dumps({"line": "payments"}).encode()
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        if kiosk("POST", "/api/tickets", body) != 201:
            raise RuntimeError("the hub refused an issue")
        timings.append(time.perf_counter() - began)
    return timings


def summary(name: str, timings: list[float]) -> str:
    median, p99 = statistics.median(timings) * 1000, percentile(timings, 0.99) * 1000
    return f"{name:<28} median {median:6.1f} ms   p99 {p99:6.1f} ms   max {max(timings):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--issues", type=int, default=200)
    args = parser.parse_args()
    if not raise_open_files(args.connections + 512):
        sys.exit(f"raise the hard limit of open files to {args.connections + 512} first")
    with tempfile.TemporaryDirectory() as folder:
        hub = start_hub(Path(folder))
        try:
            print(summary("kiosk issue, no flood", bench_issue(hub.url, args.issues)))
            port = int(hub.url.rsplit(":", 1)[1])
            with flooding(port, "127.0.0.2", args.connections) as flood:
                if not flood.pressure.wait(60):
                    sys.exit("the hub never closed the flood's connections")
                timings = bench_issue(hub.url, args.issues)
            print(summary(f"kiosk issue, {args.connections} flooding", timings))
            print(f"flood: {flood.opened} connections opened, {flood.closed_by_hub} closed by hub")
        finally:
            stop_hub(hub)
        print(f"hub log: {(Path(folder) / 'hub.log').stat().st_size} bytes")


if __name__ == "__main__":
    main()
