"""Texts through a provider that apprise speaks: a real hub whose `[notify.sms] apprise` is
apprise's own `json://` plugin, posting to a local HTTP server that records what it gets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desk.window import DeskWindow
from nowserving.domain.config import NotifySms, load_config
from nowserving.hub.quietlog import redact
from nowserving.sync.replica import ReplicaService, open_replica
from tests.desk.test_desk import sign_in
from tests.hub.conftest import RunningHub, start_hub, stop_hub
from tests.hub.loopback import posts_to
from tests.sync.waiting import wait_until

WAIT_S = 30.0  # generous: a loaded 2-core machine
REFUSED = "+15105550199"  # the provider answers 500 for numbers ending in 99


class Provider:
    """What apprise posted, by path (`/sms/<number>`)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def texts_to(self, phone: str) -> list[str]:
        with self.lock:
            return [body["message"] for path, body in self.posts if path == f"/sms/{phone}"]


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[Provider, int]]:
    recorder = Provider()

    def take(path: str, headers: dict[str, str], body: bytes) -> int:
        with recorder.lock:
            recorder.posts.append((path, json.loads(body)))
        return 500 if path.endswith("99") else 200

    with posts_to(take) as port:
        yield recorder, port


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, provider: tuple[Provider, int]
) -> Iterator[RunningHub]:
    extra = f"""
[notify]
max_tries = 2
retry_max_seconds = 0.5

[notify.sms]
apprise = "json://127.0.0.1:{provider[1]}/sms/{{to}}"
timeout = 5
"""
    running = start_hub(tmp_path_factory.mktemp("apprise-hub"), extra)
    yield running
    stop_hub(running)


def _subscribe(hub: RunningHub, token: str, phone: str) -> None:
    import requests

    answer = requests.post(
        f"{hub.public_url}/api/tickets/{token}/contacts", json={"phone": phone}, timeout=10
    )
    assert answer.ok, answer.text


def test_a_text_goes_through_apprise_once_and_a_refusal_fails_after_max_tries(
    hub: RunningHub, provider: tuple[Provider, int]
) -> None:
    recorder = provider[0]
    taken, refused = hub.issue("payments"), hub.issue("payments")
    _subscribe(hub, taken["token"], "+15105550198")
    _subscribe(hub, refused["token"], REFUSED)
    clerk = hub.sign_in("maria")
    mine: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT_S  # two tries, retry_max_seconds apart
    while time.monotonic() < deadline and not mine:
        failed = hub.get("/api/notify/failed", clerk).json()
        mine = [f for f in failed if f["ticket"] == refused["ticket"]["id"]]
        time.sleep(0.2)
    assert mine == [
        {
            "ticket": refused["ticket"]["id"],
            "channel": "sms",
            "shown": "•••• 0199",
            "error": "the SMS provider did not take it (apprise)",
        }
    ]
    assert len(recorder.texts_to(REFUSED)) == 2  # max_tries = 2, then failed
    (joined,) = recorder.texts_to("+15105550198")  # once, though the worker went on
    assert taken["ticket"]["label"] in joined


def test_the_apprise_url_is_a_secret_and_excludes_a_generic_gateway() -> None:
    with pytest.raises(ValueError, match="not both"):
        NotifySms(url="https://gw.example/sms", apprise="twilio://sid:tok@+15550001/{to}")
    with pytest.raises(ValueError):
        NotifySms(apprise="twilio://sid:tok@+15550001/")  # no {to}: every text to one number
    said = redact("apprise failed for twilio://AC0123:topsecret@+15550001/+15105550198")
    assert "topsecret" not in said and "AC0123" not in said


@pytest.mark.gui
def test_a_paired_desk_lists_the_days_failed_deliveries_on_its_today_tab(
    qtbot: QtBot, hub: RunningHub, tmp_path: Path
) -> None:
    ticket = hub.issue("payments")
    _subscribe(hub, ticket["token"], "+15105550299")  # refused: fails after max_tries
    config = load_config(hub.config)
    device = next(d for d in config.devices if d.id == "desk-1")
    service = ReplicaService(
        open_replica(tmp_path / "desk.sqlite"), config, device, hub.url, interval=0.05
    )
    try:
        desk = DeskWindow(config, service, "c1")
        qtbot.addWidget(desk)
        desk.show()
        sign_in(qtbot, desk, "maria", "1234")
        assert desk.staff is not None
        ticket_id = ticket["ticket"]["id"]
        wait_until(lambda: ticket_id in service.state.tickets, WAIT_S)

        mine: list[Any] = []
        deadline = time.monotonic() + WAIT_S  # two tries, retry_max_seconds apart
        while time.monotonic() < deadline and not mine:
            time.sleep(0.2)
            failed = service.failed_deliveries(staff="maria")  # through the hub's API
            mine = [f for f in failed if f.ticket == ticket_id]
        (failed,) = mine
        assert (failed.label, failed.channel, failed.shown) == (
            ticket["ticket"]["label"],
            "sms",
            "•••• 0299",
        )
        tabs = desk.tabs.tabBar()
        qtbot.mouseClick(  # opening the tab asks at once
            tabs,
            Qt.MouseButton.LeftButton,
            pos=tabs.tabRect(desk.tabs.indexOf(desk.dashboard)).center(),
        )
        rows = desk.dashboard.failed
        shown = f"{ticket['ticket']['label']}: Text to •••• 0299: "
        qtbot.waitUntil(
            lambda: any(rows.item(r).text().startswith(shown) for r in range(rows.count())),
            timeout=10_000,
        )
        assert desk.dashboard.failed.isVisibleTo(desk)
        texts = [rows.item(r).text() for r in range(rows.count())]
        assert not any("+1510" in text for text in texts)  # masked, never the number
    finally:
        service.close()
