"""The widgets every app builds its screens from: labels, buttons, card buttons, icons.

`clear` empties a layout before a screen re-renders it, freeing what PySide6 would leak.
"""

from __future__ import annotations

import functools
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QPushButton, QSizePolicy, QVBoxLayout

from nowserving.system.paths import resources_dir


def label(
    text: str = "",
    role: str = "",
    *,
    wrap: bool = True,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter,
) -> QLabel:
    widget = QLabel(text)
    widget.setWordWrap(wrap)
    widget.setAlignment(align)
    if role:
        widget.setProperty("role", role)
    return widget


def button(text: str, role: str = "", name: str | None = None) -> QPushButton:
    widget = QPushButton(text)
    if role:
        widget.setProperty("role", role)
    widget.setAccessibleName(name or text)
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return widget


class CardButton(QPushButton):
    """A button whose content is wrapped text (and an optional icon): long translations fit.

    QPushButton cannot wrap its own text, so the text lives in labels that let
    taps through to the button.
    """

    def __init__(
        self, parts: list[tuple[str, str]], role: str, name: str, picture: QPixmap | None = None
    ) -> None:
        super().__init__()
        self.setProperty("role", role)
        self.setAccessibleName(name)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        row = self._row = QHBoxLayout(self)
        if picture is not None:
            image = QLabel()
            image.setPixmap(picture)
            image.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            row.addWidget(image, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        align = Qt.AlignmentFlag.AlignLeading if picture else Qt.AlignmentFlag.AlignCenter
        for text, part_role in parts:
            part = label(text, part_role, align=align)
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            column.addWidget(part)
        row.addLayout(column, 1)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    # A QPushButton sizes itself by its own (empty) text; these make it fit its labels.
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's names)
        return self._row.sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = self._row.minimumSize()
        return QSize(hint.width(), self.heightForWidth(max(self.width(), hint.width())))

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._row.totalHeightForWidth(width)


def icon(name: str) -> QIcon:
    return QIcon(str(_icon_path(name)))


def _icon_path(name: str) -> Path:
    path = resources_dir() / "icons" / f"{name}.svg"
    return path if path.exists() else resources_dir() / "icons" / "generic.svg"


def tinted(name: str, size: int, color: str) -> QPixmap:
    """An icon drawn in one colour (the SVGs are single-colour line art)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(_icon_path(name))).render(painter)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(image.rect(), QColor(color))
    painter.end()
    return QPixmap.fromImage(image)


@functools.lru_cache(maxsize=64)
def toggle_icon(name: str, size: int, off: str, on: str) -> QIcon:
    """An icon that stays visible on a checked (filled) toggle (drawn once per look: the
    kiosk's bar asks again on every tap)."""
    both = QIcon()
    both.addPixmap(tinted(name, size, off), QIcon.Mode.Normal, QIcon.State.Off)
    both.addPixmap(tinted(name, size, on), QIcon.Mode.Normal, QIcon.State.On)
    return both


def clear(layout: QLayout) -> None:
    """Remove and delete every widget of a layout (before re-rendering it).

    `takeAt()` hands back a layout item that PySide6 never frees (about 100 B per
    widget, per redraw, for months): each item is deleted here explicitly.
    """
    while (item := layout.takeAt(0)) is not None:
        widget = item.widget()
        if widget is not None:
            widget.hide()  # until deleteLater runs it would still paint at its old place
            widget.setParent(None)
            widget.deleteLater()
        elif (inner := item.layout()) is not None:
            clear(inner)
        shiboken6.delete(item)  # a widget's item, a spacer, or an emptied sub-layout
