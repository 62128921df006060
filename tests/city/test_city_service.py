"""`nowserving city`: two offices streamed into PostgreSQL, their waits on the public API and
page (headless Chromium), the staff dashboard behind the admin token."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import uvicorn
from playwright.sync_api import Browser, expect

from nowserving.city.app import COOKIE, create_app, session_value
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import City, OfficeConfig, ServiceLevel
from nowserving.hub.city_stream import CityStream
from nowserving.service.local import LocalService
from nowserving.store.city_views import CityReader
from nowserving.store.eventstore import EventStore
from tests.conftest import FakeClock
from tests.hub.conftest import browser, free_port
from tests.pg import Cluster

__all__ = ["browser"]  # the shared headless Chromium fixture
TOKEN = "city-admin-token-for-tests-0123456789"
LATE_MIN = 3  # north's residents were issued this long ago; its target is 1 minute


@dataclass
class CityService:
    url: str


def _office(
    tmp_path: Path, config: OfficeConfig, url: str, office_id: str, name: str, clock: FakeClock
) -> LocalService:
    lines = [
        line.model_copy(update={"service_level": ServiceLevel(within_minutes=1, percent=90)})
        if line.id == "permits"
        else line
        for line in config.lines
    ]
    office = config.model_copy(
        update={
            "office": config.office.model_copy(update={"name": name}),
            "lines": lines,
            "city": City(database=url, office_id=office_id),
        }
    )
    return LocalService(EventStore(tmp_path / f"{office_id}.sqlite"), office, "hub", now=clock)


def _stream(service: LocalService) -> None:
    stream = CityStream(service)
    stream.connect()
    stream.round()
    stream.writer.close()


@pytest.fixture(scope="module")
def city(
    postgres: Cluster, config: OfficeConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CityService]:
    url = postgres.create_database("citypage")
    tmp = tmp_path_factory.mktemp("offices")
    clock = FakeClock(wall_ms() - LATE_MIN * 60_000)
    north = _office(tmp, config, url, "north", "North Office", clock)
    south = _office(tmp, config, url, "south", "South Office", clock)
    north.open_counter("c1", staff="maria")
    for _ in range(3):
        north.issue("permits")
    clock.ms = wall_ms()
    called = north.call_next("c1", staff="maria")  # called late: past the 1-minute target
    assert called is not None
    south.open_counter("c1", staff="tom")
    south.open_counter("c3", staff="lin")
    south.issue("permits")
    south.pause_line("licenses", "lunch", staff="lin")
    for office in (north, south):
        _stream(office)

    port = free_port()
    app = create_app(CityReader(url), admin_token=TOKEN, city="Springfield")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):  # started within 10 s, or the test fails below
        if server.started:
            break
        threading.Event().wait(0.05)
    yield CityService(base)
    server.should_exit = True
    thread.join(timeout=10)


def test_the_api_shows_every_office_and_the_shortest_wait_per_service(city: CityService) -> None:
    answer = requests.get(city.url + "/api/city/waits", timeout=10)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    offices = {o["office"]: o for o in data["offices"]}
    assert offices["north"]["status"] == "open"
    north_lines = {line["id"]: line for line in offices["north"]["lines"]}
    south_lines = {line["id"]: line for line in offices["south"]["lines"]}
    assert north_lines["permits"]["waiting"] == 2
    assert north_lines["records"]["status"] == "closed"  # no counter serves it
    assert south_lines["licenses"]["status"] == "paused"
    assert south_lines["permits"]["waiting"] == 1
    services = {s["id"]: s for s in data["services"]}
    assert services["permits"]["office"] == "south"  # one waiting there, two in the north
    assert services["records"]["office"] is None
    schema = requests.get(city.url + "/openapi.json", timeout=10).json()
    assert schema["paths"]["/api/city/waits"]["get"]["operationId"] == "city_waits"


def test_the_dashboard_needs_the_admin_token_and_shows_the_breach(city: CityService) -> None:
    assert requests.get(city.url + "/api/city/dashboard", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * len(TOKEN)}
    assert (
        requests.get(city.url + "/api/city/dashboard", headers=wrong, timeout=10).status_code == 401
    )
    answer = requests.get(
        city.url + "/api/city/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    levels = {(s["office"], s["line"]): s for s in data["service_levels"]}
    north = levels[("north", "permits")]
    assert (north["within"], north["late"], north["overdue"], north["breached"]) == (0, 1, 2, True)
    assert {row["office"]: row["open"] for row in data["counters"]} == {"north": 1, "south": 2}
    assert sum(row["issued"] for row in data["load"] if row["office"] == "north") == 3


def test_a_dashboard_cookie_ends_with_the_shift(city: CityService) -> None:
    form = {"token": TOKEN}
    login = requests.post(
        city.url + "/dashboard/login", data=form, allow_redirects=False, timeout=10
    )
    assert login.status_code == 303
    cookie = login.cookies[COOKIE]
    assert TOKEN not in cookie
    signed_in = requests.get(city.url + "/dashboard", cookies={COOKIE: cookie}, timeout=10)
    assert signed_in.status_code == 200
    # A copy of yesterday's cookie (a shared PC, a backup of a browser profile) is no key.
    old = session_value(TOKEN, int(time.time()) - 60)
    assert (
        requests.get(city.url + "/dashboard", cookies={COOKIE: old}, timeout=10).status_code == 401
    )
    forged = f"{int(time.time()) + 3600}.{old.split('.')[1]}"
    assert (
        requests.get(city.url + "/dashboard", cookies={COOKIE: forged}, timeout=10).status_code
        == 401
    )


@pytest.mark.browser
def test_the_city_page_and_dashboard_in_chromium(city: CityService, browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.goto(city.url + "/")
        shortest = page.locator('#services tr[data-service="permits"] .where')
        expect(shortest).to_have_text("South Office")
        north = page.locator('section[data-office="north"]')
        expect(north.locator("h2 .status")).to_have_text("open")
        expect(north.locator('tr[data-line="permits"] .count')).to_have_text("2")
        expect(
            page.locator('section[data-office="south"] tr[data-line="licenses"] .status')
        ).to_have_text("paused")
        page.goto(city.url + "/dashboard")
        page.fill("#token", "not the token")
        page.click("button[type=submit]")
        expect(page.locator(".problem")).to_have_text("That is not the city admin token.")
        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        breach = page.locator('#service-levels tr[data-office="north"][data-line="permits"]')
        expect(breach).to_have_class("breached")
        expect(page.locator('#offices tr[data-office="south"] .counters')).to_have_text("2")
    finally:
        page.close()
