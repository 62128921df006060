"""The bar on every kiosk screen: larger text, high contrast, lower screen, voice guidance."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from kiosk.flow import Accessibility
from kiosk.screens.base import button, icon
from nowserving import i18n

AIDS = (
    ("large_text", "kiosk.larger_text", "text-larger"),
    ("high_contrast", "kiosk.high_contrast", "contrast"),
    ("low_reach", "kiosk.low_reach", "low-reach"),
    ("voice", "kiosk.voice", "voice"),
)


class AccessibilityBar(QWidget):
    """Signals:
    toggled: (aid name, on).
    """

    toggled = Signal(str, bool)

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[str, QPushButton] = {}
        for name, _key, picture in AIDS:
            toggle = button("", "tool")
            toggle.setCheckable(True)
            toggle.setIcon(icon(picture))
            toggle.toggled.connect(lambda on, aid=name: self.toggled.emit(aid, on))
            self.buttons[name] = toggle
            row.addWidget(toggle)
        row.addStretch(1)
        self.printer = QLabel()
        self.printer.setProperty("role", "warning")
        self.printer.hide()
        row.addWidget(self.printer)

    def render(self, aids: Accessibility, lang: str, icon_size: int, printer_problem: bool) -> None:
        for name, key, _ in AIDS:
            toggle = self.buttons[name]
            toggle.blockSignals(True)
            toggle.setChecked(getattr(aids, name))
            toggle.blockSignals(False)
            toggle.setText(i18n.text(lang, key))
            toggle.setAccessibleName(i18n.text(lang, key))
            toggle.setIconSize(QSize(icon_size, icon_size))
        # Discreet: residents see a small note; staff get the details as an alert.
        self.printer.setText(i18n.text(lang, "kiosk.printer_problem"))
        self.printer.setVisible(printer_problem)
