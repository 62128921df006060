"""One call, 2,000 phones: the hub's CPU time per call and call -> last phone, hub on one core.

    .venv/bin/python benchmarks/bench_fanout.py [--phones 2000] [--calls 6] [--day 10000]
        [--core 0]

A real hub process pinned to one core (`--core`, as in bench_surge.py) opens on a day
already holding `--day` tickets; `--phones` residents with tickets in the "ids" line
follow them live. The phones are raw asyncio sockets on the other cores (no HTTP
client library: reading 2,000 streams must cost the bench little, or it measures
itself). Then `--calls` calls at counter c5, each moving every waiting follower: for
each, the time until the last phone heard it, and the CPU time the hub process spent
meanwhile (from /proc, less its idle rate), which the machine's load moves much less
than the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_hub import cpu_seconds
from bench_surge import SURGE_CONFIG, pin, prefill

from tests.hub.conftest import DESK, KIOSK, PINS, start_hub, stop_hub


class Phone:
    """One resident's stream, read line by line from a bare socket."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.last = b""  # the latest data line
        self.connected = asyncio.Event()
        self.armed = False
        self.heard: float | None = None  # time.monotonic() of the first frame once armed

    async def follow(self, host: str, port: int) -> None:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        writer.write(f"GET /api/tickets/{self.token}/events HTTP/1.1\r\nHost: hub\r\n\r\n".encode())
        while line := await reader.readline():
            if line.startswith(b"data:"):
                self.last = line
                self.connected.set()
                if self.armed and self.heard is None:
                    self.heard = time.monotonic()


async def calls(url: str, clerk: str, tokens: list[str], pid: int, count: int) -> None:
    host, port = url.rsplit("//", 1)[1].split(":")
    phones = [Phone(token) for token in tokens]
    following = [asyncio.create_task(p.follow(host, int(port))) for p in phones]
    await asyncio.wait_for(asyncio.gather(*(p.connected.wait() for p in phones)), 120)
    await asyncio.sleep(6)  # past the hub's first read of every follower
    began, cpu = time.monotonic(), cpu_seconds(pid)
    await asyncio.sleep(2)
    idle = (cpu_seconds(pid) - cpu) / (time.monotonic() - began)
    lasts, cpus = [], []
    for _ in range(count):
        armed = [p for p in phones if b'"waiting"' in p.last]
        for phone in armed:
            phone.armed, phone.heard = True, None
        cpu, called = cpu_seconds(pid), time.monotonic()
        answer = await asyncio.to_thread(
            requests.post,
            url + "/api/counters/c5/call-next",
            headers={"Authorization": f"Bearer {clerk}"},
            timeout=30,
        )
        deadline = called + 20
        while any(p.heard is None for p in armed) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        done = time.monotonic()
        cpus.append(cpu_seconds(pid) - cpu - idle * (done - called))
        heard = sorted(p.heard - called for p in armed if p.heard is not None)
        lasts.append(heard[-1] if len(heard) == len(armed) else float("inf"))
        print(
            f"call {answer.status_code}: {len(heard)} of {len(armed)} phones heard it; "
            f"median {statistics.median(heard) * 1000:.0f} ms, last {lasts[-1] * 1000:.0f} ms; "
            f"hub CPU {cpus[-1] * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for phone in armed:
            phone.armed = False
        await asyncio.sleep(1.5)
    print(
        f"{count} calls, {len(phones)} phones: call -> last phone median "
        f"{statistics.median(lasts) * 1000:.0f} ms, worst {max(lasts) * 1000:.0f} ms; "
        f"hub CPU per call median {statistics.median(cpus) * 1000:.0f} ms "
        f"(idle {idle * 100:.1f} % of a core)"
    )
    for task in following:
        task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--day", type=int, default=10_000, help="tickets already today")
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        prefill(folder, args.day)
        hub = start_hub(folder, extra_config=SURGE_CONFIG)
        try:
            pin(hub.process.pid, args.core)
            others = os.sched_getaffinity(0) - {args.core}
            if others:
                os.sched_setaffinity(0, others)
            session = requests.Session()
            clerk = session.post(
                hub.url + "/api/staff/login",
                json={"staff": "maria", "pin": PINS["maria"]},
                headers={"Authorization": f"Bearer {DESK}"},
            ).json()["token"]
            tokens = [
                session.post(
                    hub.url + "/api/tickets",
                    json={"line": "ids"},
                    headers={"Authorization": f"Bearer {KIOSK}"},
                ).json()["token"]
                for _ in range(args.phones)
            ]
            pin(hub.process.pid, args.core)  # threads the hub started meanwhile
            asyncio.run(calls(hub.url, clerk, tokens, hub.process.pid, args.calls))
        finally:
            stop_hub(hub)


if __name__ == "__main__":
    main()
