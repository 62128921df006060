"""A surge: thousands join remotely while phones follow live and desks call, hub on one core.

    .venv/bin/python benchmarks/bench_surge.py [--day 10000] [--joins 3000] [--minutes 5]
        [--phones 2000] [--desks 10] [--probes 10] [--core 0] [--clients 4]

A real hub process on loopback, pinned to one CPU core (`--core`), opens on a day
already holding `--day` tickets. `--phones` residents with tickets in the "ids"
line follow them live (one SSE stream each). Then, for `--minutes`: `--joins`
residents join the remote lines at an even rate, `--desks` desks call next on
the counters of those lines, and every `minutes / probes` a probe call at counter
c5 (the followers' line) moves every follower up one place: the time from that
call until the last phone has heard it is measured. The phones' streams are held by
`--clients` processes (one Python process on one core could not read 2,000 streams and
time them fairly: the bench would measure itself). Limits are raised to what an
office expecting a surge would set; every answer that is not a success is counted
by status and message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import fill_day

from nowserving.domain.config import load_config
from nowserving.domain.rules import office_day
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.hub import conftest
from tests.hub.conftest import DESK, KIOSK, PINS, start_hub, stop_hub

REMOTE_LINES = ["permits", "licenses", "payments"]
DESK_COUNTERS = ["c1", "c2", "c3", "c6"]  # they serve the remote lines, never "ids"
SURGE_CONFIG = """
max_connections = 20000
max_connections_per_address = 10000
max_streams_per_address = 9000

[hub.rate_limits]
read = 100000
stream = 100000
leave = 100000
join = 100000
"""


def p99(values: list[float]) -> float:
    """The value 99 % of `values` do not exceed (of 10 probes: the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)] if ordered else float("nan")


def ms(values: list[float]) -> str:
    if not values:
        return "none"
    return f"median {statistics.median(values) * 1000:.0f} ms, p99 {p99(values) * 1000:.0f} ms"


def pin(pid: int, core: int) -> None:
    """Pin every thread of a process (and those it starts later) to one core."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {core})


def prefill(folder: Path, tickets: int) -> None:
    """The hub's store with a day of `tickets` already behind it (ending a minute ago)."""
    config = load_config(sample_config())
    now = int(time.time() * 1000) - 60_000
    midnight = datetime.now(config.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    hours = min(10.0, (now - midnight.timestamp() * 1000) / 3600_000 - 0.02)
    store = EventStore(folder / "data" / "office.sqlite")
    fill_day(store, config, office_day(now, config.zone), tickets, 0, until=now, hours=hours)
    LocalService(store, config, "hub").save_snapshot()  # as a hub running all day leaves it
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as after a day of checkpoints
    store.close()


class Phone:
    """One resident's phone following their ticket."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.now: tuple[int, str] | None = None  # (ahead, status) last heard
        self.connected = asyncio.Event()
        self.before: tuple[int, str] | None = None  # the view when a probe was armed
        self.heard: float | None = None  # time.monotonic() when the view changed after it

    async def follow(self, client: httpx.AsyncClient, url: str, errors: Counter[str]) -> None:
        try:
            async with client.stream("GET", f"{url}/api/tickets/{self.token}/events") as response:
                if response.status_code != 200:
                    errors[f"follow {response.status_code}"] += 1
                    return
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        data = json.loads(line[5:])
                        self.now = (data["ahead"], data["status"])
                        self.connected.set()
                        if self.before and self.heard is None and self.now != self.before:
                            self.heard = time.monotonic()
        except (httpx.HTTPError, asyncio.CancelledError) as exc:
            if not isinstance(exc, asyncio.CancelledError):
                errors[f"follow {type(exc).__name__}"] += 1


def phones_client(url: str, tokens: list[str], pipe: Connection) -> None:
    """A client process holding some of the phones' streams (one core cannot read 2,000
    streams and time them fairly): it answers the main process's commands on `pipe`.

    "arm": remember each waiting phone's view, answer "armed". ("collect", deadline):
    wait until each armed phone's view changed (or the deadline, time.monotonic()), answer
    the times they heard it (None: not heard). "stop": answer the errors counted.
    """
    asyncio.run(_phones(url, tokens, pipe))


async def _phones(url: str, tokens: list[str], pipe: Connection) -> None:
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        phones = [Phone(token) for token in tokens]
        following = [asyncio.create_task(p.follow(client, url, errors)) for p in phones]
        await asyncio.wait_for(asyncio.gather(*(p.connected.wait() for p in phones)), 120)
        pipe.send("connected")
        armed: list[Phone] = []
        while (command := await asyncio.to_thread(pipe.recv)) != "stop":
            if command == "arm":
                # Served residents' views no longer change; everyone else's does.
                armed = [p for p in phones if p.now and p.now[1] in ("waiting", "called")]
                for phone in armed:
                    phone.before, phone.heard = phone.now, None
                pipe.send("armed")
            else:
                while time.monotonic() < command[1] and any(p.heard is None for p in armed):
                    await asyncio.sleep(0.02)
                pipe.send([p.heard for p in armed])
                for phone in armed:
                    phone.before = None
        for task in following:
            task.cancel()
        await asyncio.wait(following, timeout=10)
    pipe.send(dict(errors))


async def post(
    client: httpx.AsyncClient, url: str, errors: Counter[str], **kwargs: object
) -> tuple[float, httpx.Response | None]:
    began = time.perf_counter()
    try:
        response = await client.post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        errors[f"{url.rsplit('/api', 1)[-1]} {type(exc).__name__}"] += 1
        return time.perf_counter() - began, None
    elapsed = time.perf_counter() - began
    if response.status_code >= 400:
        detail = response.json().get("detail", "") if response.content else ""
        errors[f"{url.rsplit('/api', 1)[-1]} {response.status_code}: {detail}"] += 1
    return elapsed, response


async def surge(url: str, args: argparse.Namespace) -> None:
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=args.phones + 200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        kiosk = {"Authorization": f"Bearer {KIOSK}"}
        tokens = []
        for _ in range(args.phones):
            _, response = await post(client, url + "/api/tickets", errors, json={"line": "ids"},
                                     headers=kiosk)  # fmt: skip
            if response is not None and response.status_code == 201:
                tokens.append(response.json()["token"])
        login = await client.post(
            url + "/api/staff/login",
            json={"staff": "maria", "pin": PINS["maria"]},
            headers={"Authorization": f"Bearer {DESK}"},
        )
        clerk = {"Authorization": f"Bearer {login.json()['token']}"}
        context = multiprocessing.get_context("spawn")
        pipes: list[Connection] = []
        clients = []
        for n in range(args.clients):
            mine, theirs = context.Pipe()
            share = tokens[n :: args.clients]
            process = context.Process(target=phones_client, args=(url, share, theirs))
            process.start()
            clients.append(process)
            pipes.append(mine)
        for pipe in pipes:
            if await asyncio.to_thread(pipe.recv) != "connected":
                raise RuntimeError("a phones client did not connect")
        print(
            f"{len(tokens)} phones following from {args.clients} client processes, "
            f"{args.day:,} tickets already today",
            flush=True,
        )

        duration = args.minutes * 60
        began = time.perf_counter()
        joins: list[float] = []
        calls: list[float] = []
        probes: list[list[float]] = []

        async def join(at: float) -> None:
            await asyncio.sleep(max(0.0, began + at - time.perf_counter()))
            body = {"line": random.choice(REMOTE_LINES)}
            elapsed, response = await post(client, url + "/api/join", errors, json=body)
            if response is not None and response.status_code == 201:
                joins.append(elapsed)

        async def desk(n: int) -> None:
            while time.perf_counter() - began < duration:
                counter = DESK_COUNTERS[n % len(DESK_COUNTERS)]
                path = f"{url}/api/counters/{counter}/call-next"
                elapsed, _ = await post(client, path, errors, headers=clerk)
                calls.append(elapsed)
                await asyncio.sleep(args.desk_every)

        async def probe(at: float) -> None:
            await asyncio.sleep(max(0.0, began + at - time.perf_counter()))
            for pipe in pipes:  # one probe at a time: the pipes are not shared
                pipe.send("arm")
            for pipe in pipes:
                await asyncio.to_thread(pipe.recv)
            moment = time.monotonic()  # CLOCK_MONOTONIC: the same in every process here
            await post(client, url + "/api/counters/c5/call-next", errors, headers=clerk)
            heard: list[float | None] = []
            for pipe in pipes:
                pipe.send(("collect", moment + 10))
            for pipe in pipes:
                heard += await asyncio.to_thread(pipe.recv)
            delays = [t - moment for t in heard if t is not None]
            if len(delays) < len(heard):
                errors[f"probe: {len(heard) - len(delays)} phones not told within 10 s"] += 1
            probes.append(delays)

        step = duration / max(args.joins, 1)
        work = [asyncio.create_task(join(n * step)) for n in range(args.joins)]
        work += [asyncio.create_task(desk(n)) for n in range(args.desks)]
        work += [
            asyncio.create_task(probe((k + 0.5) * duration / args.probes))
            for k in range(args.probes)
        ]
        reporter = asyncio.create_task(progress(began, joins, calls, probes, errors))
        await asyncio.wait(work, timeout=duration + 120)
        reporter.cancel()
        for task in work:
            task.cancel()
        await asyncio.wait(work, timeout=10)
        for pipe in pipes:
            pipe.send("stop")
        for pipe in pipes:
            errors.update(await asyncio.to_thread(pipe.recv))
        for process in clients:
            process.join(timeout=30)
        report(args, joins, calls, probes, len(tokens), errors)


async def progress(
    began: float, joins: list[float], calls: list[float], probes: list[list[float]],
    errors: Counter[str],
) -> None:  # fmt: skip
    while True:
        await asyncio.sleep(30)
        elapsed = time.perf_counter() - began
        other = sum(errors.values())
        print(f"  {elapsed:4.0f} s: {len(joins)} joined, {len(calls)} calls, "
              f"{len(probes)} probes, {other} other answers", flush=True)  # fmt: skip


def report(
    args: argparse.Namespace, joins: list[float], calls: list[float],
    probes: list[list[float]], phones: int, errors: Counter[str],
) -> None:  # fmt: skip
    lasts = [max(delays) for delays in probes if delays]
    every = [d for delays in probes for d in delays]
    print(f"joins: {len(joins)}/{args.joins} accepted over {args.minutes:g} min; {ms(joins)}")
    print(f"desk calls: {len(calls)}; {ms(calls)}")
    print(f"call -> each phone ({len(probes)} probe calls x {phones} phones): {ms(every)}")
    print(f"call -> last phone: {ms(lasts)}, worst {max(lasts, default=0) * 1000:.0f} ms")
    print("answers other than success:", dict(errors) if errors else "none")


class _Patient:
    """`requests` with a longer timeout for the start helper's health check."""

    ConnectionError = requests.ConnectionError
    RequestException = requests.RequestException

    @staticmethod
    def get(url: str, timeout: float, **kwargs: object) -> requests.Response:
        return requests.get(url, timeout=max(timeout, 10), **kwargs)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=int, default=10_000, help="tickets already today")
    parser.add_argument("--joins", type=int, default=3000)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--desks", type=int, default=10)
    parser.add_argument("--desk-every", type=float, default=2.0, help="seconds between calls")
    parser.add_argument("--probes", type=int, default=10)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--clients", type=int, default=4, help="processes holding the phones")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as folder:
        # The remote lines take the whole surge (the sample caps them at 50 each).
        sample = Path(folder) / "surge-sample.toml"
        text = sample_config().read_text(encoding="utf-8")
        capped = text.replace("remote_join = true", "remote_join = true\nremote_cap = 5000")
        sample.write_text(capped, encoding="utf-8")
        conftest.sample_config = lambda: sample  # type: ignore[attr-defined]
        prefill(Path(folder), args.day)
        began = time.perf_counter()
        # The start helper of the tests gives the first answer 1 s; a loaded PC may need more.
        conftest.requests = _Patient()  # type: ignore[attr-defined]
        hub = start_hub(Path(folder), extra_config=SURGE_CONFIG)
        print(f"hub started on a {args.day:,}-ticket day in {time.perf_counter() - began:.2f} s")
        try:
            pin(hub.process.pid, args.core)
            asyncio.run(surge(hub.url, args))
        finally:
            stop_hub(hub)
            _print_warnings(Path(folder) / "hub.log")


def _print_warnings(log: Path) -> None:
    """What the hub's log says went wrong (its warnings and errors; not its routine)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    said = [line for line in lines if any(word in line for word in _TROUBLE)]
    print(f"hub log: {len(lines)} lines, {len(said)} of them about trouble")
    for line in said[:20]:
        print("    " + line[:200])


_TROUBLE = ("refused", "closed", "Traceback", "Error", "Invalid", "too slow", "Exception", "arning")


if __name__ == "__main__":
    main()
