"""Devices at a glance, for IT: memory, uptime, version, last contact and alerts of each.

The figures come from the hub (`/api/sync/status`, what each device reported with its
last sync); the alerts from the board. A device whose memory keeps growing, or that
has not been heard from, shows here before residents notice anything.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nowserving.domain.views import AlertView
from nowserving.sync.protocol import DeviceStatus

HEADERS = ["Device", "Role", "Last seen", "Memory", "Up", "Version", "Alerts"]
REFRESH_MS = 30_000  # how often the hub is asked while the tab is open


class DevicesPanel(QWidget):
    """A table of the office's devices; `show_status` and `show_alerts` fill it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DeviceStatus] = []
        self.alerts: list[AlertView] = []
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        layout.addWidget(self.table, 1)
        self.note = QLabel("Asking the hub…")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

    def show_status(self, rows: list[DeviceStatus]) -> None:
        self.rows = rows
        self.note.setText("As each device last reported it to the hub.")
        self._render()

    def show_trouble(self, message: str) -> None:
        """The hub could not be asked: the last figures stay, with why they are old."""
        self.note.setText(f"Could not ask the hub: {message}")

    def show_alerts(self, alerts: list[AlertView]) -> None:
        if alerts != self.alerts:
            self.alerts = alerts
            self._render()

    def _render(self) -> None:
        names = [row.device for row in self.rows]
        names += sorted({a.device for a in self.alerts} - set(names))  # alerts of unknown ones
        known = {row.device: row for row in self.rows}
        self.table.setRowCount(len(names))
        for r, name in enumerate(names):
            row = known.get(name)
            cells = [name, row.role if row else "", *(row.shown() if row else ("",) * 4)]
            cells.append("; ".join(a.message for a in self.alerts if a.device == name))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
