"""The hub over HTTP: issue latency, and how many phones can follow their tickets live.

    .venv/bin/python benchmarks/bench_hub.py [--issues 500] [--phones 100 500 1000 2000]
        [--core 0]

Starts a real hub process on loopback. First the HTTP path: `--issues` rounds of
`POST /api/tickets`, `GET /api/board`, `GET /api/health`, the same POST to an empty
ASGI app in its own uvicorn process (httptools, as the hub): the floor of this
machine, below which no hub can answer; and a bare one-row SQLite commit (the
store's pragmas), the least an issue must wait for. Interleaved round by round over
`http.client` keep-alive connections, so that the machine's load weighs on each
alike: the ratios to the floor and to the bare commit are what to compare between
runs, not the milliseconds. `--phones` with no number skips the phones.

Then the phones: each "phone" is an SSE connection following its own ticket;
after one call at a desk every phone's place in line changes, and the script
measures how long until the last phone has heard, and the CPU time the hub process
spent meanwhile (the machine's load moves the milliseconds, much less the CPU time).
`--core` pins the hub's threads to that core, as in bench_surge.py.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
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
from bench_scale import Bare
from bench_surge import SURGE_CONFIG, pin
from starlette.types import Receive, Scope, Send

from tests.hub.conftest import DESK, DISPLAY, KIOSK, PINS, free_port, start_hub, stop_hub


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


class Keepalive:
    """One keep-alive connection with `http.client`: a client that adds little per request."""

    def __init__(self, url: str, token: str = "") -> None:
        host, port = url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=10)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, body: bytes | None = None) -> int:
        self.connection.request(method, path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


PATHS = ["floor", "bare commit", "GET /api/health", "GET /api/board", "POST /api/tickets"]


def bench_paths(url: str, floor: str, rounds: int, folder: Path) -> dict[str, list[float]]:
    """Seconds per request of each path (and per bare commit), interleaved round by round."""
    body = json.dumps({"line": "payments"}).encode()
    empty, health = Keepalive(floor), Keepalive(url)
    display, kiosk = Keepalive(url, DISPLAY), Keepalive(url, KIOSK)
    bare = Bare(folder / "bare.sqlite")
    calls: dict[str, Callable[[], object]] = {
        "floor": lambda: empty("POST", "/", body),
        "bare commit": bare.commit,
        "GET /api/health": lambda: health("GET", "/api/health"),
        "GET /api/board": lambda: display("GET", "/api/board"),
        "POST /api/tickets": lambda: kiosk("POST", "/api/tickets", body),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            began = time.perf_counter()
            status = call()
            timings[name].append(time.perf_counter() - began)
            if status not in (None, 200, 201):
                raise RuntimeError(f"{name} answered {status}")
    return timings


def report_paths(timings: dict[str, list[float]]) -> None:
    """Medians, p99, and each median as a ratio to the floor and to the bare commit."""
    floor = statistics.median(timings["floor"])
    bare = statistics.median(timings["bare commit"])
    print("| path | median | p99 | × floor | × bare commit | above the floor |")
    print("|---|---|---|---|---|---|")
    for name in PATHS:
        ordered = sorted(timings[name])
        median = statistics.median(ordered)
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
        print(
            f"| {name} | {median * 1000:.2f} ms | {p99 * 1000:.2f} ms | {median / floor:.2f} | "
            f"{median / bare:.2f} | {(median - floor) * 1000:+.2f} ms |"
        )


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench_phones(
    url: str, phones: int, clerk: str, hub_pid: int
) -> tuple[float, float, int, float]:
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
        cpu_before = cpu_seconds(hub_pid)
        called_at = time.perf_counter()
        await client.post(
            url + "/api/counters/c5/call-next", headers={"Authorization": f"Bearer {clerk}"}
        )
        await asyncio.wait(tasks, timeout=30)
        cpu = cpu_seconds(hub_pid) - cpu_before
        for task in tasks:
            task.cancel()
    delays = sorted(moment - called_at for moment in heard)
    if not delays:
        return float("nan"), float("nan"), 0, cpu
    return statistics.median(delays), delays[-1], len(delays), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--phones", type=int, nargs="*", default=[100, 500, 1000, 2000])
    parser.add_argument("--core", type=int, help="pin the hub to this CPU core")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as folder:
        # The caps raised: all the phones come from one address.
        hub = start_hub(Path(folder), extra_config=SURGE_CONFIG)
        if args.core is not None:
            pin(hub.process.pid, args.core)
        floor, floor_url = start_floor()
        try:
            timings = bench_paths(hub.url, floor_url, args.issues, Path(folder))
            floor.terminate()
            print(f"loopback HTTP, {args.issues} interleaved rounds, http.client keep-alive:")
            report_paths(timings)
            clerk = requests.post(
                hub.url + "/api/staff/login",
                json={"staff": "maria", "pin": PINS["maria"]},
                headers={"Authorization": f"Bearer {DESK}"},
                timeout=10,
            ).json()["token"]
            for phones in args.phones:
                median, last, count, cpu = asyncio.run(
                    bench_phones(hub.url, phones, clerk, hub.process.pid)
                )
                print(
                    f"{phones:5d} phones following live: {count} heard the call's effect; "
                    f"median {median * 1000:.0f} ms, last {last * 1000:.0f} ms; "
                    f"hub CPU {cpu * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}"
                )
        finally:
            floor.kill()
            stop_hub(hub)


if __name__ == "__main__":
    main()
