"""The kiosk driven by taps and by a tactile keypad, as residents would."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kiosk.flow import Screen
from kiosk.window import KioskWindow
from nowserving.domain.config import OfficeConfig
from nowserving.system import i18n
from tests.fit import problems
from tests.kiosk.conftest import language_button, open_kiosk, tap

LANGUAGES = ["en", "es", "zh", "vi", "ar"]


def _take_ticket(
    qtbot: QtBot, kiosk: KioskWindow, lang: str, tile: int = 0, priority: bool = False
) -> None:
    tap(qtbot, language_button(kiosk, lang))
    tap(qtbot, kiosk.services.tiles()[tile])
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=5000):
        tap(qtbot, kiosk.priority.yes if priority else kiosk.priority.no)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tap_through_in_every_language(qtbot: QtBot, kiosk: KioskWindow, lang: str) -> None:
    tap(qtbot, language_button(kiosk, lang))
    assert kiosk.services.title.text() == i18n.text(lang, "kiosk.choose_service")
    expected_direction = (
        Qt.LayoutDirection.RightToLeft if lang == "ar" else Qt.LayoutDirection.LeftToRight
    )
    assert kiosk.layoutDirection() == expected_direction
    tap(qtbot, kiosk.services.tiles()[1])
    assert kiosk.priority.question.text() == i18n.text(lang, "kiosk.priority_question")
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=5000) as shown:
        tap(qtbot, kiosk.priority.yes)
    ticket = shown.args[0]
    stored = kiosk.service.ticket(ticket.id)
    assert (stored.label, stored.line, stored.priority, stored.lang) == (
        "B-001",
        "licenses",
        True,
        lang,
    )
    assert kiosk.ticket.number.text() == "B-001"
    assert kiosk.ticket.service.text() == kiosk.config.line("licenses").name[lang]
    assert kiosk.ticket.qr.pixmap() is not None and not kiosk.ticket.qr.pixmap().isNull()
    assert "/c/" in kiosk.ticket.short.text()
    tap(qtbot, kiosk.ticket.done_button)
    assert kiosk.flow.screen is Screen.WELCOME and kiosk.flow.lang == "en"


def test_a_double_tap_issues_one_ticket(qtbot: QtBot, kiosk: KioskWindow) -> None:
    tap(qtbot, language_button(kiosk, "en"))
    tap(qtbot, kiosk.services.tiles()[0])
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=5000):
        qtbot.mouseClick(kiosk.priority.no, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(kiosk.priority.no, Qt.MouseButton.LeftButton)
        kiosk.answer_priority(False)  # and a third, straight at the window
    qtbot.wait(200)
    assert len(kiosk.service.state.tickets) == 1
    tap(qtbot, kiosk.ticket.done_button)
    _take_ticket(qtbot, kiosk, "en")  # the next resident can answer again
    assert len(kiosk.service.state.tickets) == 2


def test_paused_and_rerouted_lines(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.service.pause_line("records", "Back at 2 pm")
    kiosk.service.reroute_line("payments", "licenses")
    qtbot.waitUntil(lambda: kiosk.service.lines()[2].paused)
    tap(qtbot, language_button(kiosk, "en"))
    records, payments = kiosk.services.tiles()[2], kiosk.services.tiles()[3]
    assert not records.isEnabled()
    texts = [label.text() for label in records.findChildren(QLabel)]
    assert "Paused: Back at 2 pm" in texts
    assert any(
        "now handled at Business licenses" in label.text()
        for label in payments.findChildren(QLabel)
    )
    tap(qtbot, payments)
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=5000) as shown:
        tap(qtbot, kiosk.priority.no)
    assert shown.args[0].line == "licenses" and kiosk.ticket.number.text() == "B-001"


def test_a_pause_reason_is_read_in_the_residents_language(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.service.pause_line("records", {"en": "Back at 2 pm", "es": "Volvemos a las 2"})
    kiosk.service.pause_line("ids", "system-down")  # one of the office's common reasons
    qtbot.waitUntil(lambda: kiosk.service.lines()[4].paused)
    tap(qtbot, language_button(kiosk, "es"))
    records, ids = kiosk.services.tiles()[2], kiosk.services.tiles()[4]
    assert "En pausa: Volvemos a las 2" in [label.text() for label in records.findChildren(QLabel)]
    assert "En pausa: El sistema informático no funciona" in [
        label.text() for label in ids.findChildren(QLabel)
    ]
    tap(qtbot, kiosk.bar.back_button)
    tap(qtbot, language_button(kiosk, "vi"))  # no Vietnamese given: the first language's
    records = kiosk.services.tiles()[2]
    assert "Tạm ngưng: Back at 2 pm" in [label.text() for label in records.findChildren(QLabel)]


def test_a_refusal_is_told_in_the_residents_language(qtbot: QtBot, kiosk: KioskWindow) -> None:
    tap(qtbot, language_button(kiosk, "ar"))
    tap(qtbot, kiosk.services.tiles()[2])  # records, then it pauses before the ticket
    kiosk.service.pause_line("records", "lunch")
    tap(qtbot, kiosk.priority.no)
    qtbot.waitUntil(lambda: kiosk.flow.screen is Screen.SERVICES, timeout=5000)
    assert kiosk.services.error.text() == i18n.text("ar", "error.line_paused")
    assert "This line is paused" in kiosk.errors[-1]  # staff keep the English detail


def test_the_aids_are_labelled_in_every_language_before_one_is_chosen(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    larger = kiosk.bar.buttons["large_text"]
    languages = kiosk.config.office.languages
    for lang in languages:  # voice guidance reads them all
        assert i18n.text(lang, "kiosk.larger_text") in larger.accessibleName()
    kiosk.bar._cycle.setInterval(50)
    seen: set[str] = set()
    qtbot.waitUntil(lambda: seen.add(larger.text()) or len(seen) == len(languages), timeout=5000)
    assert seen == {i18n.text(lang, "kiosk.larger_text") for lang in languages}
    tap(qtbot, language_button(kiosk, "zh"))  # chosen: Chinese only, and it stays
    assert larger.text() == larger.accessibleName() == i18n.text("zh", "kiosk.larger_text")
    qtbot.wait(150)
    assert larger.text() == i18n.text("zh", "kiosk.larger_text")


def test_the_idle_timer_returns_to_welcome(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.idle.setInterval(150)
    tap(qtbot, language_button(kiosk, "vi"))
    tap(qtbot, kiosk.bar.buttons["high_contrast"])
    qtbot.waitUntil(lambda: kiosk.flow.screen is Screen.WELCOME, timeout=5000)
    assert kiosk.flow.lang == "en" and not kiosk.flow.aids.high_contrast


def test_the_ticket_screen_goes_back_by_itself(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.ticket_timer.setInterval(200)
    _take_ticket(qtbot, kiosk, "en")
    qtbot.waitUntil(lambda: kiosk.flow.screen is Screen.WELCOME, timeout=5000)


def _tops(window: KioskWindow) -> dict[str, int]:
    controls = window.choices() + list(window.bar.buttons.values())
    return {c.accessibleName(): c.mapTo(window, c.rect().topLeft()).y() for c in controls}


def test_accessibility_modes(qtbot: QtBot, kiosk: KioskWindow) -> None:
    tap(qtbot, language_button(kiosk, "es"))
    tap(qtbot, kiosk.bar.buttons["low_reach"])
    qtbot.wait(50)
    half = kiosk.height() / 2
    assert all(top >= half for top in _tops(kiosk).values()), _tops(kiosk)
    normal_size = kiosk.services.title.font().pixelSize()
    tap(qtbot, kiosk.bar.buttons["large_text"])
    assert kiosk.services.title.font().pixelSize() > normal_size
    qtbot.wait(50)
    # Larger text needs more room: the controls stay in the lower two thirds.
    assert all(top >= kiosk.height() / 3 for top in _tops(kiosk).values()), _tops(kiosk)
    assert problems(kiosk) == []
    tap(qtbot, kiosk.bar.buttons["high_contrast"])
    assert "#ffff00" in kiosk.styleSheet()
    tap(qtbot, kiosk.bar.back_button)
    assert kiosk.flow.screen is Screen.WELCOME and not kiosk.flow.aids.large_text


def test_voice_guided_by_keypad_alone(qtbot: QtBot, kiosk: KioskWindow) -> None:
    spoken = kiosk.speaker.spoken

    def press(key: Qt.Key) -> None:
        qtbot.keyClick(kiosk, key)

    press(Qt.Key.Key_5)  # any keypad key turns voice guidance on
    assert kiosk.flow.aids.voice
    assert spoken[-2][1] == i18n.text("en", "kiosk.voice_intro")
    assert "Touch your language" in spoken[-1][1]
    press(Qt.Key.Key_Right)
    press(Qt.Key.Key_Right)
    assert spoken[-1][1].startswith("Español")
    press(Qt.Key.Key_Return)
    assert kiosk.flow.lang == "es"
    assert spoken[-1] == ("es", i18n.text("es", "kiosk.choose_service"))
    press(Qt.Key.Key_Down)
    assert spoken[-1][1].startswith("Permisos de construcción")
    assert "1 de 6" in spoken[-1][1]  # five services and Back
    press(Qt.Key.Key_Return)
    assert kiosk.flow.screen is Screen.PRIORITY
    assert spoken[-1][1].startswith(i18n.text("es", "kiosk.priority_question"))
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=5000):
        press(Qt.Key.Key_2)  # number keys choose directly: 2 = "No"
    assert "A 0 0 1" in spoken[-1][1] and "Permisos de construcción" in spoken[-1][1]
    press(Qt.Key.Key_0)  # hear it again
    assert spoken[-1][1] == spoken[-2][1]
    press(Qt.Key.Key_Down)
    assert spoken[-1][1].startswith(i18n.text("es", "kiosk.done"))
    press(Qt.Key.Key_Return)
    assert kiosk.flow.screen is Screen.WELCOME


def test_kiosk_mode_hides_a_staff_screen_behind_a_pin(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    window = open_kiosk(qtbot, config, tmp_path)
    window.allow_close = False
    window.close()
    assert window.isVisible()  # residents cannot close it
    for _ in range(4):
        tap(qtbot, window.corner)
    assert window.stack.currentWidget() is not window.pin
    tap(qtbot, window.corner)
    assert window.stack.currentWidget() is window.pin
    window.printer_changed(window.printer_status)  # a re-render leaves staff where they are
    assert window.stack.currentWidget() is window.pin
    for key in "9999":
        tap(qtbot, window.pin.keys[key])
    tap(qtbot, window.pin.keys["OK"])
    assert not window.pin.keys["1"].isEnabled()  # checked off the UI thread
    qtbot.waitUntil(lambda: window.pin.message.text() == "Wrong staff member or PIN.")
    for key in ["2", "4", "6", "8", "OK"]:  # Tom's PIN
        tap(qtbot, window.pin.keys[key])
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.maintenance)
    assert "Printer" in window.maintenance.details.text()
    window.maintenance.quit_kiosk.emit()
    assert not window.isVisible()
    window.printer.stop()


def _name(widget: QWidget) -> str:
    return widget.accessibleName() or (
        widget.text() if isinstance(widget, QLabel | QAbstractButton) else ""
    )


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_fits_with_big_touch_targets(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path, size: tuple[int, int], lang: str
) -> None:
    window = open_kiosk(qtbot, config, tmp_path, size)
    window.service.pause_line("records", "Closed for staff training until 2 pm today")
    window.service.open_counter("c1")
    window.render_view()
    dots_per_mm = window.logicalDpiX() / 25.4
    screens = []
    for step in ("welcome", "services", "priority", "ticket", "large", "low"):
        if step == "services":
            tap(qtbot, language_button(window, lang))
        elif step == "priority":
            tap(qtbot, window.services.tiles()[0])
        elif step == "ticket":
            with qtbot.waitSignal(window.ticket_shown, timeout=5000):
                tap(qtbot, window.priority.no)
        elif step == "large":
            tap(qtbot, window.bar.buttons["large_text"])
        elif step == "low":
            tap(qtbot, window.ticket.done_button)
            tap(qtbot, language_button(window, lang))
            tap(qtbot, window.bar.buttons["low_reach"])
        qtbot.wait(20)
        screens.append(step)
        assert problems(window) == [], f"{step} at {size} in {lang}"
        for choice in window.choices() + list(window.bar.buttons.values()):
            assert choice.height() >= 15 * dots_per_mm, f"{_name(choice)} is too short"
            assert choice.width() >= 15 * dots_per_mm, f"{_name(choice)} is too narrow"
    window.printer.stop()
    assert screens


def test_chinese_glyphs_really_render(qtbot: QtBot, kiosk: KioskWindow) -> None:
    from PySide6.QtGui import QImage

    def drawn(text: str) -> QImage:
        probe = QLabel(text)
        probe.setStyleSheet("font-size: 48px; color: black; background: white;")
        qtbot.addWidget(probe)
        probe.resize(80, 80)
        return probe.grab().toImage()

    middle, text, missing = drawn("中"), drawn("文"), drawn("\U0010fffd")
    assert middle != text, "two different Han characters look the same: a missing CJK font"
    assert middle != missing
    tap(qtbot, language_button(kiosk, "zh"))
    title = kiosk.services.title
    assert title.text() == i18n.text("zh", "kiosk.choose_service")
    assert title.fontMetrics().inFontUcs4(ord(title.text()[0]))


@pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
def test_printer_faults_never_cost_a_resident_their_ticket(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    from nowserving.domain.config import Printer
    from tests.kiosk.fake_printer import FakePrinter

    with FakePrinter() as printer:
        printer.mode = "paper_out"
        with_printer = config.model_copy(
            update={"printer": Printer(kind="network", host=printer.host, port=printer.port)}
        )
        window = open_kiosk(qtbot, with_printer, tmp_path)
        window.printer.retry_every = window.printer.probe_every = 0.1
        qtbot.waitUntil(lambda: window.bar.printer.isVisible(), timeout=5000)
        qtbot.waitUntil(
            lambda: (
                [a.message for a in window.service.board().alerts]
                == ["The receipt printer is out of paper."]
            ),
            timeout=5000,
        )
        _take_ticket(qtbot, window, "en")
        assert window.ticket.number.text() == "A-001"  # stored and shown all the same
        assert window.ticket.printing.text() == i18n.text("en", "kiosk.no_printer")
        printer.mode = "ok"  # staff put in a new roll
        qtbot.waitUntil(lambda: not window.service.board().alerts, timeout=5000)
        qtbot.waitUntil(lambda: b"A-001" in printer.received, timeout=5000)  # resumed by itself
        tap(qtbot, window.ticket.done_button)
        _take_ticket(qtbot, window, "es")
        assert window.ticket.printing.text() == i18n.text("es", "kiosk.printing")
        qtbot.waitUntil(lambda: b"A-002" in printer.received, timeout=5000)
        printer.down()  # unplugged
        qtbot.waitUntil(lambda: window.bar.printer.isVisible(), timeout=5000)
        window.printer.stop()
