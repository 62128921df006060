"""Months unattended, compressed: each app under load for N operations, memory slope.

    .venv/bin/python benchmarks/soak.py [--ops 1000] [--day-every 100] [--page-cache-kb 256]

Each app runs in its own process (offscreen, mock speech, no printer): the display
follows a desk's calls, the kiosk is tapped through language → service → priority →
ticket → done, the desk calls the next resident, and the hub answers an issue and a
call over HTTP.

Every operation adds a ticket, and today's tickets are real data each projection
holds (about 0.8 kB per ticket and projection) until the day ends. So the clock
moves a day ahead every `--day-every` operations and RSS is sampled at the end of
each day after a warm-up of a fifth of the operations: what a day leaves behind
after the next one has replaced it is a leak, what it held while it lasted is not.
`--day-every 0` keeps every operation in one day (the raw slope, data included).
SQLite's page cache, bounded but filling as a fresh file grows, is kept small the
same way (`--page-cache-kb 0`: SQLite's 2 MB per connection).
The script prints the least-squares slope per 1,000 operations, and the open file
descriptors and threads at the start and end of the measured part.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def probe(pid: int) -> tuple[float, int, int]:
    """RSS in MB, open fds, threads of process `pid`."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss = int(fields["VmRSS"].split()[0]) / 1024
    return rss, len(list(Path(f"/proc/{pid}/fd").iterdir())), int(fields["Threads"])


DAY_MS = 86_400_000
CACHE_ENV = "NOWSERVING_SOAK_PAGE_CACHE_KB"  # how the children learn --page-cache-kb


class Days:
    """The soak's wall clock: real time, set ahead by whole days as the soak goes on."""

    def __init__(self) -> None:
        from nowserving.domain.clock import wall_ms

        self._wall = wall_ms
        self.offset = 0

    def __call__(self) -> int:
        return self._wall() + self.offset * DAY_MS

    def next(self) -> None:
        self.offset += 1


class Counter:
    """A slot that counts the signals it receives and keeps nothing of them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


def small_page_cache(kb: int) -> None:
    """Give each store of this process an SQLite page cache of `kb` kB.

    The cache (2 MB per connection by default) fills as the file grows: bounded, and
    full from the start on a store with months in it, but on a fresh one a short soak
    would count its filling as growth.
    """
    from nowserving.store.eventstore import EventStore

    configure = EventStore._configure

    def _configure(self: EventStore, max_pages: int | None) -> None:
        configure(self, max_pages)
        self.db.conn.execute(f"PRAGMA cache_size = -{int(kb)}")

    EventStore._configure = _configure  # type: ignore[method-assign]


def measure(
    ops: int, step: Callable[[int], None], pid: int, day_every: int, next_day: Callable[[], None]
) -> dict[str, object]:
    """Run `step` `ops` times; RSS, fds and threads of `pid` at the end of each day."""
    warm = ops // 5
    every = day_every or max(1, (ops - warm) // 10)
    samples = []
    for n in range(ops):
        step(n)
        if (n + 1) % every == 0:
            if n >= warm:
                samples.append((n, *probe(pid)))
            if day_every:
                next_day()
    xs = [s[0] for s in samples]
    ys = [s[1] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return {
        "slope_mb_per_1000": round(slope * 1000, 2),
        "rss_mb": [round(ys[0], 1), round(ys[-1], 1)],
        "fds": [samples[0][2], samples[-1][2]],
        "threads": [samples[0][3], samples[-1][3]],
    }


def _qt_settle() -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _wait(condition: Callable[[], bool]) -> None:
    from PySide6.QtCore import QCoreApplication, QThread

    while not condition():
        QCoreApplication.processEvents()
        QThread.msleep(1)


def soak_display(ops: int, day_every: int, folder: Path) -> dict[str, object]:
    from display.app import build
    from nowserving.domain.config import load_config
    from nowserving.service.local import LocalService
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import sample_config
    from nowserving_qt.bootstrap import Session, application, pick_device

    application("display")
    config = load_config(sample_config())
    path = folder / "office.sqlite"
    days = Days()
    service = LocalService(EventStore(path), config, "display-1", now=days)
    desk = LocalService(EventStore(path), config, "desk-1", now=days)
    window = build(Session(config, pick_device(config, "display", None), service), "mock")
    window.resize(1920, 1080)
    window.show()

    def step(n: int) -> None:
        desk.issue("payments")
        desk.call_next("c6")
        window.refresh()  # the watcher would do this within 50 ms
        _qt_settle()

    return measure(ops, step, os.getpid(), day_every, days.next)


def soak_kiosk(ops: int, day_every: int, folder: Path) -> dict[str, object]:
    from kiosk.app import build
    from nowserving.domain.config import load_config
    from nowserving.service.local import LocalService
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import sample_config
    from nowserving_qt.bootstrap import Session, application, pick_device

    application("kiosk")
    config = load_config(sample_config())
    days = Days()
    service = LocalService(EventStore(folder / "office.sqlite"), config, "kiosk-1", now=days)
    session = Session(config, pick_device(config, "kiosk", None), service)
    window = build(session, kiosk_mode=False, tts_engine="mock")
    window.resize(1280, 800)
    window.show()
    shown = Counter()  # not a list of the tickets: that would be the soak's own leak
    window.ticket_shown.connect(shown)

    def step(n: int) -> None:
        window.welcome.choices()[0].click()
        _wait(lambda: bool(window.services.tiles()))
        window.services.tiles()[n % 2].click()
        window.priority.no.click()
        _wait(lambda: shown.count > n)
        window.ticket.done_button.click()
        _qt_settle()

    return measure(ops, step, os.getpid(), day_every, days.next)


def soak_desk(ops: int, day_every: int, folder: Path) -> dict[str, object]:
    from PySide6.QtCore import QThreadPool

    from desk.window import DeskWindow
    from nowserving.domain.config import load_config
    from nowserving.service.local import LocalService
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import sample_config
    from nowserving_qt.bootstrap import application

    application("desk")
    config = load_config(sample_config())
    path = folder / "office.sqlite"
    days = Days()
    window = DeskWindow(config, LocalService(EventStore(path), config, "desk-1", now=days), "c2")
    kiosk = LocalService(EventStore(path), config, "kiosk-1", now=days)
    window.show()
    window.signin.staff.setCurrentIndex(window.signin.staff.findData("maria"))
    window.signin.pin.setText("1234")
    window.signin.sign_in.click()
    done = Counter()
    window.done.connect(done)

    def step(n: int) -> None:
        kiosk.issue("permits")
        window.act("call_next", "", {})
        _wait(lambda: done.count > n)
        _qt_settle()

    result = measure(ops, step, os.getpid(), day_every, days.next)
    _wait(lambda: QThreadPool.globalInstance().waitForDone(0))  # nothing left at exit
    return result


def soak_hub(ops: int, day_every: int, folder: Path) -> dict[str, object]:
    import signal

    import requests

    from tests.hub.conftest import KIOSK, start_hub, stop_hub

    extra = "[hub.rate_limits]\nread = 100000\n"
    hub = start_hub(folder, extra, command=(sys.executable, __file__, "--hub-child"))
    try:
        clerk = hub.sign_in("maria")
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {KIOSK}"
        desk = requests.Session()
        desk.headers["Authorization"] = f"Bearer {clerk}"

        def step(n: int) -> None:
            kiosk.post(hub.url + "/api/tickets", json={"line": "permits"}, timeout=10)
            desk.post(hub.url + "/api/counters/c2/call-next", timeout=10).raise_for_status()

        def next_day() -> None:
            hub.process.send_signal(signal.SIGUSR1)

        return measure(ops, step, hub.process.pid, day_every, next_day)
    finally:
        stop_hub(hub)


def serve_hub(argv: list[str]) -> None:
    """The hub's own command line, with a clock that moves a day on each SIGUSR1."""
    import signal
    from functools import partial

    from nowserving.cli.main import main as cli
    from nowserving.hub import run
    from nowserving.service.local import LocalService

    days = Days()
    signal.signal(signal.SIGUSR1, lambda *_: days.next())
    run.LocalService = partial(LocalService, now=days)  # type: ignore[misc]
    raise SystemExit(cli(argv))


def ticket_bytes(folder: Path, tickets: int = 300) -> float:
    """What one ticket of today (issued and called) costs in a projection, in bytes."""
    import gc
    import tracemalloc

    from nowserving.domain.config import load_config
    from nowserving.service.local import LocalService
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import sample_config

    config = load_config(sample_config())
    service = LocalService(EventStore(folder / "office.sqlite"), config, "desk-1")
    service.issue("payments")
    service.call_next("c6")  # the first of the day builds what every day has
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(tickets):
        service.issue("payments")
        service.call_next("c6")
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    service.store.close()
    return grown / tickets


APPS = {"display": soak_display, "kiosk": soak_kiosk, "desk": soak_desk, "hub": soak_hub}


def main() -> None:
    cache_kb = int(os.environ.get(CACHE_ENV, "0"))
    if cache_kb:  # in a child
        small_page_cache(cache_kb)
    if sys.argv[1:2] == ["--hub-child"]:
        serve_hub(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--day-every", type=int, default=100, help="0: all in one day")
    parser.add_argument("--apps", nargs="+", choices=sorted(APPS), default=list(APPS))
    parser.add_argument(
        "--page-cache-kb", type=int, default=256, help="SQLite page cache (0: its 2 MB default)"
    )
    parser.add_argument("--one", choices=sorted(APPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child: one app in this process
        with tempfile.TemporaryDirectory() as folder:
            result = APPS[args.one](args.ops, args.day_every, Path(folder))
            print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as folder:
        per_ticket = ticket_bytes(Path(folder))
    print(f"Today's data: {per_ticket:.0f} B per ticket and projection, until the day ends.")
    print(f"{'app':<9}{'MB / 1,000 ops':>16}{'RSS MB':>16}{'fds':>10}{'threads':>10}")
    for app in args.apps:
        child = [sys.executable, __file__, "--one", app, "--ops", str(args.ops)]
        child += ["--day-every", str(args.day_every)]
        env = {**os.environ, CACHE_ENV: str(args.page_cache_kb)}
        out = subprocess.run(
            child, capture_output=True, text=True, check=True, timeout=1800, env=env
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rss, fds, threads = result["rss_mb"], result["fds"], result["threads"]
        print(
            f"{app:<9}{result['slope_mb_per_1000']:>16}{f'{rss[0]} → {rss[1]}':>16}"
            f"{f'{fds[0]} → {fds[1]}':>10}{f'{threads[0]} → {threads[1]}':>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
