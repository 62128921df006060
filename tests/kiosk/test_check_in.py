"""I have an appointment: a resident types the booking's code on the kiosk's keypad, or a
barcode scanner types it (then Enter) on whatever screen shows; the ticket takes its slot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app import build
from kiosk.flow import Screen
from kiosk.window import KioskWindow
from nowserving.domain.config import load_config, parse_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.sync.replica import ReplicaService, open_replica
from nowserving.system import i18n
from nowserving.system.paths import sample_config
from nowserving_qt.bootstrap import Session, pick_device
from tests.conftest import SAMPLE_ZONE
from tests.hub.conftest import start_hub, stop_hub
from tests.kiosk.conftest import language_button, tap
from tests.sync.waiting import wait_until

pytestmark = pytest.mark.gui

ALL_DAY = "\n".join(
    f'{d} = "00:00-24:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
# Open all day, hour-long slots, check-in from two hours before: the next slot can check in.
OFFICE = f"""
[calendar.hours]
{ALL_DAY}

[booking]
lines = ["permits"]
slot_minutes = 60
checkin_before = 120
"""


@pytest.fixture
def kiosk(qtbot: QtBot, tmp_path: Path) -> Iterator[KioskWindow]:
    config = parse_config(sample_config().read_text(encoding="utf-8") + OFFICE)
    service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "kiosk-1")
    session = Session(config, pick_device(config, "kiosk", None), service)
    window = build(session, kiosk_mode=False, tts_engine="mock")
    qtbot.addWidget(window)
    window.setFixedSize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    yield window
    window.printer.stop()


def _book(kiosk: KioskWindow, lang: str) -> str:
    """A booking of the next slot (today's, or tomorrow's first after 23:00): its code."""
    service = kiosk.service
    assert isinstance(service, LocalService)
    today = datetime.now(SAMPLE_ZONE).date()
    slots = service.slots("permits", today) or service.slots("permits", today + timedelta(1))
    made, _ = service.book("permits", slots[0].start, f"{lang}@example.org", lang=lang)
    return made.code


def test_a_code_typed_on_the_keypad_checks_in(qtbot: QtBot, kiosk: KioskWindow) -> None:
    code = _book(kiosk, "es")
    tap(qtbot, kiosk.welcome.appointment)
    assert kiosk.flow.screen is Screen.CHECK_IN
    for key in code:
        tap(qtbot, kiosk.check_in_screen.keys[key])
    assert kiosk.check_in_screen.code.text() == code
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=10_000) as shown:
        tap(qtbot, kiosk.check_in_screen.send_button)
    ticket = shown.args[0]
    assert ticket.appointment is not None and ticket.lang == "es"
    assert kiosk.ticket.phone_note.text() == i18n.text("es", "checkin.done")
    assert kiosk.ticket.number.text() == ticket.label


def test_a_scanner_typing_the_code_checks_in_from_any_screen(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    code = _book(kiosk, "vi")
    tap(qtbot, language_button(kiosk, "en"))  # someone else left the kiosk on the services
    assert kiosk.flow.screen is Screen.SERVICES
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=10_000) as shown:
        qtbot.keyClicks(kiosk, code.lower())
        qtbot.keyClick(kiosk, Qt.Key.Key_Return)
    assert shown.args[0].appointment is not None and kiosk.flow.lang == "vi"
    assert not kiosk.flow.aids.voice  # the scanner's digits did not work the tactile keypad
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=10_000) as again:  # scanned twice
        qtbot.keyClicks(kiosk, code)
        qtbot.keyClick(kiosk, Qt.Key.Key_Enter)
    assert again.args[0].id == shown.args[0].id
    qtbot.keyClicks(kiosk, "ZZZZ2222")
    qtbot.keyClick(kiosk, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: kiosk.flow.error != "", timeout=10_000)
    assert kiosk.check_in_screen.problem.text() == i18n.text("en", "error.booking_unknown")


def test_a_kiosk_for_other_lines_tells_the_resident_where_to_check_in(
    qtbot: QtBot, tmp_path: Path
) -> None:
    only_ids = '[[devices]]\nid = "kiosk-ids"\nrole = "kiosk"\nlines = ["ids"]\n'
    secret = "kiosk-for-ids-only-0123456789"
    hub = start_hub(tmp_path / "hub", f'{OFFICE}\n{only_ids}secret = "{secret}"\n')
    service: ReplicaService | None = None
    try:
        today = datetime.now(SAMPLE_ZONE).date()
        slots = [
            requests.get(
                f"{hub.public_url}/api/booking/permits/slots", params={"day": str(d)}, timeout=10
            ).json()
            for d in (today, today + timedelta(1))
        ]
        body = {"line": "permits", "start": (slots[0] or slots[1])[0]["start"], "lang": "vi"}
        booked = requests.post(
            f"{hub.public_url}/api/appointments",
            json={**body, "contact": "an@example.org"},
            timeout=10,
        )
        assert booked.status_code == 201, booked.text
        config = load_config(hub.config)
        device = next(d for d in config.devices if d.id == "kiosk-ids")
        service = ReplicaService(
            open_replica(tmp_path / "kiosk.sqlite"), config, device, hub.url, interval=0.05
        )
        wait_until(lambda: service is not None and service.sync.status.online)
        window = build(Session(config, device, service), kiosk_mode=False, tts_engine="mock")
        qtbot.addWidget(window)
        window.setFixedSize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        qtbot.keyClicks(window, booked.json()["code"])  # a scanner, then Enter
        qtbot.keyClick(window, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.flow.error != "", timeout=10_000)
        # In the booking's language, naming its service: kiosk-1 takes every line.
        permits = config.text(config.line("permits").name, "vi")
        assert window.check_in_screen.problem.text() == i18n.text(
            "vi", "checkin.other_kiosk", service=permits
        )
        window.printer.stop()
    finally:
        if service is not None:
            service.close()
        stop_hub(hub)
