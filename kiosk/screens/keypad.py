"""What the kiosk's keypad screens share (the phone number, the booking's code): large
keys in a grid, and Cancel beside the button that sends what was typed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from kiosk.screens.base import KioskScreen
from nowserving.system import i18n
from nowserving_qt.widgets import button

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


class KeypadScreen(KioskScreen):
    """A screen of large keys (`rows`), with Cancel beside a send button in `action_row`.

    Signals:
        pressed: a key, as written in `rows` ("erase" for the erase key).
        send: the resident tapped the send button.
        cancel: the resident tapped Cancel.
    """

    pressed = Signal(str)
    send = Signal()
    cancel = Signal()

    def __init__(self, rows: Sequence[Sequence[str]]) -> None:
        super().__init__()
        self._key_px = 0
        self.grid_host, self.keys = key_grid(rows, self.pressed.emit)
        self.cancel_button = button("", "")
        self.send_button = button("", "primary")
        self.cancel_button.clicked.connect(self.cancel.emit)
        self.send_button.clicked.connect(self.send.emit)
        self.action_row = QHBoxLayout()
        self.action_row.addWidget(self.cancel_button, 1)
        self.action_row.addWidget(self.send_button, 1)

    def render_keypad(
        self, lang: str, send_text: str, *, complete: bool, busy: bool, key_px: int, width: int
    ) -> bool:
        """Keys at least `width` x `key_px`, labelled in `lang`; the send button (its text's
        key) usable once the entry is `complete`. True if the keys were resized."""
        resized = key_px != self._key_px
        if resized:  # restyling every key costs: only when the size changes
            self._key_px = key_px
            size_keys(self.keys, key_px, width)
        actions = [
            (self.send_button, send_text, complete),
            (self.cancel_button, "kiosk.phone_cancel", True),
        ]
        render_keys(
            self.keys,
            actions,
            lang,
            busy=busy,
            key_px=key_px,
        )
        return resized

    def choices(self) -> list[QAbstractButton]:
        buttons = [*self.keys.values(), self.send_button, self.cancel_button]  # reading order
        return [b for b in buttons if b.isEnabled()]
