"""The resident's way through the kiosk, as a plain state machine (no Qt).

welcome → services → (priority question) → ticket (→ phone → ticket) → welcome, or
welcome → check in (a booking's code) → ticket. The window only renders `KioskFlow` and
forwards taps and key presses to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from nowserving.domain.notify import normalize_phone
from nowserving.domain.rules import SHORT_ALPHABET
from nowserving.domain.views import LineView, TicketView


class Screen(StrEnum):
    WELCOME = "welcome"
    SERVICES = "services"
    PRIORITY = "priority"
    TICKET = "ticket"
    PHONE = "phone"  # "text me when it's my turn": a phone number on the on-screen keypad
    CHECK_IN = "check_in"  # "I have an appointment": the booking's code on a keypad


MAX_PHONE_DIGITS = 17  # "00", then E.164's country code and number, at most 15 digits
CODE_LENGTH = 8  # a booking's check-in code (domain.booking.new_code)


@dataclass
class Accessibility:
    """The resident's chosen aids; cleared for the next resident."""

    large_text: bool = False
    high_contrast: bool = False
    low_reach: bool = False
    voice: bool = False


@dataclass
class IssueRequest:
    line: str
    priority: bool
    lang: str


@dataclass
class KioskFlow:
    """Where one resident is, and what they chose so far."""

    languages: list[str]
    ask_priority: bool = True
    screen: Screen = Screen.WELCOME
    lang: str = ""
    line: str | None = None
    busy: bool = False  # a ticket is being issued: further taps are ignored
    ticket: TicketView | None = None
    error: str = ""
    aids: Accessibility = field(default_factory=Accessibility)
    country: str = ""  # [notify] country_code: digits typed without "00" are a national number
    digits: str = ""  # typed on the phone screen
    phone_note: str = ""  # what the ticket screen says of the number: saved, or not
    phone_saved: bool = False
    code: str = ""  # a booking's code, typed on the check-in screen or read by a scanner

    def __post_init__(self) -> None:
        self.lang = self.lang or self.languages[0]

    def choose_language(self, lang: str) -> None:
        if lang in self.languages and not self.busy:
            self.lang, self.screen, self.error = lang, Screen.SERVICES, ""

    def choose_line(self, line: LineView) -> IssueRequest | None:
        """A tap on a service tile: ask about priority, or issue at once."""
        if self.busy or self.screen is not Screen.SERVICES or not line.taking:
            return None
        self.line, self.error = line.id, ""
        if self.ask_priority:
            self.screen = Screen.PRIORITY
            return None
        return self._request(priority=False)

    def answer_priority(self, priority: bool) -> IssueRequest | None:
        if self.busy or self.screen is not Screen.PRIORITY:
            return None
        return self._request(priority)

    def _request(self, priority: bool) -> IssueRequest | None:
        assert self.line is not None
        self.busy = True
        return IssueRequest(self.line, priority, self.lang)

    def issued(self, ticket: TicketView) -> None:
        self.busy, self.ticket, self.screen = False, ticket, Screen.TICKET

    def failed(self, message: str) -> None:
        """Issuing failed (line paused meanwhile, store full...): back to the services."""
        self.busy, self.error, self.screen = False, message, Screen.SERVICES

    def ask_phone(self) -> None:
        """The resident tapped "Text me when it's my turn" on their ticket."""
        if self.screen is Screen.TICKET and not self.busy and not self.phone_saved:
            self.screen, self.digits, self.phone_note = Screen.PHONE, "", ""

    def press(self, key: str) -> None:
        """A key of the on-screen keypad: a digit, or "erase"."""
        if self.screen is not Screen.PHONE or self.busy:
            return
        if key == "erase":
            self.digits = self.digits[:-1]
        elif key in "0123456789" and len(key) == 1 and len(self.digits) < MAX_PHONE_DIGITS:
            self.digits += key

    @property
    def phone_number(self) -> str | None:
        """The digits as the number that will be used ("+15105550147"), None if not one yet."""
        try:
            return normalize_phone(self.digits, self.country) if self.digits else None
        except ValueError:
            return None

    @property
    def needs_country(self) -> bool:
        """Digits typed as a national number where the office set no country code."""
        return not self.country and self.digits[:2] != "00"[: len(self.digits)]

    def send_phone(self) -> str | None:
        """The number to leave ("+15105550147"), or None if it cannot be sent yet."""
        number = self.phone_number
        if self.screen is not Screen.PHONE or self.busy or number is None:
            return None
        self.busy = True
        return number

    def phone_done(self, note: str, *, saved: bool) -> None:
        """The hub kept the number (or could not): back to the ticket, which says so."""
        self.busy, self.phone_saved, self.phone_note = False, saved, note
        self.screen, self.digits = Screen.TICKET, ""

    # "I have an appointment": the code on the on-screen keypad, or from a barcode scanner.

    def ask_check_in(self) -> None:
        if not self.busy and self.screen in (Screen.WELCOME, Screen.SERVICES):
            self.screen, self.code, self.error = Screen.CHECK_IN, "", ""

    def press_code(self, key: str) -> None:
        """A key of the code keypad: one of the code's characters, or "erase"."""
        if self.screen is not Screen.CHECK_IN or self.busy:
            return
        if key == "erase":
            self.code = self.code[:-1]
        elif len(key) == 1 and key in SHORT_ALPHABET and len(self.code) < CODE_LENGTH:
            self.code += key

    def send_code(self) -> str | None:
        """The code to check in with, or None if it cannot be sent yet."""
        if self.screen is not Screen.CHECK_IN or self.busy or len(self.code) != CODE_LENGTH:
            return None
        self.busy, self.error = True, ""
        return self.code

    def scanned(self, text: str) -> str | None:
        """What a barcode scanner typed, on any screen: a booking's code to check in with
        (the check-in screen shows it), or None if it is not one or the kiosk is busy."""
        code = text.strip().upper()
        if self.busy or len(code) != CODE_LENGTH or any(c not in SHORT_ALPHABET for c in code):
            return None
        if self.screen not in (Screen.WELCOME, Screen.SERVICES, Screen.CHECK_IN):
            self.reset()  # a new resident scans while the last one's ticket still shows
        self.screen, self.code, self.error = Screen.CHECK_IN, code, ""
        self.busy = True
        return code

    def checked_in(self, ticket: TicketView, note: str) -> None:
        """The booking's ticket, with what the resident must know (came late: a walk-in)."""
        self.busy, self.ticket, self.screen, self.code = False, ticket, Screen.TICKET, ""
        self.phone_note = note

    def check_in_failed(self, message: str) -> None:
        self.busy, self.error = False, message

    def back(self) -> None:
        if self.busy:
            return
        self.error = ""
        if self.screen is Screen.CHECK_IN:
            self.reset()
        elif self.screen is Screen.PHONE:
            self.screen, self.digits = Screen.TICKET, ""
        elif self.screen is Screen.PRIORITY:
            self.screen = Screen.SERVICES
        elif self.screen in (Screen.SERVICES, Screen.TICKET):
            self.reset()

    def reset(self) -> None:
        """Ready for the next resident: first language, no aids, nothing chosen."""
        if self.busy:
            return
        self.screen, self.lang, self.line = Screen.WELCOME, self.languages[0], None
        self.ticket, self.error, self.aids = None, "", Accessibility()
        self.digits, self.phone_note, self.phone_saved = "", "", False
        self.code = ""
