"""The hub over HTTP: issue latency, and how many phones can follow their tickets live.

    .venv/bin/python benchmarks/bench_hub.py [--issues 500] [--phones 100 500 1000 2000]

Starts a real hub process on loopback. First the HTTP path: `--issues` rounds of
`POST /api/tickets`, `GET /api/health`, and the same POST to an empty ASGI app in
its own uvicorn process (httptools, as the hub): the floor of this machine, below
which no hub can answer. Interleaved, so that the machine's load weighs on each
alike. Then the phones: each "phone" is an SSE connection following its own
ticket; after one call at a desk every phone's place in line changes, and the
script measures how long until the last phone has heard.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from starlette.types import Receive, Scope, Send

from tests.hub.conftest import DESK, KIOSK, PINS, free_port, start_hub, stop_hub

UNLIMITED = "[hub.rate_limits]\nread = 100000\nstream = 100000\nleave = 100000\njoin = 100000\n"


async def empty_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the request, answers `{}`: what uvicorn alone costs."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


def start_floor() -> tuple[subprocess.Popen[bytes], str]:
    """`empty_app` in its own uvicorn process, as the hub runs (httptools, no access log)."""
    port = free_port()
    folder = str(Path(__file__).parent)
    command = [sys.executable, "-m", "uvicorn", "bench_hub:empty_app", "--app-dir", folder]
    command += ["--http", "httptools", "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the empty app did not start")


def bench_paths(url: str, floor: str, rounds: int) -> dict[str, list[float]]:
    """Seconds per request of each path, over one keep-alive connection each."""
    sessions = {name: requests.Session() for name in ("floor", "health", "issue")}
    sessions["issue"].headers["Authorization"] = f"Bearer {KIOSK}"
    calls: dict[str, Callable[[], requests.Response]] = {
        "empty ASGI app over uvicorn, POST": lambda: sessions["floor"].post(
            floor, json={"line": "payments"}, timeout=10
        ),
        "GET /api/health": lambda: sessions["health"].get(url + "/api/health", timeout=10),
        "POST /api/tickets": lambda: sessions["issue"].post(
            url + "/api/tickets", json={"line": "payments"}, timeout=10
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            began = time.perf_counter()
            response = call()
            timings[name].append(time.perf_counter() - began)
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
        floor, floor_url = start_floor()
        try:
            timings = bench_paths(hub.url, floor_url, args.issues)
            floor.terminate()
            print(f"loopback HTTP, {args.issues} interleaved rounds, `requests` keep-alive:")
            for name, values in timings.items():
                ordered = sorted(values)
                print(
                    f"  {name}: median {statistics.median(values) * 1000:.2f} ms, "
                    f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.2f} ms"
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
            floor.kill()
            stop_hub(hub)


if __name__ == "__main__":
    main()
