"""The lobby display over a real store, with Qt's mock speech engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from display.app import build
from display.window import DisplayWindow
from nowserving.domain.config import OfficeConfig
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system import i18n
from nowserving_qt.bootstrap import Session, pick_device
from tests.fit import problems

pytestmark = pytest.mark.gui


def open_display(
    qtbot: QtBot, config: OfficeConfig, folder: Path, size: tuple[int, int] = (1920, 1080)
) -> tuple[DisplayWindow, LocalService]:
    path = folder / "office.sqlite"
    display_service = LocalService(EventStore(path), config, "display-1")
    desk = LocalService(EventStore(path), config, "desk-1")  # another process's connection
    window = build(
        Session(config, pick_device(config, "display", None), display_service), tts_engine="mock"
    )
    qtbot.addWidget(window)
    window.setFixedSize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window, desk


@pytest.fixture
def display(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> Iterator[tuple[DisplayWindow, LocalService]]:
    yield open_display(qtbot, config, tmp_path)


def _call_first_resident(qtbot: QtBot, window: DisplayWindow, desk: LocalService) -> None:
    """A desk calls A-001; the display shows it."""
    desk.issue("permits")
    desk.call_next("c1")
    qtbot.waitUntil(lambda: window.now_label.text() == "A-001", timeout=5000)


def _spoken(window: DisplayWindow) -> list[str]:
    return [text for _, text in window.announcer.speaker.spoken]


def test_a_call_appears_and_is_announced_in_the_office_languages(
    qtbot: QtBot, display: tuple[DisplayWindow, LocalService]
) -> None:
    window, desk = display
    _call_first_resident(qtbot, window, desk)
    assert window.now_counter.text() == "Counter 1"
    qtbot.waitUntil(lambda: len(_spoken(window)) >= 3, timeout=5000)
    assert _spoken(window)[0] == "Ticket A 0 0 1, please go to Counter 1."
    # The sample office announces in English, Spanish and Chinese ([display] announce_in).
    assert [lang for lang, _ in window.announcer.speaker.spoken] == ["en", "es", "zh"]
    # Each call is wholly in its language, the counter's name too.
    assert _spoken(window)[1:3] == [
        "Turno A 0 0 1, por favor pase a Ventanilla 1.",
        "请A 0 0 1号到1号窗口办理。",
    ]


def test_calls_together_are_queued_and_a_recall_is_announced_again(
    qtbot: QtBot, display: tuple[DisplayWindow, LocalService]
) -> None:
    window, desk = display
    for _ in range(2):
        desk.issue("ids")
    first = desk.call_next("c4")
    desk.call_next("c5")
    assert first is not None
    desk.recall(first.id)
    qtbot.waitUntil(
        lambda: len(window.announcer.queue) == 0 and len(_spoken(window)) == 9, timeout=15_000
    )
    english = [text for lang, text in window.announcer.speaker.spoken if lang == "en"]
    assert english == [
        "Ticket E 0 0 1, please go to Counter 4.",
        "Ticket E 0 0 2, please go to Counter 5.",
        "Again: ticket E 0 0 1, please go to Counter 4.",
    ]


def test_old_calls_are_not_announced_on_start(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    first, desk = open_display(qtbot, config, tmp_path)
    _call_first_resident(qtbot, first, desk)
    second, _ = open_display(qtbot, config, tmp_path)
    qtbot.wait(200)
    assert second.now_label.text() == "A-001" and _spoken(second) == []


def test_paused_rerouted_lines_and_the_ticker(
    qtbot: QtBot, display: tuple[DisplayWindow, LocalService]
) -> None:
    window, desk = display
    desk.pause_line("records", "Back at 2 pm")
    desk.reroute_line("payments", "licenses")
    desk.set_announcement({"en": "Closing at 4 pm", "es": "Cerramos a las 4 pm"})

    def texts() -> list[str]:
        return [window.lines.itemAt(n).widget().text() for n in range(window.lines.count())]

    qtbot.waitUntil(lambda: "Paused: Back at 2 pm" in texts(), timeout=5000)
    assert "Go to Business licenses" in texts()
    assert window.ticker.text() == "Closing at 4 pm"
    window._rotate_ticker()
    assert window.ticker.text() == "Cerramos a las 4 pm"


def test_the_offline_banner_appears_and_clears(
    qtbot: QtBot, display: tuple[DisplayWindow, LocalService]
) -> None:
    window, desk = display
    _call_first_resident(qtbot, window, desk)
    store = window.service.store  # type: ignore[attr-defined]
    store.close()  # the store goes away (unplugged disk, hub gone)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    # Since when, by the office's clock (the one on screen), not this PC's zone.
    assert window.banner.text() == f"Reconnecting since {window.time.text()[:5]}"
    assert window.banner.property("role") == "alert"  # not the announcements' look
    assert window.now_label.text() == "A-001"  # the last state stays up...
    assert window.stale.isVisible() and window.now_label.property("role") == "huge-stale"
    assert window.stale.text() == "These calls may be out of date"  # ...marked as such
    window._rotate_ticker()  # the banner takes each office language in turn, with the ticker
    assert window.banner.text().startswith("Reconectando desde")
    window.service.store = EventStore(store.path)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=5000)
    assert not window.stale.isVisible() and window.now_label.property("role") == "huge"


def test_recent_calls_have_a_heading_and_list_each_resident_once(
    qtbot: QtBot, display: tuple[DisplayWindow, LocalService]
) -> None:
    window, desk = display
    for _ in range(3):
        desk.issue("ids")
    first = desk.call_next("c4")
    desk.call_next("c5")
    assert first is not None
    desk.recall(first.id)  # E-001 is called again, E-002 stays below it
    desk.call_next("c4")  # E-003: now E-001 is listed once below it, not twice

    def recent() -> list[str]:
        items = (window.recent.itemAt(n) for n in range(window.recent.count()))
        return [w.text() for item in items if item and (w := item.widget()) is not None]

    qtbot.waitUntil(lambda: window.now_label.text() == "E-003", timeout=5000)
    assert window.recent_title.isVisible() and window.recent_title.text() == "Recently called"
    assert recent() == ["E-001", "Counter 4", "E-002", "Counter 5"]


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (3840, 2160), (1080, 1920)])
def test_every_size_and_orientation_fits(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path, size: tuple[int, int]
) -> None:
    window, desk = open_display(qtbot, config, tmp_path, size)
    for line in ("permits", "licenses", "ids", "payments", "permits", "ids", "ids"):
        desk.issue(line)
    for counter in ("c1", "c2", "c3", "c5", "c6", "c1", "c5"):
        desk.call_next(counter)
    desk.pause_line("records", "Closed for staff training until 2 pm today")
    desk.set_announcement({"en": "The office closes at 4 pm today. Thank you for your patience."})
    qtbot.waitUntil(lambda: window.ticker.isVisible(), timeout=5000)
    window.flash_timer.stop()
    window.render_view()
    qtbot.wait(30)
    assert problems(window) == []
    assert window.now_label.height() >= size[1] / 12  # readable across the room


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_thousands_of_calls_neither_slow_down_nor_grow(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    import time

    from PySide6.QtCore import QCoreApplication, QEvent

    window, desk = open_display(qtbot, config, tmp_path)
    timings, memory = [], []
    for batch in range(30):
        for _ in range(100):
            desk.issue("payments")
            desk.call_next("c6")
        began = time.perf_counter()
        window.refresh()
        timings.append(time.perf_counter() - began)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        window.announcer.queue.clear()  # a real lobby hears them minutes apart
        if batch in (5, 29):
            memory.append(_rss_mb())
    assert window.now_label.text() == "D-3000"
    first, last = sorted(timings[1:6])[2], sorted(timings[-5:])[2]
    # A render that scanned every call of the day would be ~30x slower by the end; 10x (or
    # 0.1 s) leaves room for a busy machine and still catches that.
    assert last < max(10 * first, 0.1), f"render slowed from {first:.4f} s to {last:.4f} s"
    assert memory[1] - memory[0] < 40, f"memory grew {memory[1] - memory[0]:.0f} MB"
    assert len(window._shown or ()) <= 8


def test_a_call_that_loses_a_conflict_is_withdrawn_without_a_second_chime(
    qtbot: QtBot, display: tuple[DisplayWindow, LocalService]
) -> None:
    from dataclasses import replace

    from nowserving.domain.clock import Stamp
    from nowserving.domain.events import Event, Kind

    window, desk = display
    ticket = desk.issue("licenses")
    qtbot.wait(200)  # room on the clock for a call in between
    late = desk.call_next("c2")  # reaches the board first, but was pressed later
    assert late is not None
    qtbot.waitUntil(lambda: window.now_counter.text() == "Counter 2", timeout=1000)
    qtbot.waitUntil(lambda: len(_spoken(window)) == 3, timeout=3000)
    (call,) = [e for _, e in desk.store.events_after(0) if e.kind is Kind.TICKET_CALLED]
    # Another desk, cut off, called the same resident to Counter 3 a moment earlier.
    stamp = Stamp(call.stamp.wall - 100, 0, "desk-2~cut0ff")
    earlier = replace(
        call,
        id="earlier0call",
        device="desk-2~cut0ff",
        seq=1,
        hlc=stamp.encode(),
        data={"counter": "c3"},
    )
    with desk.store.write():
        desk.store.merge([Event.from_row(earlier.to_row())])
    qtbot.waitUntil(lambda: window.now_counter.text() == "Counter 3", timeout=2000)
    qtbot.wait(300)
    assert [c.counter for c in window.board.calls if c.ticket == ticket.id] == ["c3"]
    assert len(_spoken(window)) == 3, "no second chime for the same resident"


def test_where_calls_are_not_spoken_the_display_says_so_in_writing(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    window, _ = open_display(qtbot, config, tmp_path)
    # The sample announces in English, Spanish and Chinese: Vietnamese and Arabic read it.
    notes = [i18n.text("vi", "display.not_spoken"), i18n.text("ar", "display.not_spoken")]
    assert window.not_spoken() == notes
    assert window.ticker.isVisible() and window.ticker.text() == notes[0]
    window.ticker_timer.setInterval(50)  # the ticker goes round each note
    qtbot.waitUntil(lambda: window.ticker.text() == notes[1], timeout=5000)
    store = LocalService(EventStore(tmp_path / "office.sqlite"), config, "display-1")
    quiet = build(Session(config, pick_device(config, "display", None), store), tts_engine="none")
    qtbot.addWidget(quiet)
    assert len(quiet.not_spoken()) == len(config.office.languages)  # speech off: every one


def test_the_clock_names_the_day_and_month_in_the_office_language(
    qtbot: QtBot, config: OfficeConfig, tmp_path: Path
) -> None:
    office = config.office.model_copy(update={"languages": ["es", "en"]})
    window, _ = open_display(qtbot, config.model_copy(update={"office": office}), tmp_path)
    window._tick()
    now = datetime.now(config.zone)
    spanish_day = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"][now.weekday()]
    assert spanish_day in window.time.text(), window.time.text()
