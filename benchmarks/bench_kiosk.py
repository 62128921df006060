"""Kiosk speed: cold start, tap-to-ticket-on-screen, and memory after a thousand tickets.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_kiosk.py [--tickets 1000]

Cold start is measured in a fresh process (imports, config, store, window shown).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

COLD = """
import time, os, sys, tempfile
began = time.perf_counter()
from pathlib import Path
from kiosk.app import build
from nowserving.domain.config import load_config
from nowserving.system.paths import sample_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving_qt.bootstrap import Session, application, pick_device
app = application("kiosk")
config = load_config(sample_config())
service = LocalService(EventStore(Path(tempfile.mkdtemp()) / "s.sqlite"), config, "kiosk-1")
window = build(Session(config, pick_device(config, "kiosk", None), service), kiosk_mode=False,
               tts_engine="mock")
window.setFixedSize(1280, 800)
window.show()
app.processEvents()
print(time.perf_counter() - began)
window.printer.stop()
"""


def cold_start() -> float:
    out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def rss_mb() -> float:
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    args = parser.parse_args()
    starts = sorted(cold_start() for _ in range(3))
    print(f"cold start (fresh process to window shown): median {statistics.median(starts):.2f} s")

    from PySide6.QtCore import QCoreApplication, QEvent

    from kiosk.app import build
    from nowserving.domain.config import load_config
    from nowserving.service.local import LocalService
    from nowserving.store.eventstore import EventStore
    from nowserving.system.paths import sample_config
    from nowserving_qt.bootstrap import Session, application, pick_device

    app = application("kiosk")
    config = load_config(sample_config())
    service = LocalService(EventStore(Path(tempfile.mkdtemp()) / "s.sqlite"), config, "kiosk-1")
    window = build(
        Session(config, pick_device(config, "kiosk", None), service),
        kiosk_mode=False,
        tts_engine="mock",
    )
    window.setFixedSize(1280, 800)
    window.show()
    app.processEvents()
    shown: list[float] = []
    window.ticket_shown.connect(lambda _t: shown.append(time.perf_counter()))
    timings, memory = [], {}
    for n in range(args.tickets):
        window.choose_language("en")
        line = service.lines()[n % 2]  # two lines keep the queue a realistic length
        window.choose_line(line)
        began = time.perf_counter()
        window.answer_priority(False)
        while len(shown) <= n:
            app.processEvents()
        app.processEvents()  # the ticket screen painted
        timings.append(shown[n] - began)
        window.flow.reset()
        window.render_view()
        # What the running event loop does between taps: delete widgets of past renders.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if n in (0, 99, args.tickets - 1):
            memory[n + 1] = rss_mb()
        if n % 50 == 49:  # the desks keep up
            for _ in range(40):
                service.call_next("c2")
    ordered = sorted(timings)
    print(
        f"tap to ticket on screen ({args.tickets} tickets): median "
        f"{statistics.median(ordered) * 1000:.1f} ms, p99 "
        f"{ordered[int(len(ordered) * 0.99) - 1] * 1000:.1f} ms"
    )
    print("memory (RSS) after " + ", ".join(f"{k} tickets: {v:.0f} MB" for k, v in memory.items()))
    window.printer.stop()


if __name__ == "__main__":
    main()
