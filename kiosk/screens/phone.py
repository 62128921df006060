"""Text me when it's my turn: a phone number on a large on-screen keypad (touch only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.screens.base import KioskScreen
from nowserving.system import i18n
from nowserving_qt.widgets import button, label

KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0"]
ERASE = "⌫"


def key_grid(
    rows: Sequence[Sequence[str]], press: Callable[[str], None]
) -> tuple[QWidget, dict[str, QPushButton]]:
    """Large keys in a grid, row by row (an "erase" key shows ⌫); each calls `press` with
    its key. Keypads keep 1-2-3 from the left in right-to-left languages too, as phones do."""
    host = QWidget()
    host.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    grid = QGridLayout(host)
    found: dict[str, QPushButton] = {}
    for row, keys in enumerate(rows):
        for column, key in enumerate(keys):
            pressed = button(ERASE if key == "erase" else key, "tile")
            pressed.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            pressed.clicked.connect(lambda _=False, key=key: press(key))
            grid.addWidget(pressed, row, column)
            found[key] = pressed
    return host, found


def render_keys(
    keys: dict[str, QPushButton],
    actions: list[tuple[QPushButton, str, bool]],
    lang: str,
    *,
    busy: bool,
    key_px: int,
) -> None:
    """Keys usable unless `busy`, named in `lang`; each action button (button, its text's
    key, whether it may be tapped) labelled and at least a key tall."""
    for key, widget in keys.items():
        widget.setEnabled(not busy)
        widget.setAccessibleName(i18n.text(lang, "kiosk.phone_erase") if key == "erase" else key)
    for widget, text, usable in actions:
        widget.setEnabled(usable and not busy)
        widget.setText(i18n.text(lang, text))
        widget.setAccessibleName(i18n.text(lang, text))
        widget.setMinimumHeight(key_px)


def size_keys(keys: dict[str, QPushButton], key_px: int, width: int) -> None:
    """Large keys for any finger: at least `width` x `key_px` (and as tall as their text),
    growing into the room there is."""
    for widget in keys.values():
        widget.setStyleSheet(f"font-size: {key_px // 2}px; font-weight: 700;")
        widget.setMinimumSize(width, max(key_px, widget.sizeHint().height()))


class PhoneScreen(KioskScreen):
    """Signals:
    pressed: a key, "0".."9" or "erase".
    send: the resident tapped Send.
    cancel: the resident tapped Cancel.
    """

    pressed = Signal(str)
    send = Signal()
    cancel = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.lang = "en"
        self._key_px = 0
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
        self.grid_host, self.keys = key_grid(
            [KEYS[n : n + 3] for n in range(0, len(KEYS), 3)], self.pressed.emit
        )
        pad.addWidget(self.grid_host, 1)
        actions = QHBoxLayout()
        self.cancel_button = button("", "")
        self.send_button = button("", "primary")
        self.cancel_button.clicked.connect(self.cancel.emit)
        self.send_button.clicked.connect(self.send.emit)
        actions.addWidget(self.cancel_button, 1)
        actions.addWidget(self.send_button, 1)
        pad.addLayout(actions)
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
        if key_px != self._key_px:  # restyling eleven keys costs: only when the size changes
            self._key_px = key_px
            size_keys(self.keys, key_px, key_px * 2)
        render_keys(
            self.keys,
            [
                (self.send_button, "kiosk.phone_send", complete),
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
        return f"{self.title.text()}. {self.hint.text()}. {self.privacy.text()}"
