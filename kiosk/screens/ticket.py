"""Your ticket: the number very large, the service, the wait, the QR code, the receipt."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QLabel, QVBoxLayout

from kiosk.screens.base import KioskScreen
from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import TicketView
from nowserving.system import i18n
from nowserving_qt.qr import qr_pixmap
from nowserving_qt.widgets import button, label


class TicketScreen(KioskScreen):
    """Signals:
    done: the resident tapped Done.
    """

    done = Signal()

    def __init__(self, config: OfficeConfig) -> None:
        super().__init__()
        self.config = config
        self.lang = config.default_language
        layout = QHBoxLayout(self)
        facts = QVBoxLayout()
        self.heading = label("", "subtitle")
        self.number = label("", "huge", wrap=False)  # already huge; never split A-042
        self.service = label("", "big")
        self.ahead = label("", "big")
        self.wait = label("", "")
        self.printing = label("", "banner")
        for widget in (self.heading, self.number, self.service, self.ahead, self.wait):
            facts.addWidget(widget)
        facts.addStretch(1)
        facts.addWidget(self.printing)
        self.done_button = button("", "primary")
        self.done_button.clicked.connect(self.done.emit)
        facts.addWidget(self.done_button)
        layout.addLayout(facts, 3)
        code = QVBoxLayout()
        code.addStretch(1)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scan = label("", "")
        self.short = label("", "subtitle", wrap=False)
        self.short.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        code.addWidget(self.qr)
        code.addWidget(self.scan)
        code.addWidget(self.short)
        code.addStretch(1)
        layout.addLayout(code, 2)
        self.spoken = ""

    def render_view(
        self, ticket: TicketView, lang: str, url: str, short_url: str, printing: bool, qr_size: int
    ) -> None:
        self.lang = lang
        service = self.config.text(self.config.line(ticket.line).name, lang)
        ahead = i18n.ahead_text(lang, ticket.ahead)
        wait = f"{i18n.text(lang, 'common.estimated_wait')}: {i18n.wait_text(lang, ticket.wait)}"
        self.heading.setText(i18n.text(lang, "kiosk.your_ticket"))
        self.number.setText(ticket.label)
        self.number.setAccessibleName(ticket.label)
        self.service.setText(service)
        self.ahead.setText(ahead)
        self.wait.setText(wait)
        self.printing.setText(i18n.text(lang, "kiosk.printing" if printing else "kiosk.no_printer"))
        self.qr.setPixmap(qr_pixmap(url, qr_size))
        self.qr.setAccessibleName(i18n.text(lang, "kiosk.scan"))
        self.scan.setText(i18n.text(lang, "kiosk.scan"))
        self.short.setText(short_url)
        self.done_button.setText(i18n.text(lang, "kiosk.done"))
        self.done_button.setAccessibleName(i18n.text(lang, "kiosk.done"))
        self.spoken = ". ".join(
            [
                self.heading.text(),
                i18n.spoken_label(ticket.label, lang),
                service,
                ahead,
                wait,
                self.printing.text(),
            ]
        )

    def choices(self) -> list[QAbstractButton]:
        return [self.done_button]

    def intro(self) -> str:
        return self.spoken
