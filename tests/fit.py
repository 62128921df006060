"""Does a shown window fit? Cut text, widgets squeezed onto each other, or outside the window.

`problems(window)` walks the visible labels and buttons of a laid-out window and says
what does not fit, one sentence each:

- a word-wrapped label needs `heightForWidth(width)` <= its height;
- a one-line label or a push button needs its `sizeHint()` (unless it elides on purpose:
  the dynamic property `elides` is set);
- the widgets and sub-layouts of one layout must not intersect (a layout squeezed
  below its minimum stacks its rows onto each other);
- every widget lies inside its window, or inside the scrolled content of its scroll area
  (which must not be wider than the area when it cannot scroll sideways).

Widgets that Qt draws inside item views, tab bars and combo boxes are theirs to manage
and are not walked.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QTabBar,
    QWidget,
)

SLACK = 1  # px: rounding in layouts


def problems(window: QWidget) -> list[str]:
    """Everything in `window` that is cut, overlapping or outside (empty when it fits)."""
    found: list[str] = []
    for widget in window.findChildren(QWidget):
        if not _walked(widget, window):
            continue
        found += _outside(widget, window)
        if isinstance(widget, QLabel):
            found += _label_cut(widget)
        elif isinstance(widget, QPushButton) and not widget.layout():  # CardButtons wrap
            found += _button_cut(widget)
    for area in window.findChildren(QScrollArea):
        found += _scrolls_sideways(area)
    for layout in window.findChildren(QLayout):  # the window's own layout too
        if _walked(layout.parentWidget(), window):
            found += _overlaps(layout)
    return found


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel | QAbstractButton) else ""
    name = widget.accessibleName() or text or widget.objectName()
    return f"{type(widget).__name__} {name[:40]!r}"


def _walked(widget: QWidget | None, window: QWidget) -> bool:
    """Visible, sized, and ours (not a part of a view, tab bar or scroll bar)."""
    if widget is None or (widget is not window and not widget.isVisibleTo(window)):
        return False
    if widget.width() == 0 or widget.height() == 0:
        return False
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QTabBar) or (
            isinstance(parent, QAbstractScrollArea) and not isinstance(parent, QScrollArea)
        ):
            return False
        parent = parent.parentWidget()
    return True


def _bounds(widget: QWidget, window: QWidget) -> tuple[QWidget, QRect]:
    """The widget whose rectangle `widget` must lie in: the scrolled content, or the window."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        area = parent.parentWidget()
        if isinstance(area, QScrollArea) and parent is area.viewport():
            content = area.widget()
            return content, content.rect()
        parent = parent.parentWidget()
    return window, window.rect()


def _outside(widget: QWidget, window: QWidget) -> list[str]:
    if widget is window:
        return []
    frame, bounds = _bounds(widget, window)
    if widget is frame:
        return []
    rect = QRect(widget.mapTo(frame, widget.rect().topLeft()), widget.size())
    if bounds.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(rect):
        return []
    return [f"{describe(widget)} at {rect.getRect()} is outside {bounds.getRect()}"]


def _scrolls_sideways(area: QScrollArea) -> list[str]:
    """Content wider than a scroll area that never scrolls sideways is cut at the side."""
    content = area.widget()
    if content is None or not area.isVisible():
        return []
    if area.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
        return []
    if content.width() > area.viewport().width() + SLACK:
        return [f"{describe(area)}: content {content.width()}px wide in {area.viewport().width()}"]
    return []


def _label_cut(label: QLabel) -> list[str]:
    if not label.text() or label.property("elides"):
        return []
    if label.wordWrap():
        needed = label.heightForWidth(label.width())
        if needed > label.height() + SLACK:
            return [f"{describe(label)} needs {needed}px of height, has {label.height()}"]
        return []
    return _hint_cut(label)


def _button_cut(button: QPushButton) -> list[str]:
    if not button.text() or button.property("elides"):
        return []
    return _hint_cut(button)


def _hint_cut(widget: QWidget) -> list[str]:
    """One line of text (a label or button's) gets less than it asks for."""
    hint = widget.sizeHint()
    if hint.width() > widget.width() + SLACK or hint.height() > widget.height() + SLACK:
        return [f"{describe(widget)} needs {hint.toTuple()}, has {widget.size().toTuple()}"]
    return []


def _overlaps(layout: QLayout) -> list[str]:
    """Items of one layout (visible widgets, non-empty sub-layouts) that intersect."""
    placed: list[tuple[str, QRect]] = []
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item is None:
            continue
        widget, inner = item.widget(), item.layout()
        if widget is not None and widget.isVisible() and not widget.isWindow():
            placed.append((describe(widget), widget.geometry()))
        elif inner is not None and not inner.isEmpty() and inner.geometry().isValid():
            placed.append((f"layout {type(inner).__name__}", inner.geometry()))
    found = []
    for n, (name, rect) in enumerate(placed):
        for other, other_rect in placed[n + 1 :]:
            if rect.intersects(other_rect):
                found.append(f"{name} {rect.getRect()} overlaps {other} {other_rect.getRect()}")
    return found
