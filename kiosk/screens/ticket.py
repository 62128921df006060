"""Your ticket: the number very large, the service, the wait, the QR code, the receipt."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QLabel, QVBoxLayout

from kiosk.screens.base import KioskScreen
from nowserving.domain.config import OfficeConfig
from nowserving.domain.views import TicketView
from nowserving.system import i18n
from nowserving_qt.qr import qr_pixmap
from nowserving_qt.widgets import CardButton, button, label


class TicketScreen(KioskScreen):
    """Signals:
    done: the resident tapped Done.
    text_me: the resident tapped "Text me when it's my turn".
    """

    done = Signal()
    text_me = Signal()

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
        # Text me when it's my turn: beside the code, the other way to follow one's place.
        self.phone_note = label("", "")
        code.addWidget(self.phone_note)
        self.code = code
        self.text_me_button = self._text_me_button("")
        code.addStretch(1)
        layout.addLayout(code, 2)
        self.spoken = ""

    def _text_me_button(self, text: str) -> CardButton:
        """A button whose text wraps (long translations), made anew for each language."""
        made = CardButton([(text, "")], "", text)
        made.clicked.connect(self.text_me.emit)
        self.code.insertWidget(self.code.indexOf(self.phone_note) + 1, made)
        return made

    def render_view(
        self,
        ticket: TicketView,
        lang: str,
        url: str,
        short_url: str,
        printing: bool,
        qr_size: int,
        *,
        offer_phone: bool = False,
        phone_note: str = "",
    ) -> None:
        """`offer_phone`: show "Text me when it's my turn"; `phone_note`: what became of
        the number left (saved, or could not be)."""
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
        self.phone_note.setText(phone_note)
        self.phone_note.setVisible(bool(phone_note))
        text_me = i18n.text(lang, "kiosk.text_me")
        if self.text_me_button.accessibleName() != text_me:
            self.code.removeWidget(self.text_me_button)
            self.text_me_button.setParent(None)  # gone from the screen now, not later
            self.text_me_button.deleteLater()
            self.text_me_button = self._text_me_button(text_me)
        self.text_me_button.setVisible(offer_phone)
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
                phone_note,
            ]
        )

    def choices(self) -> list[QAbstractButton]:
        offered = [self.text_me_button] if self.text_me_button.isVisibleTo(self) else []
        return [*offered, self.done_button]

    def intro(self) -> str:
        return self.spoken
