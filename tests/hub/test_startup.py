"""A restarted hub answers within a second: its import leaves out what no first request needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nowserving.domain.config import load_config
from nowserving.hub.app import create_app
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.hub.conftest import DISPLAY, KIOSK, start_hub, stop_hub

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
        "from nowserving.hub.starting import Starting\n"
        "from nowserving.store.eventstore import EventStore\n"
        "from nowserving.system.paths import sample_config\n"
        "class Watched(Starting):  # the kiosks' issue is offered before FastAPI is there\n"
        "    def offer(self, app, takes):\n"
        "        print('fastapi' in sys.modules)\n"
        "        super().offer(app, takes)\n"
        f"built = _build(EventStore({str(tmp_path / 'office.sqlite')!r}), "
        "load_config(sample_config()), Watched(lambda: None, 'office'))\n"
        "built.rest()()  # both phases\n"
        "app = built.app.app  # behind FastIssue\n"
        f"print(' '.join(m for m in {NOT_IN_BUILD!r} if m in sys.modules))\n"
        # A router's routes are built with it; the application must serve those very
        # routes, not build them again (as FastAPI does for an included router).
        "from nowserving.hub.app import ROUTERS\n"
        "print(all(route in app.routes for router in ROUTERS for route in router.routes))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    fastapi_when_offered, imported, routes_built_once = result.stdout.splitlines()
    assert fastapi_when_offered == "False", "the hub issued no ticket before importing FastAPI"
    assert imported.split() == [], f"imported to build the hub: {imported}"
    assert routes_built_once == "True", "the application builds its routers' routes again"


def test_a_hub_built_in_two_phases_serves_its_first_requests_first_and_ends_as_one_built_whole(
    tmp_path: Path,
) -> None:
    # In a process of its own: the routers build each route once, for the whole process.
    code = (
        "import json\n"
        "from nowserving.domain.config import load_config\n"
        "from nowserving.hub.run import _build\n"
        "from nowserving.hub.starting import Starting\n"
        "from nowserving.store.eventstore import EventStore\n"
        "from nowserving.system.paths import sample_config\n"
        f"built = _build(EventStore({str(tmp_path / 'two.sqlite')!r}), "
        "load_config(sample_config()), Starting(lambda: None, 'office'))\n"
        f"asked = {_ASKED!r}\n"
        "def scope(method, path):\n"
        "    return {'type': 'http', 'method': method, 'path': path, 'root_path': '',\n"
        "            'headers': [], 'query_string': b''}\n"
        "print(json.dumps([built.early(scope(*request)) for request in asked]))\n"
        "built.rest()()\n"
        "app = built.app.app  # behind FastIssue\n"
        "print(json.dumps([[type(r).__name__, r.path, sorted(getattr(r, 'methods', None) or [])]"
        " for r in app.routes]))\n"
        "print(json.dumps(app.openapi()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    early, routes, document = (json.loads(line) for line in result.stdout.splitlines())
    assert dict(zip(_ASKED, early, strict=True)) == _ASKED

    # The same application built at once, as the tests' hubs and `create_app` build it.
    store = EventStore(tmp_path / "one.sqlite")
    app = create_app(LocalService(store, load_config(sample_config()), "hub"))
    store.close()
    assert routes == [[type(r).__name__, getattr(r, "path", ""), _methods(r)] for r in app.routes]
    assert document == app.openapi()


def _methods(route: object) -> list[str]:
    return sorted(getattr(route, "methods", None) or [])


# Requests to a hub whose first routes are built, and whether it answers them before the
# rest: the routes the first requests after a restart need, and nothing that a route still
# to be built might answer differently (another method on a hot path, FastAPI's own pages
# whose OpenAPI document would leave out the rest, a page on a path of its own).
_ASKED = {
    ("POST", "/api/tickets"): True,
    ("GET", "/api/board"): True,
    ("GET", "/api/board/events"): True,
    ("GET", "/api/health"): True,
    ("GET", "/api/tickets/AbCdEfGhIjKlMnOpQrStUv"): True,
    ("GET", "/api/tickets/AbCdEfGhIjKlMnOpQrStUv/events"): True,
    ("POST", "/api/sync/push"): True,
    ("GET", "/api/sync/pull"): True,
    ("GET", "/api/tickets"): False,  # 405 from the route: same answer, but later
    ("GET", "/api/lines"): False,
    ("POST", "/api/counters/c1/call-next"): False,
    ("GET", "/admin"): False,
    ("GET", "/openapi.json"): False,
    ("GET", "/docs"): False,
    ("GET", "/t/AbCdEfGhIjKlMnOpQrStUv"): False,
    ("GET", "/nothing/here"): False,
}


def test_a_hub_serving_its_routes_logs_no_warning_of_the_libraries(tmp_path: Path) -> None:
    # Its models are built when first used (system.startup): not inside FastAPI's own
    # silencing of pydantic's warnings, for one.
    hub = start_hub(tmp_path)
    try:
        assert hub.post("/api/tickets", KIOSK, json={"line": "permits"}).status_code == 201
        refused = hub.post("/api/tickets", KIOSK, json={"line": "permits", "vip": True})
        assert refused.status_code == 422  # the route's validators, built now
        assert hub.get("/api/board", DISPLAY).status_code == 200
    finally:
        stop_hub(hub)
    log = (tmp_path / "hub.log").read_text(encoding="utf-8")
    assert "Warning" not in log and "warnings.warn" not in log, log
