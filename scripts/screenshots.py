"""Screenshots of every kiosk screen, offscreen, for looking at (and for the README).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [OUT_DIR]

Writes OUT_DIR/kiosk-<size>-<lang>-<screen>.png, display-<size>[-offline].png and
desk-<size>-<tab>.png (default OUT_DIR: screenshots/).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from kiosk.app import build
from nowserving.domain.config import load_config
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from nowserving_qt.bootstrap import Session, application, pick_device

SIZES = [(1280, 800), (1920, 1080), (1080, 1920)]


def settle(app: QApplication, seconds: float = 0.05) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def kiosk_shots(out: Path) -> None:
    app = application("kiosk")
    config = load_config(sample_config())
    for width, height in SIZES:
        for lang in config.office.languages:
            folder = Path(tempfile.mkdtemp())
            service = LocalService(EventStore(folder / "office.sqlite"), config, "kiosk-1")
            for _ in range(6):
                service.issue("permits")
            service.open_counter("c1")
            service.open_counter("c2")
            service.pause_line("records", "lunch")  # an office reason: read in each language
            window = build(
                Session(config, pick_device(config, "kiosk", None), service),
                kiosk_mode=False,
                tts_engine="mock",
            )
            window.setFixedSize(width, height)
            window.show()

            def shot(name: str, window=window, lang=lang, width=width, height=height) -> None:
                settle(app)
                window.grab().save(str(out / f"kiosk-{width}x{height}-{lang}-{name}.png"))

            shot("1-welcome")
            window.choose_language(lang)
            shot("2-services")
            window.flow.aids.large_text = True
            window.render_view()
            shot("2-services-large")
            window.flow.aids.large_text = False
            window.choose_line(service.lines()[0])
            shot("3-priority")
            window.answer_priority(False)
            deadline = time.monotonic() + 5
            while window.flow.ticket is None and time.monotonic() < deadline:
                settle(app, 0.01)
            shot("4-ticket")
            window.flow.aids.large_text = window.flow.aids.high_contrast = True
            window.render_view()
            shot("5-ticket-large-contrast")
            window.flow.reset()
            window.choose_language(lang)
            window.flow.aids.low_reach = True
            window.render_view()
            shot("6-services-low-reach")
            window.printer.stop()
            window.close()
            window.deleteLater()
            service.store.close()


def display_shots(out: Path) -> None:
    from display.app import build as build_display

    app = application("display")
    config = load_config(sample_config())
    for width, height in [(1280, 720), (1920, 1080), (3840, 2160), (1080, 1920)]:
        service = LocalService(EventStore(Path(tempfile.mkdtemp()) / "o.sqlite"), config, "d")
        for line in ["permits"] * 5 + ["licenses"] * 3 + ["ids"] * 4 + ["payments"] * 2:
            service.issue(line)
        for counter in ["c1", "c2", "c3", "c5", "c6", "c1", "c5"]:
            service.call_next(counter)
        service.pause_line("records", "lunch")  # an office reason: read in each language
        service.set_announcement({"en": "The office closes at 4 pm today."})
        window = build_display(
            Session(config, pick_device(config, "display", None), service), tts_engine="mock"
        )
        window.setFixedSize(width, height)
        window.show()
        settle(app)
        service.call_next("c2")
        settle(app, 0.2)
        window.grab().save(str(out / f"display-{width}x{height}.png"))
        window.set_trouble("the hub does not answer")
        settle(app)
        window.grab().save(str(out / f"display-{width}x{height}-offline.png"))
        window.close()


def desk_shots(out: Path) -> None:
    from desk.window import DeskWindow

    app = application("desk")
    config = load_config(sample_config())
    service = LocalService(EventStore(Path(tempfile.mkdtemp()) / "o.sqlite"), config, "desk-1")
    for line in ["permits"] * 5 + ["licenses"] * 3:
        service.issue(line)
    window = DeskWindow(config, service, "c2", device_status=lambda: [])
    window.show()
    window._signed_in(config.staff[0], "c2")  # a picture: no PIN round trip needed
    settle(app, 0.3)
    service.call_next("c2", staff=config.staff[0].id)
    for width, height in [(1100, 760), (1280, 800)]:
        window.resize(width, height)
        for tab in range(window.tabs.count()):
            window.tabs.setCurrentIndex(tab)
            settle(app, 0.2)
            name = window.tabs.tabText(tab).lower()
            window.grab().save(str(out / f"desk-{width}x{height}-{name}.png"))
    window.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    kiosk_shots(out)
    display_shots(out)
    desk_shots(out)
    print(f"screenshots in {out}/")


if __name__ == "__main__":
    main()
