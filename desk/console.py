"""The counter: the resident being served, the actions with their shortcuts, the queue."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
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

from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import CounterView, TicketView
from nowserving.system import i18n

# action -> (button text, shortcut)
ACTIONS = {
    "call_next": ("Call next", "F1"),
    "recall": ("Recall", "F2"),
    "complete": ("Served", "F3"),
    "no_show": ("No-show", "F4"),
    "transfer": ("Transfer", "F5"),
    "call_ticket": ("Call selected", "F6"),
    "return": ("Back in line", "F7"),
}


def minutes_since(start_ms: int, now_ms: int) -> str:
    minutes = max(0, (now_ms - start_ms) // 60_000)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def waiting_since(ticket: TicketView) -> int:
    """When a resident's wait began (ms): at issue, or for a booking at its slot's start if
    they checked in early (the reports count appointments' waits the same way)."""
    return max(ticket.issued_at, ticket.appointment or 0)


def appointment_mark(ticket: TicketView, config: OfficeConfig) -> str:
    """ "Appt 10:30" for a checked-in booking (its slot's office time), else "": a word
    staff read, not a colour. The desk is in English, as its other markers."""
    if ticket.appointment is None:
        return ""
    return f"Appt {i18n.clock_time(ticket.appointment, config.zone)}"


def flags(ticket: TicketView, config: OfficeConfig) -> str:
    """Short markers staff read at a glance."""
    mark = appointment_mark(ticket, config)
    marks = [mark] if mark else []
    if ticket.priority:
        marks.append("Priority")
    if ticket.source == "remote" and ticket.appointment is None:  # not a phone check-in
        marks.append("Joined by phone")
    if ticket.returned:
        marks.append("Came back (no-show)")
    if ticket.transferred_from:
        marks.append(f"From {config.text(config.line(ticket.transferred_from).name, 'en')}")
    return " · ".join(marks)


class CounterPanel(QWidget):
    """Signals:
    action: (action name, ticket id or "", extra dict) — the window runs it.
    """

    action = Signal(str, str, dict)

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        self.current: TicketView | None = None
        layout = QVBoxLayout(self)
        self.number = QLabel("—")
        self.number.setProperty("role", "huge")
        self.details = QLabel("Nobody at the counter. Press Call next (F1).")
        self.details.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.number)
        top.addWidget(self.details, 1)
        layout.addLayout(top)
        buttons = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for n, (name, (text, key)) in enumerate(ACTIONS.items()):
            button = QPushButton(f"{text}  ({key})")
            button.setProperty("role", "primary" if name == "call_next" else "")
            button.setAccessibleName(text)
            button.clicked.connect(lambda _=False, a=name: self.trigger(a))
            self.buttons[name] = button
            buttons.addWidget(button, n // 4, n % 4)
        layout.addLayout(buttons)
        transfer = QHBoxLayout()
        transfer.addWidget(QLabel("Transfer to"))
        self.transfer_line = QComboBox()
        for line in config.lines:
            self.transfer_line.addItem(config.text(line.name, "en"), line.id)
        self.keep_place = QCheckBox("keep their place")
        self.keep_place.setChecked(True)
        transfer.addWidget(self.transfer_line, 1)
        transfer.addWidget(self.keep_place)
        layout.addLayout(transfer)
        reason = QHBoxLayout()
        reason.addWidget(QLabel("Reason to call out of order"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. interpreter available now")
        reason.addWidget(self.reason, 1)
        layout.addLayout(reason)
        self.queue = QTableWidget(0, 4)
        self.queue.setHorizontalHeaderLabels(["Number", "Service", "Waiting", "Notes"])
        self.queue.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.queue.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.queue.verticalHeader().hide()
        layout.addWidget(QLabel("Waiting for this counter"))
        layout.addWidget(self.queue, 1)
        self.no_shows: list[TicketView] = []

    def trigger(self, name: str) -> None:
        """Turn a button or shortcut into an action on the right ticket."""
        if name == "call_next":
            self.action.emit(name, "", {})
        elif name == "call_ticket":
            selected = self.selected()
            self.action.emit(name, selected.id if selected else "", {"reason": self.reason.text()})
        elif name == "return":
            self.action.emit(name, self.no_shows[-1].id if self.no_shows else "", {})
        elif name == "transfer":
            self.action.emit(
                name,
                self.current.id if self.current else "",
                {
                    "to_line": self.transfer_line.currentData(),
                    "keep_place": self.keep_place.isChecked(),
                },
            )
        else:
            self.action.emit(name, self.current.id if self.current else "", {})

    def selected(self) -> TicketView | None:
        rows = self.queue.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.queue.item(rows[0].row(), 0)
        ticket: TicketView | None = item.data(Qt.ItemDataRole.UserRole) if item else None
        return ticket

    def render_view(self, counter: CounterView, queue: list[TicketView], now_ms: int) -> None:
        self.current = counter.current
        ticket = counter.current
        if ticket is None:
            self.number.setText("—")
            self.details.setText("Nobody at the counter. Press Call next (F1).")
        else:
            service = self.config.text(self.config.line(ticket.line).name, "en")
            waited = minutes_since(waiting_since(ticket), ticket.called_at or now_ms)
            lines = [f"<b>{service}</b>", f"Waited {waited}", flags(ticket, self.config)]
            if ticket.recalls:
                lines.append(f"Recalled {ticket.recalls}×")
            self.number.setText(ticket.label)
            self.details.setText("<br>".join(part for part in lines if part))
        for name in ("recall", "complete", "no_show", "transfer"):
            self.buttons[name].setEnabled(ticket is not None)
        self.buttons["return"].setEnabled(bool(self.no_shows))
        chosen = self.selected()
        self.queue.setRowCount(len(queue))
        for row, waiting in enumerate(queue):
            cells = [
                waiting.label,
                self.config.text(self.config.line(waiting.line).name, "en"),
                minutes_since(waiting_since(waiting), now_ms),
                flags(waiting, self.config),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, waiting)
                self.queue.setItem(row, column, item)
            if chosen is not None and waiting.id == chosen.id:
                self.queue.selectRow(row)
