"""Pick a service: large tiles with icon, name, one line of description, waiting and wait."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QAbstractButton, QGridLayout, QHBoxLayout, QVBoxLayout

from kiosk.screens.base import CardButton, KioskScreen, button, clear, icon, label
from nowserving import i18n
from nowserving.config import OfficeConfig
from nowserving.views import LineView


def tile_status(config: OfficeConfig, line: LineView, lang: str) -> tuple[str, str]:
    """The tile's last line and its style: paused, rerouted, or waiting and wait."""
    if line.paused:
        return i18n.text(lang, "kiosk.paused", reason=line.pause_reason), "tile-warning"
    if line.reroute_to:
        target = config.text(config.line(line.reroute_to).name, lang)
        return i18n.text(lang, "kiosk.rerouted", line=target), "tile-warning"
    wait = i18n.wait_text(lang, line.wait.low, line.wait.high, line.wait.known)
    waiting = i18n.text(lang, "common.people_waiting", count=line.waiting)
    return f"{waiting}  ·  {i18n.text(lang, 'common.estimated_wait')}: {wait}", "tile-status"


class ServiceTile(CardButton):
    """One service; a paused one shows why and cannot be taken."""

    def __init__(self, config: OfficeConfig, line: LineView, lang: str, size: int) -> None:
        configured = config.line(line.id)
        name = config.text(configured.name, lang)
        detail = config.text(configured.description, lang)
        status, status_role = tile_status(config, line, lang)
        parts = [(name, "tile-name"), (detail, "tile-detail"), (status, status_role)]
        super().__init__(parts, "tile", name, icon(configured.icon).pixmap(QSize(size, size)))
        self.line = line
        self.setEnabled(not line.paused)
        self.setAccessibleDescription(f"{detail}. {status}")


class ServicesScreen(KioskScreen):
    """Signals:
    line_chosen: the LineView of the tapped tile.
    back: the resident wants the welcome screen.
    """

    line_chosen = Signal(object)
    back = Signal()

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        self.lang = config.default_language
        layout = QVBoxLayout(self)
        self.title = label("", "title")
        self.error = label("", "warning")
        layout.addWidget(self.title)
        layout.addWidget(self.error)
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        layout.addLayout(self.grid, 1)
        self.back_button = button("", "back")
        self.back_button.clicked.connect(self.back.emit)
        bottom = QHBoxLayout()
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        layout.addLayout(bottom)

    def render(
        self, lines: list[LineView], lang: str, error: str, icon_size: int, columns: int
    ) -> None:
        self.lang = lang
        self.title.setText(i18n.text(lang, "kiosk.choose_service"))
        self.error.setText(error)
        self.error.setVisible(bool(error))
        self.back_button.setText(i18n.text(lang, "common.back"))
        self.back_button.setAccessibleName(i18n.text(lang, "common.back"))
        clear(self.grid)
        for n, line in enumerate(lines):
            tile = ServiceTile(self.config, line, lang, icon_size)
            tile.clicked.connect(lambda _=False, view=line: self.line_chosen.emit(view))
            self.grid.addWidget(tile, n // columns, n % columns)

    def tiles(self) -> list[ServiceTile]:
        found = (self.grid.itemAt(n).widget() for n in range(self.grid.count()))
        return [tile for tile in found if isinstance(tile, ServiceTile)]

    def choices(self) -> list[QAbstractButton]:
        return [*(t for t in self.tiles() if t.isEnabled()), self.back_button]

    def intro(self) -> str:
        return i18n.text(self.lang, "kiosk.choose_service")
