"""Text me when it's my turn: a phone number on a large on-screen keypad (touch only)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QVBoxLayout

from kiosk.screens.keypad import KeypadScreen
from nowserving.system import i18n
from nowserving_qt.widgets import label

KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0"]


class PhoneScreen(KeypadScreen):
    """A phone number on keys "0".."9" and "erase" (see KeypadScreen's signals)."""

    def __init__(self) -> None:
        super().__init__([KEYS[n : n + 3] for n in range(0, len(KEYS), 3)])
        self.lang = "en"
        self.sides = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        facts = QVBoxLayout()
        self.title = label("", "title")
        self.hint = label("", "subtitle")
        # A phone number reads left to right in every language, Arabic too.
        self.number = label("", "title", wrap=False)
        self.number.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.privacy = label("", "")
        self.problem = label("", "warning")
        self.space(facts)
        for widget in (self.title, self.hint, self.number, self.privacy, self.problem):
            facts.addWidget(widget)
        self.space(facts)
        self.sides.addLayout(facts, 3)
        pad = QVBoxLayout()
        pad.addWidget(self.grid_host, 1)
        pad.addLayout(self.action_row)
        self.sides.addLayout(pad, 2)

    def render_view(
        self,
        lang: str,
        number: str,
        *,
        hint: str,
        warning: str,
        complete: bool,
        busy: bool,
        key_px: int,
        portrait: bool,
    ) -> None:
        """Args:
        number: as it will be used ("+1 510 555 0147"), or the digits typed so far.
        hint: how to type it; warning: why it cannot be sent ("" when it can).
        """
        self.lang = lang
        self.sides.setDirection(
            QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        )
        self.title.setText(i18n.text(lang, "kiosk.phone_title"))
        self.hint.setText(hint)
        self.number.setText(number)
        self.number.setAccessibleName(
            " ".join(number.replace(" ", "")) or i18n.text(lang, "kiosk.phone_title")
        )
        self.privacy.setText(i18n.text(lang, "kiosk.phone_privacy"))
        self.problem.setText(i18n.text(lang, "kiosk.phone_saving") if busy else warning)
        self.render_keypad(
            lang, "kiosk.phone_send", complete=complete, busy=busy, key_px=key_px, width=key_px * 2
        )

    def intro(self) -> str:
        return f"{self.title.text()}. {self.hint.text()}. {self.privacy.text()}"
