"""The hub follows the office's calendar: the join page and the API say a line is closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.hub.conftest import KIOSK, RunningHub, start_hub, stop_hub

# Open around the clock (whenever this runs), except payments, which never opens.
CALENDAR = """
[calendar]
remote_join_closes_before = 0

[calendar.hours]
mon = "00:00-24:00"
tue = "00:00-24:00"
wed = "00:00-24:00"
thu = "00:00-24:00"
fri = "00:00-24:00"
sat = "00:00-24:00"
sun = "00:00-24:00"

[calendar.lines.payments]
mon = ""
tue = ""
wed = ""
thu = ""
fri = ""
sat = ""
sun = ""
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("hub"), CALENDAR)
    yield running
    stop_hub(running)


def test_a_closed_line_is_shown_closed_and_refused(hub: RunningHub) -> None:
    page = requests.get(f"{hub.public_url}/join?lang=es", timeout=10)
    assert page.status_code == 200
    html = page.text
    payments = html[html.index("Pagar una factura") :].split("</li>", 1)[0]
    assert "Cerrado" in payments and 'data-line="payments"' not in payments
    assert 'data-line="permits"' in html  # open: it can be joined

    joined = requests.post(f"{hub.public_url}/api/join", json={"line": "payments"}, timeout=10)
    assert joined.status_code == 409 and joined.json()["code"] == "line_closed"
    issued = hub.post("/api/tickets", KIOSK, json={"line": "payments"})
    assert issued.status_code == 409 and issued.json()["code"] == "line_closed"
    assert hub.issue("permits")["ticket"]["line"] == "permits"
    lines = {line["id"]: line for line in hub.get("/api/lines", KIOSK).json()}
    assert lines["payments"]["hours"]["status"] == "closed"
    assert lines["payments"]["hours"]["opens_at"] is None
    assert lines["permits"]["hours"]["status"] == "open"
