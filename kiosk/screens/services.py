"""Pick a service: large tiles with icon, name, one line of description, waiting and wait.

The tiles sit in a scroll area: with larger text they grow rather than cut their
text, and the resident scrolls them by touch.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QGridLayout,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.screens.base import KioskScreen
from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import LineView, pause_text
from nowserving.system import i18n
from nowserving_qt.widgets import CardButton, clear, icon, label


def tile_status(
    config: OfficeConfig, line: LineView, lang: str, compact: bool = False
) -> tuple[str, str]:
    """The tile's last line and its style: closed or full, paused, rerouted, or waiting and
    wait."""
    if line.hours.status != "open":
        return i18n.hours_text(lang, line.hours, config.zone), "tile-warning"
    if line.paused:
        reason = pause_text(config, line, lang)
        return i18n.text(lang, "kiosk.paused", reason=reason), "tile-warning"
    if line.reroute_to:
        target = config.text(config.line(line.reroute_to).name, lang)
        return i18n.text(lang, "kiosk.rerouted", line=target), "tile-warning"
    waiting = i18n.text(lang, "common.people_waiting", count=line.waiting)
    if compact:
        wait = i18n.wait_text(lang, line.wait) if line.wait.known else ""
        return "  ·  ".join(filter(None, [waiting, wait])), "tile-status"
    if not line.wait.known:
        return f"{waiting}  ·  {i18n.text(lang, 'common.no_counter_open')}", "tile-status"
    wait = i18n.wait_text(lang, line.wait)
    return f"{waiting}  ·  {i18n.text(lang, 'common.estimated_wait')}: {wait}", "tile-status"


class ServiceTile(CardButton):
    """One service; a paused, closed or full one shows why and cannot be taken."""

    def __init__(
        self, config: OfficeConfig, line: LineView, lang: str, size: int, compact: bool = False
    ) -> None:
        configured = config.line(line.id)
        name = config.text(configured.name, lang)
        detail = config.text(configured.description, lang)
        status, status_role = tile_status(config, line, lang, compact)
        parts = [(name, "tile-name"), (status, status_role)]
        if not compact:  # the one-line description goes when space is short
            parts.insert(1, (detail, "tile-detail"))
        super().__init__(parts, "tile", name, icon(configured.icon).pixmap(QSize(size, size)))
        self.line = line
        self.setEnabled(line.taking)
        self.setAccessibleDescription(f"{detail}. {status}")


class ServicesScreen(KioskScreen):
    """Signals:
    line_chosen: the LineView of the tapped tile.
    """

    line_chosen = Signal(object)

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        self.lang = config.default_language
        self._shown: tuple[object, ...] = ()
        layout = QVBoxLayout(self)
        self.title = label("", "title")
        self.error = label("", "warning")
        layout.addWidget(self.title)
        layout.addWidget(self.error)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.area.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        self.space(column, above=True)
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        column.addLayout(self.grid)
        self.space(column)
        self.area.setWidget(content)
        layout.addWidget(self.area, 1)

    def render_view(
        self,
        lines: list[LineView],
        lang: str,
        error: str,
        icon_size: int,
        columns: int,
        compact: bool = False,
    ) -> None:
        key = (tuple(lines), lang, error, icon_size, columns, compact)
        if key == self._shown:
            return  # rebuilding would only flicker and lose the keypad focus
        self._shown = key
        self.lang = lang
        self.title.setText(i18n.text(lang, "kiosk.choose_service"))
        self.error.setText(error)
        self.error.setVisible(bool(error))
        clear(self.grid)
        for n, line in enumerate(lines):
            tile = ServiceTile(self.config, line, lang, icon_size, compact)
            tile.clicked.connect(lambda _=False, view=line: self.line_chosen.emit(view))
            self.grid.addWidget(tile, n // columns, n % columns)

    def tiles(self) -> list[ServiceTile]:
        items = (self.grid.itemAt(n) for n in range(self.grid.count()))
        return [t for item in items if item and isinstance(t := item.widget(), ServiceTile)]

    def choices(self) -> list[QAbstractButton]:
        return [t for t in self.tiles() if t.isEnabled()]

    def reveal(self, choice: QWidget) -> None:
        self.area.ensureWidgetVisible(choice)

    def intro(self) -> str:
        return i18n.text(self.lang, "kiosk.choose_service")
