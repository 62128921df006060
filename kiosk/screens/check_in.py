"""I have an appointment: the booking's code on a large on-screen keypad (a barcode scanner
reading the booking's QR types it too, on any screen: see KioskWindow.eventFilter)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout

from kiosk.screens.keypad import KeypadScreen
from nowserving.domain.rules import SHORT_ALPHABET
from nowserving.system import i18n
from nowserving_qt.widgets import label

DIGITS = [c for c in SHORT_ALPHABET if c.isdigit()]
LETTERS = [c for c in SHORT_ALPHABET if c.isalpha()]
# Four rows, as on a keyboard: the digits and erase on top, then the letters eight a row.
# Four rows (not five of eight keys) leave the keys room for larger text.
ROWS = [[*DIGITS, "erase"], *(LETTERS[n : n + 8] for n in range(0, len(LETTERS), 8))]


class CheckInScreen(KeypadScreen):
    """A booking's code on keys of its characters and "erase" (see KeypadScreen's signals);
    the send button checks in."""

    def __init__(self) -> None:
        super().__init__(ROWS)
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
        layout.addWidget(self.grid_host, 1)
        layout.addLayout(self.action_row)
        self.space(layout)

    def render_view(
        self, lang: str, code: str, error: str, *, complete: bool, busy: bool, key_px: int
    ) -> None:
        self.title.setText(i18n.text(lang, "checkin.type_code"))
        self.code.setText(code.ljust(8, "·"))
        self.code.setAccessibleName(" ".join(code) or i18n.text(lang, "checkin.type_code"))
        self.problem.setText(error)
        if self.render_keypad(
            lang, "checkin.submit", complete=complete, busy=busy, key_px=key_px, width=key_px
        ):
            for key in self.keys.values():  # not tall slivers on a portrait screen
                key.setMaximumHeight(key_px * 2)
            grid = self.grid_host.layout()
            assert grid is not None  # key_grid lays the keys out in one
            self.grid_host.setMaximumHeight(grid.maximumSize().height())  # the rest: space

    def intro(self) -> str:
        return self.title.text()
