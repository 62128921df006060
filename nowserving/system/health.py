"""This process's health as a device reports it: memory (RSS), uptime and version."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

from nowserving import __version__

_STARTED = time.monotonic()


def rss_mb() -> float:
    """Resident memory now, in MB (peak RSS where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def uptime_s() -> int:
    """Seconds since this process imported Nowserving."""
    return int(time.monotonic() - _STARTED)


def current() -> dict[str, Any]:
    """What a device sends with its sync traffic (the fields of `syncproto.DeviceHealth`)."""
    return {"rss_mb": rss_mb(), "uptime_s": uptime_s(), "version": __version__}
