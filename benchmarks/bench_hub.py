"""The hub over HTTP: issue latency, and how many phones can follow their tickets live.

    .venv/bin/python benchmarks/bench_hub.py [--issues 500] [--phones 100 500 1000 2000]

Starts a real hub process on loopback. Each "phone" is an SSE connection
following its own ticket; after one call at a desk every phone's place in line
changes, and the script measures how long until the last phone has heard.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.hub.conftest import DESK, KIOSK, PINS, start_hub, stop_hub

UNLIMITED = "[hub.rate_limits]\nread = 100000\nstream = 100000\nleave = 100000\njoin = 100000\n"


def bench_issue(url: str, count: int) -> list[float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KIOSK}"
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        response = session.post(url + "/api/tickets", json={"line": "payments"}, timeout=10)
        timings.append(time.perf_counter() - began)
        response.raise_for_status()
    return timings


async def follow(
    client: httpx.AsyncClient,
    url: str,
    ready: asyncio.Event,
    heard: list[float],
    started: list[int],
) -> None:
    async with client.stream("GET", url) as response:
        events = 0
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                events += 1
                if events == 1:
                    started.append(1)
                elif events == 2:
                    heard.append(time.perf_counter())
                    return


async def bench_phones(url: str, phones: int, clerk: str) -> tuple[float, float, int]:
    tokens = []
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(phones):
            response = await client.post(
                url + "/api/tickets",
                json={"line": "ids"},
                headers={"Authorization": f"Bearer {KIOSK}"},
            )
            tokens.append(response.json()["token"])
    limits = httpx.Limits(max_connections=phones + 10, max_keepalive_connections=phones + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        heard: list[float] = []
        started: list[int] = []
        ready = asyncio.Event()
        tasks = [
            asyncio.create_task(
                follow(client, f"{url}/api/tickets/{t}/events", ready, heard, started)
            )
            for t in tokens
        ]
        deadline = time.monotonic() + 60
        while len(started) < phones and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        called_at = time.perf_counter()
        await client.post(
            url + "/api/counters/c5/call-next", headers={"Authorization": f"Bearer {clerk}"}
        )
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
    delays = sorted(moment - called_at for moment in heard)
    if not delays:
        return float("nan"), float("nan"), 0
    return statistics.median(delays), delays[-1], len(delays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--phones", type=int, nargs="+", default=[100, 500, 1000, 2000])
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as folder:
        hub = start_hub(Path(folder), extra_config=UNLIMITED)
        try:
            timings = sorted(bench_issue(hub.url, args.issues))
            print(
                f"issue over HTTP ({args.issues} tickets, one keep-alive connection): "
                f"median {statistics.median(timings) * 1000:.2f} ms, "
                f"p99 {timings[int(len(timings) * 0.99) - 1] * 1000:.2f} ms, "
                f"{len(timings) / sum(timings):.0f}/s"
            )
            clerk = requests.post(
                hub.url + "/api/staff/login",
                json={"staff": "maria", "pin": PINS["maria"]},
                headers={"Authorization": f"Bearer {DESK}"},
                timeout=10,
            ).json()["token"]
            for phones in args.phones:
                median, last, count = asyncio.run(bench_phones(hub.url, phones, clerk))
                print(
                    f"{phones:5d} phones following live: {count} heard the call's effect; "
                    f"median {median * 1000:.0f} ms, last {last * 1000:.0f} ms"
                )
        finally:
            stop_hub(hub)


if __name__ == "__main__":
    main()
