"""The front-desk console, driven by clicks and keyboard shortcuts over a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desk.window import DeskWindow
from display.app import build as build_display
from nowserving import __version__
from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.state import Status
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.sync.client import HubClient
from nowserving_qt.bootstrap import Session, pick_device
from tests.fit import problems
from tests.hub.conftest import DESK, KIOSK, start_hub, stop_hub
from tests.kiosk.conftest import language_button, open_kiosk, tap

pytestmark = pytest.mark.gui


def open_desk(
    qtbot: QtBot, config: OfficeConfig, folder: Path, counter: str = "c2", device: str = "desk-1"
) -> DeskWindow:
    service = LocalService(EventStore(folder / "office.sqlite"), config, device)
    window = DeskWindow(config, service, counter)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window


def sign_in(qtbot: QtBot, desk: DeskWindow, staff: str, pin: str) -> None:
    desk.signin.staff.setCurrentIndex(desk.signin.staff.findData(staff))
    qtbot.keyClicks(desk.signin.pin, pin)
    tap(qtbot, desk.signin.sign_in)
    qtbot.waitUntil(desk.signin.sign_in.isEnabled, timeout=3000)  # the PIN was checked


def kiosk_issues(config: OfficeConfig, folder: Path, *lines: str) -> LocalService:
    kiosk = LocalService(EventStore(folder / "office.sqlite"), config, "kiosk-1")
    for line in lines:
        kiosk.issue(line)
    return kiosk


def wait_done(qtbot: QtBot, desk: DeskWindow, name: str, trigger) -> object:  # type: ignore[no-untyped-def]
    """Run `trigger` and wait until the desk reports that action `name` is done."""
    with qtbot.waitSignal(
        desk.done, timeout=3000, check_params_cb=lambda action, _result: action == name
    ) as finished:
        trigger()
    return finished.args[1]


def test_wrong_pins_and_lockout(qtbot: QtBot, config: OfficeConfig, tmp_path: Path) -> None:
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "tom", "1111")
    assert desk.signin.message.text() == "Wrong staff member or PIN."
    assert desk.staff is None and desk.signin.pin.text() == ""
    for _ in range(4):
        sign_in(qtbot, desk, "tom", "1111")
    sign_in(qtbot, desk, "tom", "2468")
    assert "Too many wrong PINs" in desk.signin.message.text() and desk.staff is None
    sign_in(qtbot, desk, "maria", "1234")
    assert desk.staff is not None and desk.staff.name == "Maria"


def test_every_action_by_click_and_by_shortcut(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    kiosk = kiosk_issues(config, tmp_path, "permits", "licenses", "permits", "permits")
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "tom", "2468")
    qtbot.waitUntil(lambda: desk.service.counter("c2").open, timeout=2000)
    panel = desk.counter_panel
    assert panel.buttons["call_next"].hasFocus()  # not "Take a break"
    first = wait_done(qtbot, desk, "call_next", lambda: tap(qtbot, panel.buttons["call_next"]))
    assert panel.number.text() == "A-001" and "Building permits" in panel.details.text()
    wait_done(qtbot, desk, "recall", lambda: qtbot.keyClick(desk, Qt.Key.Key_F2))  # recall
    assert desk.service.ticket(first.id).recalls == 1  # type: ignore[attr-defined]
    wait_done(qtbot, desk, "complete", lambda: qtbot.keyClick(desk, Qt.Key.Key_F3))  # served
    assert desk.service.ticket(first.id).status is Status.SERVED  # type: ignore[attr-defined]
    second = wait_done(qtbot, desk, "call_next", lambda: qtbot.keyClick(desk, Qt.Key.Key_F1))
    assert second.label == "B-001"  # type: ignore[attr-defined]
    wait_done(qtbot, desk, "no_show", lambda: qtbot.keyClick(desk, Qt.Key.Key_F4))  # no-show
    assert "marked no-show" in desk.status.text()
    back = wait_done(qtbot, desk, "return", lambda: qtbot.keyClick(desk, Qt.Key.Key_F7))
    assert back.status is Status.WAITING and back.returned  # type: ignore[attr-defined]
    third = wait_done(qtbot, desk, "call_next", lambda: qtbot.keyClick(desk, Qt.Key.Key_F1))
    assert third.label == "B-001"  # back at their original place, first in line
    # Transfer to the end of another line, then one keeping their place.
    panel.transfer_line.setCurrentIndex(panel.transfer_line.findData("ids"))
    panel.keep_place.setChecked(False)
    qtbot.keyClick(desk, Qt.Key.Key_F5)  # asks first, naming who goes where
    box = desk.transfer_box
    assert box is not None and box.text() == "Transfer B-001 to Resident ID cards?"
    assert box.informativeText().startswith("No open counter serves that line")
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    tap(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    assert desk.service.ticket(third.id).line == "licenses"  # type: ignore[attr-defined]
    desk.service.open_counter("c5")  # Resident ID cards
    qtbot.keyClick(desk, Qt.Key.Key_F5)
    box = desk.transfer_box
    assert box is not None and box.informativeText() == "They join the end."

    def confirm() -> None:
        assert box is not None
        tap(qtbot, box.button(QMessageBox.StandardButton.Yes))

    moved = wait_done(qtbot, desk, "transfer", confirm)
    assert moved.line == "ids" and moved.transferred_from == "licenses"  # type: ignore[attr-defined]
    desk.activateWindow()  # as a window manager does once the question is gone
    qtbot.waitUntil(desk.isActiveWindow)
    # Call a specific ticket out of order, with a reason.
    qtbot.waitUntil(lambda: panel.queue.rowCount() == 2)
    panel.queue.selectRow(1)
    assert panel.selected() is not None and panel.selected().label == "A-003"  # type: ignore[union-attr]
    qtbot.keyClick(desk, Qt.Key.Key_F6)  # no reason given: refused, nothing written
    qtbot.waitUntil(lambda: "Say why" in desk.status.text(), timeout=3000)
    qtbot.keyClicks(panel.reason, "Interpreter available")
    panel.queue.selectRow(1)
    special = wait_done(
        qtbot, desk, "call_ticket", lambda: tap(qtbot, panel.buttons["call_ticket"])
    )
    assert special.label == "A-003"  # type: ignore[attr-defined]
    assert kiosk.state.tickets[special.id].out_of_order_reason == "Interpreter available"  # type: ignore[attr-defined]


def test_two_desks_never_call_the_same_resident(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    kiosk_issues(config, tmp_path, *["licenses"] * 6)
    left = open_desk(qtbot, config, tmp_path, "c2", "desk-1")
    right = open_desk(qtbot, config, tmp_path, "c3", "desk-2")
    sign_in(qtbot, left, "maria", "1234")
    sign_in(qtbot, right, "tom", "2468")
    called: list[object] = []
    for desk in (left, right):
        desk.done.connect(
            lambda action, result: called.append(result) if action == "call_next" else None
        )
    for _ in range(3):
        left.counter_panel.trigger("call_next")  # the same moment, on two PCs
        right.counter_panel.trigger("call_next")
    qtbot.waitUntil(lambda: len(called) == 6, timeout=5000)
    labels = [ticket.label for ticket in called]  # type: ignore[attr-defined]
    assert len(labels) == len(set(labels)) == 6


def test_line_control_is_seen_by_the_kiosk_and_the_display(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    desk = open_desk(qtbot, config, tmp_path)
    kiosk = open_kiosk(qtbot, config, tmp_path)
    display_service = LocalService(EventStore(tmp_path / "office.sqlite"), config, "display-1")
    display = build_display(
        Session(config, pick_device(config, "display", None), display_service), tts_engine="mock"
    )
    qtbot.addWidget(display)
    display.resize(1280, 720)
    display.show()
    sign_in(qtbot, desk, "maria", "1234")
    lines = desk.lines_panel
    assert desk.tabs.isTabVisible(1)
    desk.tabs.setCurrentIndex(1)
    # The office's common reasons come first, already translated; then "Other", typed in.
    assert lines.reason["records"].itemData(0) == "lunch"
    lines.reason["records"].setCurrentIndex(lines.reason["records"].findData(""))
    qtbot.keyClicks(lines.other_reason["en"], "System upgrade until 11:00")
    wait_done(qtbot, desk, "pause_line", lambda: tap(qtbot, lines.pause["records"]))
    lines.target["permits"].setCurrentIndex(lines.target["permits"].findData("licenses"))
    wait_done(qtbot, desk, "reroute_line", lambda: tap(qtbot, lines.reroute["permits"]))
    lines.announcement["en"].setText("Closing at 4 pm")
    wait_done(qtbot, desk, "set_announcement", lambda: tap(qtbot, lines.save))

    tap(qtbot, language_button(kiosk, "en"))
    qtbot.waitUntil(lambda: not kiosk.services.tiles()[2].isEnabled(), timeout=2000)
    assert "System upgrade until 11:00" in kiosk.services.tiles()[2].accessibleDescription()
    assert "now handled at Business licenses" in kiosk.services.tiles()[0].accessibleDescription()

    def display_texts() -> list[str]:
        return [display.lines.itemAt(n).widget().text() for n in range(display.lines.count())]

    qtbot.waitUntil(
        lambda: (
            {"Paused: System upgrade until 11:00", "Go to Business licenses"}
            <= set(display_texts())
        ),
        timeout=2000,
    )
    qtbot.waitUntil(lambda: display.ticker.text() == "Closing at 4 pm", timeout=2000)
    wait_done(qtbot, desk, "resume_line", lambda: tap(qtbot, lines.pause["records"]))
    qtbot.waitUntil(lambda: kiosk.services.tiles()[2].isEnabled(), timeout=2000)
    lines.reason["records"].setCurrentIndex(0)  # a common reason: every language at once
    wait_done(qtbot, desk, "pause_line", lambda: tap(qtbot, lines.pause["records"]))
    tap(qtbot, kiosk.bar.back_button)
    tap(qtbot, language_button(kiosk, "zh"))
    qtbot.waitUntil(lambda: not kiosk.services.tiles()[2].isEnabled(), timeout=2000)
    assert "午休中，稍后回来" in kiosk.services.tiles()[2].accessibleDescription()
    kiosk.printer.stop()


def test_clerks_without_line_control_cannot_pause(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "tom", "2468")
    assert not desk.tabs.isTabVisible(1)
    desk.act_on_line("pause_line", "permits", {"reason": "x"})
    assert "Only staff allowed" in desk.status.text()
    assert not desk.service.lines()[0].paused


def test_alerts_from_kiosks_show_at_the_desk(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    kiosk = kiosk_issues(config, tmp_path)
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "lin", "1357")
    kiosk.report_alert("printer", "The receipt printer is out of paper.")
    qtbot.waitUntil(lambda: desk.alerts.count() == 1, timeout=2000)
    assert desk.alerts.item(0).text() == "kiosk-1: The receipt printer is out of paper."
    kiosk.report_alert("printer", "")
    qtbot.waitUntil(lambda: desk.alerts.count() == 0, timeout=2000)


def test_break_closes_the_counter_and_the_console_fits(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "maria", "1234")
    qtbot.waitUntil(lambda: desk.service.counter("c2").open, timeout=2000)
    assert problems(desk) == []
    tap(qtbot, desk.break_button)
    qtbot.waitUntil(lambda: not desk.service.counter("c2").open, timeout=2000)
    qtbot.waitUntil(lambda: "break" in desk.status.text(), timeout=2000)  # the reply lands
    assert desk.stack.currentIndex() == 0


def test_sign_in_and_out_are_written_around_the_counter_events(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    """The hub accepts a desk's staff events only after that staff's sign-in there."""
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "tom", "2468")
    qtbot.waitUntil(lambda: desk.service.counter("c2").open, timeout=2000)
    wait_done(qtbot, desk, "close_counter", lambda: tap(qtbot, desk.break_button))
    sign_in(qtbot, desk, "lin", "1357")
    qtbot.waitUntil(lambda: desk.service.counter("c2").open, timeout=2000)
    wait_done(qtbot, desk, "sign_out", lambda: tap(qtbot, desk.signout_button))
    assert "Signed out" in desk.status.text()
    events = [e for _, e in desk.service.store.events_after(0)]
    assert [(e.kind.value, e.staff) for e in events] == [
        ("staff.signed_in", "tom"),
        ("counter.opened", "tom"),
        ("counter.closed", "tom"),
        ("staff.signed_out", "tom"),
        ("staff.signed_in", "lin"),
        ("counter.opened", "lin"),
        ("staff.signed_out", "lin"),
    ]
    assert all(e.data == {"counter": "c2"} for e in events)


def test_the_dashboard_shows_today(qtbot: QtBot, config: OfficeConfig, tmp_path: Path) -> None:
    kiosk_issues(config, tmp_path, "permits", "permits", "ids")
    desk = open_desk(qtbot, config, tmp_path)
    sign_in(qtbot, desk, "maria", "1234")
    wait_done(qtbot, desk, "call_next", lambda: desk.counter_panel.trigger("call_next"))
    desk.tabs.setCurrentWidget(desk.dashboard)
    qtbot.waitUntil(lambda: desk.dashboard.table.rowCount() == 2, timeout=3000)
    cells = {
        desk.dashboard.table.item(r, 0).text(): desk.dashboard.table.item(r, 1).text()
        for r in range(2)
    }
    assert cells == {"Building permits": "2", "Resident ID cards": "1"}
    assert desk.dashboard.chart.pixmap() is not None and not desk.dashboard.chart.pixmap().isNull()
    # Maria has line control: she sees per-staff figures; Tom, who has not, does not.
    desk.tabs.setCurrentWidget(desk.counter_panel)
    wait_done(qtbot, desk, "complete", lambda: desk.counter_panel.trigger("complete"))
    desk.tabs.setCurrentWidget(desk.dashboard)  # asks again at once
    qtbot.waitUntil(lambda: desk.dashboard.staff_table.rowCount() == 1, timeout=3000)
    assert [desk.dashboard.staff_table.item(0, c).text() for c in range(2)] == ["Maria", "1"]
    wait_done(qtbot, desk, "sign_out", lambda: tap(qtbot, desk.signout_button))
    sign_in(qtbot, desk, "tom", "2468")
    assert desk.dashboard.staff_table.isHidden() and desk.dashboard.staff_table.rowCount() == 0


def test_the_devices_tab_shows_memory_uptime_and_alerts_from_the_hub(
    qtbot: QtBot, tmp_path: Path
) -> None:
    hub = start_hub(tmp_path)
    try:
        config = load_config(hub.config)
        health = {"rss_mb": 123.4, "uptime_s": 7200, "version": "9.9.9"}
        HubClient(hub.url, KIOSK).call(
            "POST", "/api/sync/push", json={"events": [], "health": health}
        )
        # A desk on the hub's PC: the hub's store file, and the hub on its port for the figures.
        service = LocalService(EventStore(hub.data / "office.sqlite"), config, "desk-1")
        service.report_alert("printer", "Out of paper.", device="kiosk-1")
        desk = DeskWindow(config, service, "c2", HubClient(hub.url, DESK).device_status)
        qtbot.addWidget(desk)
        desk.show()
        sign_in(qtbot, desk, "maria", "1234")
        tabs = desk.tabs.tabBar()
        qtbot.mouseClick(
            tabs,
            Qt.MouseButton.LeftButton,
            pos=tabs.tabRect(desk.tabs.indexOf(desk.devices)).center(),
        )

        def row(device: str) -> list[str]:
            table = desk.devices.table
            for r in range(table.rowCount()):
                if table.item(r, 0).text() == device:
                    return [table.item(r, c).text() for c in range(table.columnCount())]
            return []

        qtbot.waitUntil(lambda: row("kiosk-1")[1:2] == ["kiosk"], timeout=10_000)
        assert row("kiosk-1")[2].endswith("s ago")
        assert row("kiosk-1")[3:] == ["123 MB", "2.0 h", "9.9.9", "Out of paper."]
        assert row("hub")[3].endswith(" MB") and row("hub")[5] == __version__
        assert row("display-1")[2:6] == ["never", "—", "—", "—"]

        stop_hub(hub)  # the figures stay, and the desk says why they do not move
        desk.devices_timer.timeout.emit()
        qtbot.waitUntil(lambda: "Could not ask the hub" in desk.devices.note.text(), timeout=10_000)
        assert row("kiosk-1")[3] == "123 MB"
        service.store.close()
    finally:
        stop_hub(hub)
