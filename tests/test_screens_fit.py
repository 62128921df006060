"""Every screen of the kiosk, the desk and the display fits: each size x language x mode.

One window per app (per language for the display, whose language is the office's) is
built once and walked through its screens; `tests.fit.problems` checks each one, grabbed
offscreen. The whole walk is budgeted at about a minute on the shared 2-core machine.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desk.window import DeskWindow
from display.app import build as build_display
from display.window import DisplayWindow
from kiosk.app import build as build_kiosk
from kiosk.window import KioskWindow
from nowserving.domain.config import Notify, NotifySms, OfficeConfig, parse_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system import i18n
from nowserving.system.paths import sample_config
from nowserving_qt.bootstrap import Session, pick_device
from tests.desk.test_desk import sign_in
from tests.fit import problems
from tests.kiosk.test_check_in import OFFICE as BOOKING_OFFICE

pytestmark = pytest.mark.gui

SIZES = [(1280, 800), (1920, 1080), (1080, 1920)]
LANGUAGES = ["en", "es", "ar", "vi", "zh"]
MODES = ["normal", "large_text", "high_contrast", "low_reach"]
LONG_REASON = "Closed for staff training until 2 pm today"


def settled(window: QWidget) -> QWidget:
    """Lay out what changed and paint it once, as a screen would."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    window.grab()
    return window


def busy_office(service: LocalService) -> None:
    """A morning's worth: people waiting, a few called, a paused line, an announcement."""
    for line in ["permits"] * 6 + ["licenses"] * 3 + ["ids"] * 4 + ["payments"] * 2:
        service.issue(line)
    for counter in ("c1", "c2", "c3"):
        service.open_counter(counter)
    service.pause_line("records", LONG_REASON)


def in_language(config: OfficeConfig, lang: str) -> OfficeConfig:
    """The same office with `lang` first (its display language)."""
    others = [code for code in config.office.languages if code != lang]
    office = config.office.model_copy(update={"languages": [lang, *others]})
    return config.model_copy(update={"office": office})


def assert_fits(window: QWidget, what: str) -> None:
    found = problems(settled(window))
    if found:  # a picture of what did not fit, to look at
        name = re.sub(r"[^\w-]+", "-", what)
        shot = Path(tempfile.gettempdir()) / "nowserving-fit" / f"{name}.png"
        shot.parent.mkdir(exist_ok=True)
        window.grab().save(str(shot))
        found.append(f"(the screen: {shot})")
    assert found == [], f"{what}:\n" + "\n".join(found)


# -- the kiosk -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kiosk(qapp: QApplication, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskWindow]:
    folder = tmp_path_factory.mktemp("kiosk")
    # An office that takes bookings: the welcome screen shows "I have an appointment",
    # and its check-in screen. Text messages offered: the ticket screen shows "Text me".
    config = parse_config(sample_config().read_text(encoding="utf-8") + BOOKING_OFFICE)
    config = config.model_copy(
        update={"notify": Notify(sms=NotifySms(url="http://127.0.0.1:9/sms"))}
    )
    service = LocalService(EventStore(folder / "office.sqlite"), config, "kiosk-1")
    busy_office(service)
    window = build_kiosk(
        Session(config, pick_device(config, "kiosk", None), service),
        kiosk_mode=False,
        tts_engine="mock",
    )
    window.show()
    yield window
    window.printer.stop()
    window.close()
    window.deleteLater()
    service.store.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_kiosk_screen_fits(
    qtbot: QtBot, kiosk: KioskWindow, size: tuple[int, int], lang: str, mode: str
) -> None:
    kiosk.setFixedSize(*size)
    kiosk.flow.reset()

    def check(screen: str) -> None:
        if mode != "normal":
            setattr(kiosk.flow.aids, mode, True)
        kiosk.render_view()
        assert_fits(kiosk, f"kiosk {screen} at {size} in {lang}, {mode}")

    check("welcome")
    kiosk.choose_language(lang)
    check("services")
    kiosk.choose_line(kiosk.services.tiles()[0].line)
    check("priority")
    with qtbot.waitSignal(kiosk.ticket_shown, timeout=5000):
        kiosk.answer_priority(False)
    check("ticket")
    kiosk.ask_phone()
    for key in "1510555014799":  # a long number: 13 digits
        kiosk.press_key(key)
    check("phone")
    if mode == "large_text":  # the longest note, in the largest text
        kiosk.flow.phone_done(i18n.text(lang, "kiosk.phone_offline"), saved=False)
        check("ticket, the number not saved")
    # I have an appointment: the code keypad with a whole code and what it says of an
    # unknown one (the keys' least room), and the ticket of a resident who came late
    # (the longest check-in note).
    ticket = kiosk.flow.ticket
    assert ticket is not None
    kiosk.flow.reset()
    kiosk.flow.lang = lang
    kiosk.flow.ask_check_in()
    for key in "K7M2Q9XA":
        kiosk.flow.press_code(key)
    kiosk.flow.check_in_failed(i18n.refusal(lang, "booking_unknown"))
    check("check-in, unknown code")
    finger = 15 * kiosk.logicalDpiX() / 25.4  # the kiosk's touch target: 15 mm each way
    keys = kiosk.check_in_screen.keys.values()
    assert min(min(key.width(), key.height()) for key in keys) >= finger, "keys too small"
    if mode == "large_text":
        late = i18n.text(lang, "checkin.late", minutes=kiosk.config.booking.grace_minutes)
        kiosk.flow.checked_in(ticket, late)
        check("ticket, checked in late")


# -- the display -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def displays(
    qapp: QApplication, config: OfficeConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[DisplayWindow, LocalService]]]:
    """One display per office language, over one busy store."""
    folder = tmp_path_factory.mktemp("display")
    desk = LocalService(EventStore(folder / "office.sqlite"), config, "desk-1")
    busy_office(desk)
    for counter in ("c1", "c2", "c3", "c1", "c2"):
        desk.call_next(counter)
    desk.recall(desk.counter("c1").current.id)  # type: ignore[union-attr]
    desk.set_announcement({lang: LONG_REASON for lang in config.office.languages})
    windows = {}
    for lang in LANGUAGES:
        office = in_language(config, lang)
        service = LocalService(EventStore(folder / "office.sqlite"), office, "display-1")
        window = build_display(
            Session(office, pick_device(office, "display", None), service), tts_engine="mock"
        )
        window.show()
        windows[lang] = (window, service)
    yield windows
    for window, service in windows.values():
        window.close()
        window.deleteLater()
        service.store.close()
    desk.store.close()


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_display_fits(
    displays: dict[str, tuple[DisplayWindow, LocalService]],
    size: tuple[int, int],
    lang: str,
    offline: bool,
) -> None:
    window, _service = displays[lang]
    window.setFixedSize(*size)
    window.set_trouble("the hub does not answer" if offline else "")
    window.flash_timer.stop()
    window.render_view()
    assert_fits(window, f"display at {size} in {lang}, {'offline' if offline else 'online'}")


# -- the desk --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(
    qapp: QApplication, config: OfficeConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeskWindow]:
    folder = tmp_path_factory.mktemp("desk")
    service = LocalService(EventStore(folder / "office.sqlite"), config, "desk-1")
    busy_office(service)
    window = DeskWindow(config, service, "c2", device_status=lambda: [])
    window.show()
    yield window
    window.close()
    window.deleteLater()
    service.store.close()


@pytest.mark.parametrize("size", [(1100, 760), *SIZES], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_desk_screen_fits(qtbot: QtBot, desk: DeskWindow, size: tuple[int, int]) -> None:
    desk.resize(*size)
    # The layout takes the new width on the next loop; until then its height is the last
    # size's (a portrait one, in a random order, wraps more).
    qtbot.waitUntil(lambda: desk.width() == size[0], timeout=5000)
    QApplication.processEvents()
    assert desk.minimumSizeHint().height() <= size[1], "the desk is taller than the screen"
    desk.sign_out()
    assert_fits(desk, f"desk sign-in at {size}")
    sign_in(qtbot, desk, "maria", "1234")  # she may control lines: every tab shows
    with qtbot.waitSignal(desk.done, timeout=5000):
        desk.counter_panel.trigger("call_next")
    for tab in range(desk.tabs.count()):
        desk.tabs.setCurrentIndex(tab)
        assert_fits(desk, f"desk tab {desk.tabs.tabText(tab)} at {size}")
    desk.tabs.setCurrentIndex(0)


def test_the_check_sees_cut_text_and_rows_on_top_of_each_other(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout

    window = QWidget()
    qtbot.addWidget(window)
    rows = QVBoxLayout(window)
    wrapped = QLabel("Tiempo de espera aproximado: 14–116 min " * 3)
    wrapped.setWordWrap(True)
    rows.addWidget(wrapped)
    rows.addWidget(QPushButton("Mostrar en la sala de espera"))
    for text in ("Pause", "Reroute"):
        row = QPushButton(text)
        row.setMinimumHeight(50)  # a layout below its minimum stacks these onto each other
        rows.addWidget(row)
    window.setFixedSize(120, 60)  # far below what the layout needs
    window.show()
    found = problems(settled(window))
    assert any("QLabel" in p and "of height" in p for p in found)
    assert any("QPushButton 'Mostrar" in p and "needs" in p for p in found)
    assert any("'Pause'" in p and "overlaps" in p and "'Reroute'" in p for p in found)
    assert any("'Reroute'" in p and "is outside" in p for p in found)
