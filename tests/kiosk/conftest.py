"""A kiosk window over a real store in a temp dir, with Qt's mock speech engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app import build
from kiosk.window import KioskWindow
from nowserving.domain.config import OfficeConfig
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system import i18n
from nowserving_qt.bootstrap import Session, pick_device


def open_kiosk(
    qtbot: QtBot, config: OfficeConfig, folder: Path, size: tuple[int, int] = (1280, 800)
) -> KioskWindow:
    service = LocalService(EventStore(folder / "office.sqlite"), config, "kiosk-1")
    window = build(
        Session(config, pick_device(config, "kiosk", None), service),
        kiosk_mode=False,
        tts_engine="mock",
    )
    qtbot.addWidget(window)
    window.setFixedSize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window


@pytest.fixture
def kiosk(qtbot: QtBot, config: OfficeConfig, tmp_path: Path) -> Iterator[KioskWindow]:
    window = open_kiosk(qtbot, config, tmp_path)
    yield window
    window.printer.stop()


def tap(qtbot: QtBot, widget) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(widget.isVisible, timeout=5000)  # a new widget shows on the next loop
    assert widget.isEnabled(), widget.accessibleName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def language_button(window: KioskWindow, lang: str):  # type: ignore[no-untyped-def]
    name = i18n.language_name(lang)
    for choice in window.welcome.choices():
        if choice.accessibleName().startswith(name):
            return choice
    raise AssertionError(f"no button for {lang}")
