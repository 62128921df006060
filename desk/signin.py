"""Sign in: who you are (staff), your PIN, and the counter you work at."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nowserving.domain.config import OfficeConfig


class SignInScreen(QWidget):
    """Signals:
    submitted: (staff id, PIN, counter id).
    """

    submitted = Signal(str, str, str)

    def __init__(self, config: OfficeConfig, counter: str | None = None) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(f"{config.office.name} — front desk")
        title.setProperty("role", "title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        form = QFormLayout()
        self.staff = QComboBox()
        for person in config.staff:
            self.staff.addItem(person.name, person.id)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setPlaceholderText("PIN")
        self.counter = QComboBox()
        for counter_config in config.counters:
            self.counter.addItem(
                config.counter_name(counter_config.id, config.default_language), counter_config.id
            )
        if counter is not None:
            self.counter.setCurrentIndex(max(0, self.counter.findData(counter)))
        form.addRow("Staff member", self.staff)
        form.addRow("PIN", self.pin)
        form.addRow("Counter", self.counter)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setProperty("role", "warning")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.sign_in = QPushButton("Sign in")
        self.sign_in.setProperty("role", "primary")
        self.sign_in.setDefault(True)
        self.sign_in.clicked.connect(self._submit)
        self.pin.returnPressed.connect(self._submit)
        layout.addWidget(self.sign_in)
        layout.addStretch(2)

    def _submit(self) -> None:
        pin, self_pin = self.pin.text(), self.pin
        self_pin.clear()
        self.submitted.emit(self.staff.currentData(), pin, self.counter.currentData())

    def refuse(self, message: str) -> None:
        self.message.setText(message)
        self.pin.setFocus()
