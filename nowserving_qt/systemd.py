"""Tell systemd the app is up and alive, so a frozen screen gets restarted.

With `Type=notify` and `WatchdogSec=` in the unit, the app sends READY=1 once
its window is up and WATCHDOG=1 from the Qt event loop: if the loop freezes,
the pings stop and systemd restarts the app. Outside systemd this does nothing.
"""

from __future__ import annotations

import os
import socket

from PySide6.QtCore import QObject, QTimer


def notify(message: str) -> bool:
    """Send one sd_notify message; False when not run by systemd (or it is unreachable)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError:
        return False
    return True


def start_watchdog(parent: QObject) -> QTimer | None:
    """READY=1 now, then WATCHDOG=1 at half the unit's WatchdogSec, from the event loop."""
    if not notify("READY=1"):
        return None
    microseconds = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    if microseconds <= 0:
        return None
    timer = QTimer(parent, interval=max(100, microseconds // 2000))
    timer.timeout.connect(lambda: notify("WATCHDOG=1"))
    timer.start()
    return timer
