"""A restarted hub answers within a second: its import leaves out what no first request needs."""

from __future__ import annotations

import subprocess
import sys

# Each was measured in the hub's start-up (see docs/performance.md) and is imported
# where it is used: reports' charts, the residents' page templates, the rate limiter.
# FastAPI (and the application built with it) comes after the hub listens (hub.starting).
NOT_AT_START = (
    "matplotlib",
    "numpy",
    "pandas",
    "jinja2",
    "limits",
    "cryptography",
    "PySide6",
    "fastapi",
    "nowserving.service.local",
)


def test_the_hubs_import_leaves_out_what_the_first_request_does_not_need() -> None:
    code = (
        "import sys, nowserving.cli.main, nowserving.hub.run; "
        f"print(' '.join(m for m in {NOT_AT_START!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == [], f"imported when the hub starts: {result.stdout}"
