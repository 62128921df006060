"""Text me when it's my turn: a resident types a number on the kiosk's keypad, against a
real hub; with the hub away the kiosk says the number was not saved and keeps the ticket."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from pytestqt.qtbot import QtBot

from kiosk.app import build
from kiosk.flow import Screen
from kiosk.window import KioskWindow
from nowserving.domain.config import load_config
from nowserving.sync.replica import ReplicaService, open_replica
from nowserving.system import i18n
from nowserving_qt.bootstrap import Session
from tests.hub.conftest import start_hub, stop_hub
from tests.kiosk.conftest import language_button, tap

pytestmark = pytest.mark.gui

# A gateway nobody listens at: this test is about keeping the number, not sending to it.
OFFERING_SMS = '\n[notify]\ncountry_code = "1"\n[notify.sms]\nurl = "http://127.0.0.1:9/sms"\n'


def take_ticket(qtbot: QtBot, kiosk: KioskWindow, lang: str) -> None:
    tap(qtbot, language_button(kiosk, lang))
    tap(qtbot, kiosk.services.tiles()[0])
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=10_000):
        tap(qtbot, kiosk.priority.no)


def type_number(qtbot: QtBot, kiosk: KioskWindow, digits: str, shown: str) -> None:
    """Type `digits`; the screen shows the number as it will be used before Send."""
    tap(qtbot, kiosk.ticket.text_me_button)
    assert kiosk.flow.screen is Screen.PHONE
    for key in digits:
        tap(qtbot, kiosk.phone.keys[key])
    assert kiosk.phone.number.text() == shown
    tap(qtbot, kiosk.phone.send_button)


def test_a_number_typed_on_the_keypad_reaches_the_hub_and_an_away_hub_keeps_the_ticket(
    qtbot: QtBot, tmp_path: Path
) -> None:
    hub = start_hub(tmp_path / "hub", OFFERING_SMS)
    config = load_config(hub.config)
    device = next(d for d in config.devices if d.id == "kiosk-1")
    service = ReplicaService(open_replica(tmp_path / "kiosk.sqlite"), config, device, hub.url)
    kiosk = build(Session(config, device, service), kiosk_mode=False, tts_engine="mock")
    qtbot.addWidget(kiosk)
    kiosk.setFixedSize(1280, 800)
    kiosk.show()
    try:
        take_ticket(qtbot, kiosk, "es")
        ticket = kiosk.flow.ticket
        assert ticket is not None
        # A local number, as residents type it here: the office's code comes first.
        type_number(qtbot, kiosk, "5105550147", "+1 510 555 0147")
        qtbot.waitUntil(lambda: kiosk.flow.phone_note != "", timeout=10_000)
        saved = i18n.text("es", "kiosk.phone_saved", number="•••• 0147")
        assert kiosk.ticket.phone_note.text() == saved
        assert not kiosk.ticket.text_me_button.isVisible()  # once per ticket
        # The hub holds it for this ticket (asked as the resident: forget only an e-mail).
        url = f"{hub.public_url}/api/tickets/{ticket.token}/contacts?channel=email"
        kept = requests.delete(url, timeout=10).json()["contacts"]
        assert kept == [{"channel": "sms", "shown": "•••• 0147"}]

        tap(qtbot, kiosk.ticket.done_button)
        take_ticket(qtbot, kiosk, "ar")
        second = kiosk.flow.ticket
        stop_hub(hub)  # the hub's PC goes away while the resident types
        type_number(qtbot, kiosk, "00966501234567", "+966501234567")  # 00: another country
        qtbot.waitUntil(lambda: kiosk.flow.phone_note != "", timeout=20_000)
        assert kiosk.ticket.phone_note.text() == i18n.text("ar", "kiosk.phone_offline")
        assert kiosk.flow.screen is Screen.TICKET and kiosk.flow.ticket == second
        assert kiosk.ticket.number.text() == second.label  # the ticket stands
    finally:
        kiosk.printer.stop()
        service.close()
        stop_hub(hub)
