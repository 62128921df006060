"""This kiosk was removed at the hub: say so in every office language, take no taps."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout

from kiosk.screens.base import KioskScreen
from nowserving.domain.config import OfficeConfig
from nowserving.system import i18n
from nowserving_qt.widgets import label


class RemovedScreen(KioskScreen):
    """Shown for good once the hub revoked this kiosk (until IT pairs it again)."""

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for lang in config.office.languages:
            text = label(i18n.text(lang, "kiosk.removed"), "subtitle")
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setLayoutDirection(
                Qt.LayoutDirection.RightToLeft
                if i18n.direction(lang) == "rtl"
                else Qt.LayoutDirection.LeftToRight
            )
            layout.addWidget(text)
        layout.addStretch(1)

    def intro(self) -> str:
        return " ".join(i18n.text(lang, "kiosk.removed") for lang in self.config.office.languages)
