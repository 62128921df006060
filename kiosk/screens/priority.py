"""The optional question: "Do you need priority assistance?"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QVBoxLayout

from kiosk.screens.base import KioskScreen
from nowserving.system import i18n
from nowserving_qt.widgets import button, label


class PriorityScreen(KioskScreen):
    """Signals:
    answered: True for priority, False for no.
    """

    answered = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.lang = "en"
        layout = QVBoxLayout(self)
        self.question = label("", "title")
        self.explain = label("", "subtitle")
        self.space(layout)
        layout.addWidget(self.question)
        layout.addWidget(self.explain)
        self.space(layout)
        self.space(layout, above=True)
        answers = QHBoxLayout()
        self.yes = button("", "primary")
        self.no = button("", "primary")
        self.yes.clicked.connect(lambda: self.answered.emit(True))
        self.no.clicked.connect(lambda: self.answered.emit(False))
        answers.addWidget(self.yes, 1)
        answers.addWidget(self.no, 1)
        layout.addLayout(answers)
        self.space(layout)

    def render_view(self, lang: str, busy: bool = False) -> None:
        self.lang = lang
        for answer in (self.yes, self.no):
            answer.setEnabled(not busy)  # one ticket per resident: no second tap
        self.question.setText(i18n.text(lang, "kiosk.priority_question"))
        self.explain.setText(i18n.text(lang, "kiosk.priority_explain"))
        for widget, key in (
            (self.yes, "kiosk.priority_yes"),
            (self.no, "kiosk.priority_no"),
        ):
            widget.setText(i18n.text(lang, key))
            widget.setAccessibleName(i18n.text(lang, key))

    def choices(self) -> list[QAbstractButton]:
        return [self.yes, self.no]

    def intro(self) -> str:
        return f"{self.question.text()} {self.explain.text()}"
