"""An app under systemd says it is ready and keeps pinging the watchdog."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from nowserving.system.paths import sample_config


def test_ready_then_watchdog_pings(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(20)
        env = {
            **os.environ,
            "NOTIFY_SOCKET": address,
            "WATCHDOG_USEC": "400000",
            "QT_QPA_PLATFORM": "offscreen",
        }
        app = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nowserving",
                "--data",
                str(tmp_path / "data"),
                "desk",
                "--config",
                str(sample_config()),
                "--windowed",
                "--exit-after",
                "1.5",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        messages = []
        try:
            while len(messages) < 4:
                messages.append(listener.recv(64).decode())
        finally:
            assert app.wait(timeout=30) == 0
    assert messages[0] == "READY=1"
    assert messages[1:] == ["WATCHDOG=1"] * 3
