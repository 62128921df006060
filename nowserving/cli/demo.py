"""`nowserving demo`: the whole office on one PC, each part in its own process.

Parts share one store file, as apps on the hub's PC do. A part that crashes is
reported and the rest keep going; Ctrl-C stops them all. The parts share one
console: what one part says about this PC (no sound, say) another does not repeat.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from nowserving.cli.main import APPS
from nowserving.cli.simulate import simulate_office
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import OfficeConfig, load_config
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import data_dir, sample_config

# part -> (device id, extra arguments)
PARTS: dict[str, tuple[str, list[str]]] = {
    "hub": ("hub", []),
    "display": ("display-1", ["--windowed"]),
    "kiosk": ("kiosk-1", ["--windowed"]),
    "desk": ("desk-1", ["--windowed", "--counter", "c2"]),
}
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")  # the log lines' time


class Console:
    """The parts' error output, merged: a line another part already said is left out."""

    def __init__(self) -> None:
        self._said: dict[str, str] = {}  # line without its time -> the part that said it
        self._lock = threading.Lock()

    def relay(self, part: str, stream: IO[bytes]) -> None:
        """Copy one part's output until it ends (run on a thread of its own)."""
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.fresh(part, line):
                print(line, file=sys.stderr, flush=True)

    def fresh(self, part: str, line: str) -> bool:
        key = STAMP.sub("", line)
        with self._lock:
            first = self._said.setdefault(key, part)
        return first == part  # a part's own repeats stay: they are news about that part


def available(part: str) -> bool:
    """Whether this installation has the part (later issues add them one by one)."""
    try:
        return importlib.util.find_spec(APPS[part].partition(":")[0]) is not None
    except ModuleNotFoundError:  # its parent package is missing too
        return False


def main(args: argparse.Namespace) -> int:
    config_path = Path(args.config) if args.config else sample_config()
    config = load_config(config_path)  # fail here, once, rather than in every part
    folder = data_dir(args.data or data_dir() / "demo")
    wanted = args.only or list(PARTS)
    parts = [p for p in wanted if available(p)]
    missing = [p for p in wanted if p not in parts]
    if missing:
        print(f"Not built yet, so not started: {', '.join(missing)}")
    if not parts:
        print("Nothing to start yet.")
        return 0
    _bring_to_life(folder, config)
    console = Console()
    processes = {
        part: _start(part, config, config_path, folder, args.port, console) for part in parts
    }
    print(f"{config.office.name}: started {', '.join(parts)}; data in {folder}.")
    if "hub" in parts:
        scheme = "https" if config.hub.tls else "http"
        print(f"Hub (this PC only): {scheme}://localhost:{args.port}/  (API docs at /docs)")
        print(f"Residents' pages:   {scheme}://localhost:{args.port + 1}/")
    print("Press Ctrl-C to stop.")
    return _supervise(processes)


def _bring_to_life(folder: Path, config: OfficeConfig) -> None:
    """A fresh demo store gets a simulated yesterday and today so far: something to see."""
    store = EventStore(folder / "office.sqlite")
    try:
        if store.count() == 0:
            today = datetime.now(config.zone).date()
            simulate_office(store, config, today - timedelta(days=1), seed=1)
            simulate_office(store, config, today, seed=2, until=wall_ms())
            print("Filled the demo with a simulated yesterday and this morning so far.")
    finally:
        store.close()


def _start(
    part: str, office: OfficeConfig, config: Path, folder: Path, port: int, console: Console
) -> subprocess.Popen[bytes]:
    device, extra = PARTS[part]
    command = [
        sys.executable,
        "-m",
        "nowserving",
        "--data",
        str(folder),
        part,
        "--config",
        str(config),
    ]
    if part == "hub":
        # Loopback only: the sample's device secrets and PINs are known to everyone.
        scheme = "https" if office.hub.tls else "http"
        command += [
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--public-host", "127.0.0.1", "--public-port", str(port + 1)),
            *("--public-url", f"{scheme}://localhost:{port + 1}"),
        ]
    else:
        command += ["--device", device, *extra]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    assert process.stderr is not None
    threading.Thread(target=console.relay, args=(part, process.stderr), daemon=True).start()
    return process


def _supervise(processes: dict[str, subprocess.Popen[bytes]]) -> int:
    try:
        while processes:
            for part, process in list(processes.items()):
                if process.poll() is not None:
                    print(f"The {part} stopped (exit code {process.returncode}).")
                    del processes[part]
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0
