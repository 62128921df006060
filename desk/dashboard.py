"""Today at a glance: the report's figures and charts, live, for the office manager."""

from __future__ import annotations

import time

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import NowservingError
from nowserving.service.interface import FailedDelivery, Service

COLUMNS = [
    "line",
    "issued",
    "served",
    "no_shows",
    "left",
    "wait_median",
    "wait_p90",
    "service_median",
    "estimate_held",
]
REFRESH_S = 30
CHANNELS = {"sms": "Text", "email": "E-mail", "push": "Push"}


class DashboardPanel(QWidget):
    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        self._last = 0.0
        # The figures, the staff's, the undelivered messages and the chart scroll together:
        # on a small laptop screen they need not all fit at once.
        content = QWidget()
        layout = QVBoxLayout(content)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        QVBoxLayout(self).addWidget(scroll)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(
            [
                "Service",
                "Issued",
                "Served",
                "No-shows",
                "Left",
                "Median wait",
                "90 % wait",
                "Median service",
                "Estimate held",
            ]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        layout.addWidget(self.table)
        # Per-staff figures: for line-control staff only (allow_staff_figures).
        self.staff_table = QTableWidget(0, 3)
        self.staff_table.setHorizontalHeaderLabels(["Staff", "Served", "Average handling (min)"])
        self.staff_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.staff_table.verticalHeader().hide()
        self.staff_table.hide()
        layout.addWidget(self.staff_table)
        # Today's messages to residents that could not be delivered: staff may tell them.
        self.failed_title = QLabel("Messages to residents not delivered today")
        self.failed = QListWidget()
        self.failed.setMaximumHeight(120)
        for widget in (self.failed_title, self.failed):
            widget.hide()
            layout.addWidget(widget)
        self.chart = QLabel()
        layout.addWidget(self.chart, 1)

    def allow_staff_figures(self, allowed: bool) -> None:
        """Show per-staff figures to the one signed in here only if they have line control."""
        self.staff_table.setVisible(allowed)
        if not allowed:
            self.staff_table.setRowCount(0)

    def render_view(
        self, service: Service, *, staff: str | None = None, force: bool = False
    ) -> None:
        """Ask for today's figures (and failed deliveries, as `staff`) at most every
        REFRESH_S seconds."""
        if not force and time.monotonic() - self._last < REFRESH_S:
            return
        self._last = time.monotonic()
        try:
            self.show_failed(service.failed_deliveries(staff=staff))
        except NowservingError as exc:  # a desk whose hub is away cannot know
            self.show_failed([], trouble=str(exc))
        figures = service.day_figures()
        rows = figures.tables.get("lines", [])
        names = {line.id: self.config.text(line.name, "en") for line in self.config.lines}
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(COLUMNS):
                value = row[key]
                if key == "line":
                    value = names.get(value, value)
                elif key == "estimate_held" and value != "":
                    value = f"{float(value):.0%}"
                self.table.setItem(r, c, QTableWidgetItem(str(value)))
        if self.staff_table.isVisibleTo(self):
            names = {person.id: person.name for person in self.config.staff}
            staff_rows = figures.tables.get("staff", [])
            self.staff_table.setRowCount(len(staff_rows))
            for r, row in enumerate(staff_rows):
                cells = (names.get(row["staff"], row["staff"]), row["served"], row["handling_mean"])
                for c, value in enumerate(cells):
                    self.staff_table.setItem(r, c, QTableWidgetItem(str(value)))
        _show_rows(self.table)
        _show_rows(self.staff_table)
        if rows:
            image = QPixmap()
            image.loadFromData(figures.chart_png)
            self.chart.setPixmap(image)

    def show_failed(self, failed: list[FailedDelivery], trouble: str = "") -> None:
        """One row per message: ticket, kind, masked contact and why; hidden when none."""
        self.failed.clear()
        for f in failed:
            kind = CHANNELS.get(f.channel, f.channel)
            self.failed.addItem(f"{f.label or f.ticket}: {kind} to {f.shown}: {f.error}")
        if trouble:
            self.failed.addItem(f"Not known now: {trouble}")
        for widget in (self.failed_title, self.failed):
            widget.setVisible(self.failed.count() > 0)


def _show_rows(table: QTableWidget, most: int = 12) -> None:
    """Tall enough for its rows (up to `most`, then it scrolls): the page scrolls, not it."""
    rows = min(table.rowCount(), most)
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += (
        sum(table.rowHeight(r) for r in range(rows)) or table.verticalHeader().defaultSectionSize()
    )
    table.setMinimumHeight(height)
    table.setMaximumHeight(height)
