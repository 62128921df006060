"""Months unattended, compressed: each app under load for N operations, memory slope.

    .venv/bin/python benchmarks/soak.py [--ops 2000] [--apps display kiosk desk hub]

Each app runs in its own process (offscreen, mock speech, no printer): the display
follows a desk's calls, the kiosk is tapped through language → service → priority →
ticket → done, the desk calls the next resident, and the hub answers an issue and a
call over HTTP. After a warm-up of a fifth of the operations, RSS is sampled ten
times; the script prints the least-squares slope per 1,000 operations, and the open
file descriptors and threads at the start and end of the measured part.
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


def measure(ops: int, step: Callable[[int], None], pid: int) -> dict[str, object]:
    warm = ops // 5
    samples, every = [], max(1, (ops - warm) // 10)
    for n in range(ops):
        step(n)
        if n >= warm and (n - warm) % every == 0:
            samples.append((n, *probe(pid)))
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


def soak_display(ops: int, folder: Path) -> dict[str, object]:
    from display.app import build
    from nowserving.config import load_config
    from nowserving.paths import sample_config
    from nowserving.service import LocalService
    from nowserving.store import EventStore
    from nowserving_qt.bootstrap import Session, application, pick_device

    application("display")
    config = load_config(sample_config())
    path = folder / "office.sqlite"
    service = LocalService(EventStore(path), config, "display-1")
    desk = LocalService(EventStore(path), config, "desk-1")
    window = build(Session(config, pick_device(config, "display", None), service), "mock")
    window.resize(1920, 1080)
    window.show()

    def step(n: int) -> None:
        desk.issue("payments")
        desk.call_next("c6")
        window.refresh()  # the watcher would do this within 50 ms
        _qt_settle()

    return measure(ops, step, os.getpid())


def soak_kiosk(ops: int, folder: Path) -> dict[str, object]:
    from kiosk.app import build
    from nowserving.config import load_config
    from nowserving.paths import sample_config
    from nowserving.service import LocalService
    from nowserving.store import EventStore
    from nowserving_qt.bootstrap import Session, application, pick_device

    application("kiosk")
    config = load_config(sample_config())
    service = LocalService(EventStore(folder / "office.sqlite"), config, "kiosk-1")
    session = Session(config, pick_device(config, "kiosk", None), service)
    window = build(session, kiosk_mode=False, tts_engine="mock")
    window.resize(1280, 800)
    window.show()
    shown: list[object] = []
    window.ticket_shown.connect(shown.append)

    def step(n: int) -> None:
        window.welcome.choices()[0].click()
        _wait(lambda: bool(window.services.tiles()))
        window.services.tiles()[n % 2].click()
        window.priority.no.click()
        _wait(lambda: len(shown) > n)
        window.ticket.done_button.click()
        _qt_settle()

    return measure(ops, step, os.getpid())


def soak_desk(ops: int, folder: Path) -> dict[str, object]:
    from PySide6.QtCore import QThreadPool

    from desk.window import DeskWindow
    from nowserving.config import load_config
    from nowserving.paths import sample_config
    from nowserving.service import LocalService
    from nowserving.store import EventStore
    from nowserving_qt.bootstrap import application

    application("desk")
    config = load_config(sample_config())
    path = folder / "office.sqlite"
    window = DeskWindow(config, LocalService(EventStore(path), config, "desk-1"), "c2")
    kiosk = LocalService(EventStore(path), config, "kiosk-1")
    window.show()
    window.signin.staff.setCurrentIndex(window.signin.staff.findData("maria"))
    window.signin.pin.setText("1234")
    window.signin.sign_in.click()
    done: list[object] = []
    window.done.connect(lambda action, _result: done.append(action))

    def step(n: int) -> None:
        kiosk.issue("permits")
        window.act("call_next", "", {})
        _wait(lambda: len(done) > n)
        _qt_settle()

    result = measure(ops, step, os.getpid())
    _wait(lambda: QThreadPool.globalInstance().waitForDone(0))  # nothing left at exit
    return result


def soak_hub(ops: int, folder: Path) -> dict[str, object]:
    import requests

    from tests.hub.conftest import KIOSK, start_hub, stop_hub

    hub = start_hub(folder, "[hub.rate_limits]\nread = 100000\n")
    try:
        clerk = hub.sign_in("maria")
        hub.post("/api/counters/c2/open", clerk)
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {KIOSK}"
        desk = requests.Session()
        desk.headers["Authorization"] = f"Bearer {clerk}"

        def step(n: int) -> None:
            kiosk.post(hub.url + "/api/tickets", json={"line": "permits"}, timeout=10)
            desk.post(hub.url + "/api/counters/c2/call-next", timeout=10).raise_for_status()

        return measure(ops, step, hub.process.pid)
    finally:
        stop_hub(hub)


APPS = {"display": soak_display, "kiosk": soak_kiosk, "desk": soak_desk, "hub": soak_hub}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--apps", nargs="+", choices=sorted(APPS), default=list(APPS))
    parser.add_argument("--one", choices=sorted(APPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child: one app in this process
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(APPS[args.one](args.ops, Path(folder))))
        return
    print(f"{'app':<9}{'MB / 1,000 ops':>16}{'RSS MB':>16}{'fds':>10}{'threads':>10}")
    for app in args.apps:
        child = [sys.executable, __file__, "--one", app, "--ops", str(args.ops)]
        out = subprocess.run(child, capture_output=True, text=True, check=True, timeout=1800)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rss, fds, threads = result["rss_mb"], result["fds"], result["threads"]
        print(
            f"{app:<9}{result['slope_mb_per_1000']:>16}{f'{rss[0]} → {rss[1]}':>16}"
            f"{f'{fds[0]} → {fds[1]}':>10}{f'{threads[0]} → {threads[1]}':>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
