"""A restarted hub answers within a second: its import leaves out what no first request needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


# What building the application leaves for when it is used: the pairing QR code (and PIL),
# the city database's driver, the notification senders' HTTP and push libraries, the
# office CA's cryptography, and pydantic 1 (FastAPI imports it only to refuse its models).
NOT_IN_BUILD = (
    "qrcode",
    "PIL",
    "psycopg",
    "yoyo",
    "httpx",
    "http_ece",
    "py_vapid",
    "cryptography",
    "pydantic.v1",
)


def test_building_the_hub_builds_each_route_once_and_leaves_out_what_no_request_needs(
    tmp_path: Path,
) -> None:
    code = (
        "import sys\n"
        "from nowserving.domain.config import load_config\n"
        "from nowserving.hub.run import _build\n"
        "from nowserving.store.eventstore import EventStore\n"
        "from nowserving.system.paths import sample_config\n"
        f"app = _build(EventStore({str(tmp_path / 'office.sqlite')!r}), "
        "load_config(sample_config()))[0]\n"
        f"print(' '.join(m for m in {NOT_IN_BUILD!r} if m in sys.modules))\n"
        # A router's routes are built with it; the application must serve those very
        # routes, not build them again (as FastAPI does for an included router).
        "from nowserving.hub.app import ROUTERS\n"
        "print(all(route in app.routes for router in ROUTERS for route in router.routes))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    imported, routes_built_once = result.stdout.splitlines()
    assert imported.split() == [], f"imported to build the hub: {imported}"
    assert routes_built_once == "True", "the application builds its routers' routes again"
