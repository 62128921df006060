"""What every kiosk screen has: choices in reading order, and what to say aloud."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QBoxLayout,
    QLayout,
    QSizePolicy,
    QSpacerItem,
    QWidget,
)


class KioskScreen(QWidget):
    """A full-screen page of the kiosk.

    Screens put flexible space in `_space_above` (empty unless low reach) and
    `_space_between` (collapsed in low reach), so low-reach mode pushes every
    control into the lower half while the text may stay above.
    """

    def __init__(self) -> None:
        super().__init__()
        self._space_above: list[QSpacerItem] = []
        self._space_between: list[QSpacerItem] = []

    def space(self, layout: QBoxLayout, *, above: bool = False) -> None:
        """Add flexible space; `above` marks the space that low reach opens up."""
        item = QSpacerItem(
            0,
            0,
            QSizePolicy.Policy.Minimum,
            QSizePolicy.Policy.Fixed if above else QSizePolicy.Policy.Expanding,
        )
        layout.addItem(item)
        (self._space_above if above else self._space_between).append(item)

    def set_low_reach(self, on: bool) -> None:
        grow, fixed = QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed
        for item in self._space_above:
            item.changeSize(0, 0, QSizePolicy.Policy.Minimum, grow if on else fixed)
        for item in self._space_between:
            item.changeSize(0, 0, QSizePolicy.Policy.Minimum, fixed if on else grow)
        for layout in self.findChildren(QLayout):
            layout.invalidate()

    def choices(self) -> list[QAbstractButton]:
        """The buttons a keypad user steps through, in reading order (enabled ones)."""
        return [b for b in self.findChildren(QAbstractButton) if b.isEnabled() and b.isVisible()]

    def reveal(self, choice: QWidget) -> None:
        """Scroll `choice` into view when the keypad moves to it (screens that scroll)."""

    def intro(self) -> str:
        """What voice guidance says when this screen appears."""
        return ""
