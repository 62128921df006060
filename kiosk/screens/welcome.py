"""Welcome: the office, a language button for each language (in its own script), today's lines."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout

from kiosk.screens.base import KioskScreen
from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import LineView
from nowserving.system import i18n
from nowserving_qt.widgets import CardButton, clear, label


class WelcomeScreen(KioskScreen):
    """Signals:
    language_chosen: a language code, from its button.
    check_in: "I have an appointment" was tapped.
    """

    language_chosen = Signal(str)
    check_in = Signal()

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        layout = QVBoxLayout(self)
        self.office = label(config.office.name, "title")
        self.greeting = label("", "subtitle")
        layout.addWidget(self.office)
        layout.addWidget(self.greeting)
        self.space(layout)
        self.space(layout, above=True)
        self.buttons = QGridLayout()
        layout.addLayout(self.buttons)
        self.appointment: CardButton  # "I have an appointment", after the languages
        self.space(layout)
        self.glance = QHBoxLayout()
        layout.addLayout(self.glance)
        self.show_languages()

    def show_languages(self) -> None:
        """A button per office language (again, when the office's languages changed)."""
        clear(self.buttons)
        languages = self.config.office.languages
        columns = 2 if len(languages) <= 4 else 3
        for n, lang in enumerate(languages):
            name = i18n.language_name(lang)
            hint = i18n.text(lang, "kiosk.touch_to_start")
            choice = CardButton(
                [(name, "language-name"), (hint, "language-hint")], "language", f"{name}. {hint}"
            )
            choice.setLayoutDirection(
                Qt.LayoutDirection.RightToLeft
                if i18n.direction(lang) == "rtl"
                else Qt.LayoutDirection.LeftToRight
            )
            choice.clicked.connect(lambda _=False, code=lang: self.language_chosen.emit(code))
            self.buttons.addWidget(choice, n // columns, n % columns)
        # A card too, so its label in every language wraps (a portrait screen is narrow),
        # in the rest of the last row: beside the languages when there is room, so the
        # language cards keep their height in large text.
        said = "  ·  ".join(i18n.text(lang, "checkin.button") for lang in languages)
        self.appointment = CardButton([(said, "appointment")], "language", said)
        self.appointment.clicked.connect(self.check_in.emit)
        row, column = divmod(len(languages), columns)
        self.buttons.addWidget(self.appointment, row, column, 1, columns - column)
        # Columns as wide as each other, whatever their text (and none left from before).
        for n in range(self.buttons.columnCount()):
            self.buttons.setColumnStretch(n, 1 if n < columns else 0)
        # Only where residents can book (booking.takes_bookings needs a calendar too).
        self.appointment.setVisible(bool(self.config.booking.lines and self.config.calendar))

    def render_view(self, lines: list[LineView]) -> None:
        languages = self.config.office.languages
        self.greeting.setText("  ·  ".join(i18n.text(lang, "kiosk.welcome") for lang in languages))
        clear(self.glance)
        default = self.config.default_language
        for line in lines:
            name = self.config.text(self.config.line(line.id).name, default)
            if line.hours.status != "open":
                state = i18n.hours_text(default, line.hours, self.config.zone)
            elif line.paused:
                state = i18n.text(default, "display.paused")
            else:
                state = i18n.text(default, "common.people_waiting", count=line.waiting)
            self.glance.addWidget(label(f"{line.prefix} · {name}\n{state}", "glance"), 1)

    def intro(self) -> str:
        return " ".join(
            i18n.text(lang, "kiosk.touch_to_start") for lang in self.config.office.languages
        )
