"""The admin page in headless Chromium: it pairs, renames, revokes and manages staff, and a
paired kiosk and display show a renamed line without a restart (real Qt windows)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from display.app import build_remote
from kiosk.app import build as build_kiosk
from nowserving.domain.errors import Rejected
from nowserving.domain.pairing import REMOVED
from nowserving.sync.board_stream import HubBoard
from nowserving.sync.pairing import OfficeFile, pair
from nowserving.sync.replica import DeviceRemoved, ReplicaService, open_replica
from nowserving.system import i18n
from nowserving_qt.bootstrap import Session
from tests.hub.conftest import DESK, PINS, RunningHub
from tests.hub.test_pairing import nowserving

pytestmark = pytest.mark.browser
NEW_NAME = "Permits and plans"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    opened = context.new_page()
    yield opened
    context.close()


def no_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def sign_in(page: Page, hub: RunningHub, staff: str) -> None:
    page.goto(hub.url + "/admin")
    page.get_by_label("Staff id").fill(staff)
    page.get_by_label("PIN").fill(PINS[staff])
    page.get_by_role("button", name="Sign in").click()


def texts(widget: QWidget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def test_admin_page_changes_reach_paired_screens_and_the_audit(
    hub: RunningHub, page: Page, qtbot: QtBot, tmp_path: Path
) -> None:
    page.goto(hub.url + "/admin")
    no_violations(page)
    sign_in(page, hub, "tom")  # no admin right: his right PIN is answered as a wrong one
    expect(page.get_by_role("alert")).to_have_text("Wrong staff member or PIN.")
    sign_in(page, hub, "maria")
    expect(page.get_by_role("heading", name="The office")).to_be_visible()
    # This test hub speaks plain HTTP: the page says so where IT looks.
    expect(page.locator("#plain-http")).to_contain_text("this hub speaks plain HTTP")
    no_violations(page)

    # Pair a kiosk and a display with codes from the page.
    paired = {}
    for role in ("kiosk", "display"):
        page.get_by_label("New PC is a").select_option(role)
        page.get_by_role("button", name="Make a pairing code").click()
        code = page.locator("#pairing-code").inner_text()
        paired[role] = pair(hub.url, code, tmp_path / role)
    no_violations(page)  # with a code and its QR on show
    kiosk, display = paired["kiosk"].device, paired["display"].device
    kiosk_office = OfficeFile(tmp_path / "kiosk", kiosk.id)
    config = kiosk_office.load()[1]
    service = ReplicaService(
        open_replica(tmp_path / "kiosk" / "replica.sqlite"),
        config,
        kiosk,
        hub.url,
        interval=0.05,
        office=kiosk_office,
    )
    kiosk_window = build_kiosk(Session(config, kiosk, service), kiosk_mode=False, tts_engine="mock")
    display_office = OfficeFile(tmp_path / "display", display.id)
    board = HubBoard(hub.url, display.secret, display_office.load()[1], office=display_office)
    display_window = build_remote(board.config, board, tts_engine="mock")
    try:
        for window in (kiosk_window, display_window):
            qtbot.addWidget(window)
            window.resize(1280, 800)
            window.show()
        qtbot.waitUntil(lambda: "Building permits" in texts(kiosk_window), timeout=20_000)
        qtbot.waitUntil(lambda: "Building permits" in texts(display_window), timeout=20_000)

        # A name the office cannot have: the same message as check-config, nothing changed.
        form = page.locator("form", has=page.get_by_role("button", name="Save permits"))
        form.get_by_label("Name (en)").fill("")
        form.get_by_role("button").click()
        expect(page.get_by_role("alert")).to_have_text(
            "office: lines[0].name: no text in 'en', the first language"
        )
        no_violations(page)
        form = page.locator("form", has=page.get_by_role("button", name="Save permits"))
        form.get_by_label("Name (en)").fill(NEW_NAME)
        form.get_by_role("button").click()
        expect(page.get_by_role("status").first).to_contain_text("Line permits saved")

        # Kiosks learn the office's version with their next pull; displays ask every 5 s.
        qtbot.waitUntil(lambda: NEW_NAME in texts(kiosk_window), timeout=20_000)
        qtbot.waitUntil(lambda: NEW_NAME in texts(display_window), timeout=30_000)

        # A new line appears on the kiosk; removed after a ticket, it takes no new ones.
        new_line = page.locator("form", has=page.get_by_role("button", name="Add line"))
        new_line.get_by_label("New line's id").fill("parking")
        new_line.get_by_label("Ticket letter").fill("p")
        new_line.get_by_label("Name (en)").fill("Parking permits")
        new_line.get_by_role("button").click()
        expect(page.get_by_role("status").first).to_contain_text("Line parking saved")
        qtbot.waitUntil(lambda: "Parking permits" in texts(kiosk_window), timeout=20_000)
        hub.issue("parking")
        page.get_by_role("button", name="Remove parking").click()
        expect(page.get_by_role("status").first).to_contain_text("takes no new tickets")
        qtbot.waitUntil(lambda: "Parking permits" not in texts(kiosk_window), timeout=20_000)

        # Settings: a choice goes back to its own type, and reaches the kiosk's copy.
        printer = page.locator("form", has=page.get_by_role("button", name="Save printer settings"))
        printer.get_by_label("paper mm").select_option("58")
        printer.get_by_role("button").click()
        expect(page.get_by_role("status").first).to_contain_text("printer settings are saved")
        qtbot.waitUntil(lambda: service.config.printer.paper_mm == 58, timeout=20_000)

        # Languages: one no longer offered leaves the kiosk's welcome screen.
        arabic = i18n.language_name("ar")
        offered = page.locator("form", has=page.get_by_role("button", name="Save languages"))
        offered.get_by_role("checkbox", name=f"{arabic} (ar)").uncheck()
        offered.get_by_role("button").click()
        expect(page.get_by_role("status").first).to_contain_text("Languages saved")
        qtbot.waitUntil(lambda: arabic not in texts(kiosk_window.welcome), timeout=20_000)

        # A new counter: without a line it is refused in check-config's words.
        new_counter = page.locator("form", has=page.get_by_role("button", name="Add counter"))
        new_counter.get_by_label("New counter's id").fill("c7")
        new_counter.get_by_label("Name (en)").fill("Counter 7")
        new_counter.get_by_role("button").click()
        expect(page.get_by_role("alert")).to_contain_text("office: counters[6].lines: List should")
        new_counter = page.locator("form", has=page.get_by_role("button", name="Add counter"))
        new_counter.get_by_label("New counter's id").fill("c7")
        new_counter.get_by_label("Name (en)").fill("Counter 7")
        new_counter.get_by_label("permits").check()
        new_counter.get_by_role("button").click()
        expect(page.get_by_role("status").first).to_contain_text("Counter c7 saved")
        qtbot.waitUntil(lambda: "c7" in {c.id for c in service.config.counters}, timeout=20_000)
        no_violations(page)

        # Staff: add one (a 6-digit PIN shown once), who then signs in at a desk.
        new_staff = page.locator("form", has=page.get_by_role("button", name="Add staff member"))
        new_staff.get_by_label("Id", exact=True).fill("zoe")
        new_staff.get_by_label("Name", exact=True).fill("Zoe")
        page.get_by_role("button", name="Add staff member").click()
        pin = page.locator("#new-pin").inner_text()
        assert len(pin) == 6 and pin.isdigit()
        signed = hub.post("/api/staff/login", DESK, json={"staff": "zoe", "pin": pin})
        assert signed.status_code == 200, signed.text
        page.get_by_role("button", name="Reset PIN of zoe").click()
        new_pin = page.locator("#new-pin").inner_text()
        old = hub.post("/api/staff/login", DESK, json={"staff": "zoe", "pin": pin})
        assert old.status_code == 401 and new_pin != pin
        page.get_by_role("button", name="Disable zoe").click()
        expect(page.get_by_role("button", name="Enable zoe")).to_be_visible()
        gone = hub.post("/api/staff/login", DESK, json={"staff": "zoe", "pin": new_pin})
        assert gone.status_code == 401
        no_violations(page)

        # Revoke the kiosk: refused at once, and its service says why.
        page.get_by_role("button", name=f"Revoke {kiosk.id}").click()
        expect(page.get_by_role("status").first).to_contain_text(f"{kiosk.id} is revoked")
        assert hub.get("/api/office", kiosk.secret).json()["code"] == "device_revoked"
        # The kiosk's screen says so at once, in its languages, before anyone taps it.
        qtbot.waitUntil(lambda: kiosk_window.removed is not None, timeout=20_000)
        assert kiosk_window.stack.currentWidget() is kiosk_window.removed
        shown = texts(kiosk_window.removed)
        assert REMOVED in shown and i18n.text("es", "kiosk.removed") in shown
        with pytest.raises(DeviceRemoved, match=REMOVED):
            service.refresh()
        with pytest.raises(Rejected, match=REMOVED):  # not even from its leased numbers
            service.issue("permits")
        # The display's screen says so, instead of "reconnecting".
        page.get_by_role("button", name=f"Revoke {display.id}").click()
        qtbot.waitUntil(lambda: display_window.banner.text() == REMOVED, timeout=20_000)
        assert display_window.banner.isVisible()
    finally:
        kiosk_window.printer.stop()
        service.close()
        board.close()

    # Every change is in `nowserving report`'s staff audit, by maria.
    day = service.today()
    out = tmp_path / "report"
    hub.issue("permits")  # the report covers days with tickets
    result = nowserving(
        hub, "report", "--config", str(hub.config), "--from", day, "--to", day, "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    with (out / "staff_actions.csv").open() as handle:
        audit = {
            row["reason"] for row in csv.DictReader(handle) if row["action"] == "office.changed"
            and row["staff"] == "maria"
        }  # fmt: skip
    assert {
        f"made a pairing code for {kiosk.id} (kiosk)",
        "renamed line permits to 'Permits and plans'",
        "added staff zoe",
        "reset the PIN of zoe",
        "disabled staff zoe",
        f"revoked {kiosk.id}",
        f"revoked {display.id}",
        "added counter c7 (Counter 7: permits)",
        "added line parking (P: 'Parking permits')",
        "retired line parking (no new tickets; gone tomorrow)",
        "changed the printer settings: paper_mm 80 → 58",
        "set the languages to en, es, zh, vi",
    } <= audit, audit


def test_a_form_from_another_site_is_refused(hub: RunningHub) -> None:
    forged = hub.post(
        "/admin/revoke",
        headers_extra={
            "Origin": "http://evil.example",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        data="device=kiosk-1",
    )
    assert forged.status_code == 403
    signed_out = hub.post("/admin/revoke", data={"device": "kiosk-1"})
    assert signed_out.status_code == 401 and "Sign in" in signed_out.text
