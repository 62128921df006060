"""Change your own PIN: the current one, then the new one twice."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nowserving.domain.security import NEW_PIN_DIGITS


class PinChangeScreen(QWidget):
    """Signals:
    submitted: (current PIN, new PIN, new PIN again).
    cancelled: back to the counter, nothing changed.
    """

    submitted = Signal(str, str, str)
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel("Change your PIN")
        title.setProperty("role", "title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        hint = QLabel(f"{NEW_PIN_DIGITS} to 12 digits; not one digit repeated, nor a run.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        form = QFormLayout()
        self.pin, self.new_pin, self.again = QLineEdit(), QLineEdit(), QLineEdit()
        for field, name in (
            (self.pin, "Current PIN"),
            (self.new_pin, "New PIN"),
            (self.again, "New PIN again"),
        ):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setMaxLength(12)
            field.setAccessibleName(name)
            form.addRow(name, field)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setProperty("role", "warning")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.change = QPushButton("Change PIN")
        self.change.setProperty("role", "primary")
        self.change.setDefault(True)
        self.change.clicked.connect(self._submit)
        self.again.returnPressed.connect(self._submit)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancelled)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.change)
        layout.addLayout(buttons)
        layout.addStretch(2)

    def open(self) -> None:
        """Empty fields, no message, the cursor in the first field."""
        for field in (self.pin, self.new_pin, self.again):
            field.clear()
        self.message.clear()
        self.change.setEnabled(True)
        self.pin.setFocus()

    def _submit(self) -> None:
        values = (self.pin.text(), self.new_pin.text(), self.again.text())
        for field in (self.pin, self.new_pin, self.again):
            field.clear()  # a PIN stays on screen no longer than needed
        self.submitted.emit(*values)

    def refuse(self, message: str) -> None:
        self.change.setEnabled(True)
        self.message.setText(message)
        self.pin.setFocus()
