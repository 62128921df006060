"""I have an appointment: the booking's code on a large on-screen keypad (a barcode scanner
reading the booking's QR types it too, on any screen: see KioskWindow.eventFilter)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QVBoxLayout,
)

from kiosk.screens.base import KioskScreen
from kiosk.screens.phone import key_grid, render_keys, size_keys
from nowserving.domain.rules import SHORT_ALPHABET
from nowserving.system import i18n
from nowserving_qt.widgets import button, label

DIGITS = [c for c in SHORT_ALPHABET if c.isdigit()]
LETTERS = [c for c in SHORT_ALPHABET if c.isalpha()]
# Four rows, as on a keyboard: the digits and erase on top, then the letters eight a row.
# Four rows (not five of eight keys) leave the keys room for larger text.
ROWS = [[*DIGITS, "erase"], *(LETTERS[n : n + 8] for n in range(0, len(LETTERS), 8))]
KEYS = [key for row in ROWS for key in row]  # in reading order


class CheckInScreen(KioskScreen):
    """Signals:
    pressed: a key, one of the code's characters or "erase".
    send: the resident tapped Check in.
    cancel: the resident tapped Cancel.
    """

    pressed = Signal(str)
    send = Signal()
    cancel = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._key_px = 0
        layout = QVBoxLayout(self)
        # Centred on a tall screen (the code beside its keypad), lower down in low reach.
        self.space(layout, above=True)
        self.space(layout)
        self.title = label("", "subtitle")  # the code below is what the eye looks for
        # A code reads left to right in every language.
        self.code = label("", "title", wrap=False)
        self.code.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.problem = label("", "warning")
        for widget in (self.title, self.code, self.problem):
            layout.addWidget(widget)
        self.grid_host, self.keys = key_grid(ROWS, self.pressed.emit)
        layout.addWidget(self.grid_host, 1)
        actions = QHBoxLayout()
        self.cancel_button = button("", "")
        self.send_button = button("", "primary")
        self.cancel_button.clicked.connect(self.cancel.emit)
        self.send_button.clicked.connect(self.send.emit)
        actions.addWidget(self.cancel_button, 1)
        actions.addWidget(self.send_button, 1)
        layout.addLayout(actions)
        self.space(layout)

    def render_view(
        self, lang: str, code: str, error: str, *, complete: bool, busy: bool, key_px: int
    ) -> None:
        self.title.setText(i18n.text(lang, "checkin.type_code"))
        self.code.setText(code.ljust(8, "·"))
        self.code.setAccessibleName(" ".join(code) or i18n.text(lang, "checkin.type_code"))
        self.problem.setText(error)
        if key_px != self._key_px:  # restyling 33 keys costs: only when the size changes
            self._key_px = key_px
            size_keys(self.keys, key_px, key_px)
            for key in self.keys.values():  # not tall slivers on a portrait screen
                key.setMaximumHeight(key_px * 2)
            grid = self.grid_host.layout()
            assert grid is not None  # key_grid lays the keys out in one
            self.grid_host.setMaximumHeight(grid.maximumSize().height())  # the rest: space
        render_keys(
            self.keys,
            [
                (self.send_button, "checkin.submit", complete),
                (self.cancel_button, "kiosk.phone_cancel", True),
            ],
            lang,
            busy=busy,
            key_px=key_px,
        )

    def choices(self) -> list[QAbstractButton]:
        buttons: list[QAbstractButton] = [self.keys[key] for key in KEYS]
        return [b for b in (*buttons, self.send_button, self.cancel_button) if b.isEnabled()]

    def intro(self) -> str:
        return self.title.text()
