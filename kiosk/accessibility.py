"""The bar on every kiosk screen: larger text, high contrast, lower screen, voice guidance."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from kiosk.flow import Accessibility
from nowserving.system import i18n
from nowserving_qt.theme import Palette
from nowserving_qt.widgets import button, toggle_icon

AIDS = (
    ("large_text", "kiosk.larger_text", "text-larger"),
    ("high_contrast", "kiosk.high_contrast", "contrast"),
    ("low_reach", "kiosk.low_reach", "low-reach"),
    ("voice", "kiosk.voice", "voice"),
)


class AccessibilityBar(QWidget):
    """Signals:
    toggled: (aid name, on).
    back: the Back button, which lives here so it is always within reach.
    """

    toggled = Signal(str, bool)
    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.back_button = button("", "back")
        self.back_button.clicked.connect(self.back.emit)
        row.addWidget(self.back_button)
        row.addSpacing(24)
        self.buttons: dict[str, QPushButton] = {}
        for name, _key, _picture in AIDS:
            toggle = button("", "tool")
            toggle.setCheckable(True)
            toggle.toggled.connect(lambda on, aid=name: self.toggled.emit(aid, on))
            self.buttons[name] = toggle
            row.addWidget(toggle)
        row.addStretch(1)
        self.printer = QLabel()
        self.printer.setProperty("role", "warning")
        self.printer.hide()
        row.addWidget(self.printer)

    def render_view(
        self,
        aids: Accessibility,
        lang: str,
        icon_size: int,
        printer_problem: bool,
        palette: Palette,
        can_go_back: bool,
    ) -> None:
        self.back_button.setText(i18n.text(lang, "common.back"))
        self.back_button.setAccessibleName(i18n.text(lang, "common.back"))
        self.back_button.setVisible(can_go_back)
        for name, key, picture in AIDS:
            toggle = self.buttons[name]
            toggle.setIcon(toggle_icon(picture, icon_size, palette.primary, palette.on_primary))
            toggle.blockSignals(True)
            toggle.setChecked(getattr(aids, name))
            toggle.blockSignals(False)
            toggle.setText(i18n.text(lang, key))
            toggle.setAccessibleName(i18n.text(lang, key))
            toggle.setIconSize(QSize(icon_size, icon_size))
        # Discreet: residents see a small note; staff get the details as an alert.
        self.printer.setText(i18n.text(lang, "kiosk.printer_problem"))
        self.printer.setVisible(printer_problem)
