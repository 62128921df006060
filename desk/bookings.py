"""A day's bookings per line, and booking a slot for a resident on the phone."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nowserving.domain.booking import Appointment, Slot, bookable_days
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import OfficeConfig
from nowserving.domain.notify import mask
from nowserving.system import i18n

HEADERS = ["Time", "Code", "Contact", "Status", "Booked by"]


class BookingsPanel(QWidget):
    """Signals:
    chosen: the line or day changed (the window asks for that day's bookings and slots).
    book: (line, slot start in ms, contact) for a resident on the phone.
    """

    chosen = Signal()
    book = Signal(str, object, str)  # object: ms overflow a C int

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.line = QComboBox()
        for line in config.lines:
            if line.id in config.booking.lines:
                self.line.addItem(config.text(line.name, "en"), line.id)
        self.day = QComboBox()
        for day in bookable_days(config, wall_ms()):
            self.day.addItem(f"{i18n.text('en', f'weekday.{day.weekday()}')} {day}", day)
        for choice in (self.line, self.day):
            top.addWidget(choice, 1)
            choice.currentIndexChanged.connect(lambda _: self.chosen.emit())
        layout.addLayout(top)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        layout.addWidget(self.table, 1)
        phone = QGroupBox("Book for a resident on the phone")
        form = QFormLayout(phone)
        self.slot = QComboBox()
        form.addRow("Free time", self.slot)
        self.contact = QLineEdit()
        self.contact.setMaxLength(254)
        self.contact.setPlaceholderText("Phone or e-mail for reminders (optional)")
        form.addRow("Contact", self.contact)
        self.book_button = QPushButton("Book")
        self.book_button.clicked.connect(self._book)
        form.addRow(self.book_button)
        layout.addWidget(phone)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

    def choice(self) -> tuple[str, date]:
        """The line and the office-local day shown."""
        return str(self.line.currentData()), self.day.currentData()

    def render_view(self, booked: list[Appointment], slots: list[Slot]) -> None:
        """The day's bookings (contacts masked) and its free slots to book."""
        names = {person.id: person.name for person in self.config.staff}
        self.table.setRowCount(len(booked))
        for r, found in enumerate(booked):
            cells = (
                i18n.clock_time(found.start, self.config.zone),
                found.code,
                mask(found.contact) if found.contact else "",
                found.status,
                names.get(found.booked_by, found.booked_by),
            )
            for c, value in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.slot.clear()
        for slot in slots:
            if slot.free > 0:
                shown = f"{i18n.clock_time(slot.start, self.config.zone)} ({slot.free} free)"
                self.slot.addItem(shown, slot.start)
        self.book_button.setEnabled(self.slot.count() > 0)
        self.note.setText("" if self.slot.count() else "No free time left that day.")

    def show_trouble(self, message: str) -> None:
        self.note.setText(message)

    def _book(self) -> None:
        start = self.slot.currentData()
        if start is not None:
            self.book.emit(str(self.line.currentData()), int(start), self.contact.text().strip())
