"""The office's country code and its daily text-message budget, through a real hub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hub.conftest import DISPLAY, RunningHub, start_hub, stop_hub

WAIT_S = 30.0  # generous: a loaded 2-core machine

# Nobody listens at the gateway: the budget counts texts queued, sent or not.
EXTRA = """
[hub.rate_limits]
subscribe = 1000

[notify]
country_code = "1"
sms_per_day = 2

[notify.sms]
url = "http://127.0.0.1:9/sms"
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(Path(tmp_path_factory.mktemp("budget-hub")), EXTRA)
    yield running
    stop_hub(running)


def subscribe(hub: RunningHub, token: str, phone: str) -> requests.Response:
    url = f"{hub.public_url}/api/tickets/{token}/contacts"
    return requests.post(url, json={"phone": phone}, timeout=10)


def test_a_national_number_takes_the_offices_code_and_the_budget_stops_new_numbers(
    hub: RunningHub,
) -> None:
    first = subscribe(hub, hub.issue("ids")["token"], "(510) 555-0147")
    assert first.json() == {"contacts": [{"channel": "sms", "shown": "•••• 0147"}]}, first.text
    assert subscribe(hub, hub.issue("ids")["token"], "0034 612 345 678").status_code == 200
    refused = subscribe(hub, hub.issue("ids")["token"], "510 555 0149")
    assert refused.status_code == 429 and refused.json()["code"] == "sms_budget", refused.text
    assert int(refused.headers["Retry-After"]) > 0
    # The desk is told (the worker looks after its next try at the gateway).
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        board = hub.get("/api/board", DISPLAY).json()
        said = {a["alert"]: a["message"] for a in board["alerts"] if a["message"]}
        if "notify.budget" in said:
            break
        time.sleep(0.2)  # polling the board: the alert is an event another task writes
    assert "budget is reached (2 of [notify] sms_per_day)" in said.get("notify.budget", "")
