"""The kiosk window: renders the flow, forwards taps and keypad presses, never decides."""

from __future__ import annotations

import logging
from collections import deque

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.accessibility import AccessibilityBar
from kiosk.flow import CODE_LENGTH, KioskFlow, Screen
from kiosk.maintenance import CornerTaps, MaintenanceScreen, PinScreen
from kiosk.printing import PrinterState, PrinterStatus, PrintQueue
from kiosk.receipt import receipt_for
from kiosk.screens.base import KioskScreen
from kiosk.screens.check_in import CheckInScreen
from kiosk.screens.phone import PhoneScreen
from kiosk.screens.priority import PriorityScreen
from kiosk.screens.removed import RemovedScreen
from kiosk.screens.services import ServicesScreen
from kiosk.screens.ticket import TicketScreen
from kiosk.screens.welcome import WelcomeScreen
from nowserving.domain.errors import HubUnavailable, NowservingError
from nowserving.domain.links import short_url, ticket_url
from nowserving.domain.notify import show_phone
from nowserving.domain.state import Status
from nowserving.domain.views import LineView, TicketView
from nowserving.system import i18n
from nowserving_qt.background import run_in_background
from nowserving_qt.bootstrap import Session
from nowserving_qt.speech import Voice
from nowserving_qt.theme import palette, stylesheet, unit
from nowserving_qt.watcher import ServiceWatcher

log = logging.getLogger(__name__)
HOURS_CHECK_MS = 30_000  # a line opening at 8:00 shows as open by 8:00:30
# A barcode scanner reading a booking's QR types its code (a letter first: the tactile
# keypad has none) and Enter within milliseconds; a scan not ended by then is dropped.
SCAN_GAP_MS = 500

INPUT_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}
KEYPAD_KEYS = {
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
    Qt.Key.Key_Space,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Minus,
    Qt.Key.Key_Asterisk,
    Qt.Key.Key_0,
    Qt.Key.Key_Plus,
    *(getattr(Qt.Key, f"Key_{n}") for n in range(1, 10)),
}


class KioskWindow(QWidget):
    """The whole kiosk.

    Signals:
        ticket_shown: a TicketView, once it is on screen.
    """

    ticket_shown = Signal(object)

    def __init__(
        self, session: Session, printer: PrintQueue, speaker: Voice, *, kiosk_mode: bool = True
    ) -> None:
        super().__init__()
        self.session = session
        self.config = session.config
        self.service = session.service
        self.printer = printer
        self.speaker = speaker
        self.kiosk_mode = kiosk_mode
        self.flow = KioskFlow(
            self.config.office.languages,
            self.config.kiosk.ask_priority,
            country=self.config.notify.country_code,
        )
        self.errors: deque[str] = deque(maxlen=50)
        self.printer_status = PrinterStatus(PrinterState.UNKNOWN, "")
        self.allow_close = not kiosk_mode
        self._style_key: tuple[int, bool, bool, bool] | None = None
        self._focus = -1
        self._lines: list[LineView] = []
        self._printing = False  # whether the shown ticket's receipt is on its way
        self.removed: RemovedScreen | None = None  # the hub revoked this kiosk
        self._build()
        self.watcher = ServiceWatcher(self.service, parent=self)
        self.watcher.changed.connect(self._lines_changed)
        self.watcher.removed.connect(self._removed)
        self.idle = QTimer(self, singleShot=True, interval=self.config.kiosk.idle_seconds * 1000)
        self.idle.timeout.connect(self._idle)
        self.ticket_timer = QTimer(
            self, singleShot=True, interval=self.config.kiosk.ticket_seconds * 1000
        )
        self.ticket_timer.timeout.connect(self._done)
        # Lines open and close by the calendar with no event to say so: look again each minute.
        self.hours_timer = QTimer(self, interval=HOURS_CHECK_MS)
        self.hours_timer.timeout.connect(self._lines_changed)
        self.hours_timer.start()
        self._scan = ""  # what a barcode scanner typed so far
        self.scan_timer = QTimer(self, singleShot=True, interval=SCAN_GAP_MS)
        self.scan_timer.timeout.connect(self._drop_scan)
        app = QApplication.instance()
        assert app is not None  # a widget exists only once the application does
        app.installEventFilter(self)
        self._lines_changed()

    # -- building ----------------------------------------------------------------------

    def _build(self) -> None:
        self.setWindowTitle(f"{self.config.office.name} — Nowserving")
        outer = QVBoxLayout(self)
        # The staff corner floats over the top-left, outside the layout (see resizeEvent).
        self.corner = QPushButton(self)
        self.corner.setFlat(True)
        self.corner.setFixedSize(72, 72)
        self.corner.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.corner.setAccessibleName("")
        self.corner.setStyleSheet("border: none; background: transparent;")
        self.taps = CornerTaps()
        self.corner.clicked.connect(self._corner_tapped)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.welcome = WelcomeScreen(self.config)
        self.services = ServicesScreen(self.config)
        self.priority = PriorityScreen()
        self.ticket = TicketScreen(self.config)
        self.phone = PhoneScreen()
        self.check_in_screen = CheckInScreen()
        self.pin = PinScreen(self.service.check_staff_pin)
        self.maintenance = MaintenanceScreen()
        for screen in (
            self.welcome,
            self.services,
            self.priority,
            self.ticket,
            self.phone,
            self.check_in_screen,
            self.pin,
            self.maintenance,
        ):
            self.stack.addWidget(screen)
        self.bar = AccessibilityBar()
        outer.addWidget(self.bar)
        self.welcome.language_chosen.connect(self.choose_language)
        self.services.line_chosen.connect(self.choose_line)
        self.bar.back.connect(self.go_back)
        self.priority.answered.connect(self.answer_priority)
        self.ticket.done.connect(self._done)
        self.ticket.text_me.connect(self.ask_phone)
        self.phone.pressed.connect(self.press_key)
        self.phone.send.connect(self.send_phone)
        self.phone.cancel.connect(self.go_back)
        self.welcome.check_in.connect(self.ask_check_in)
        self.check_in_screen.pressed.connect(self.press_code)
        self.check_in_screen.send.connect(self.send_code)
        self.check_in_screen.cancel.connect(self.go_back)
        self.bar.toggled.connect(self.toggle_aid)
        self.pin.accepted.connect(self._open_maintenance)
        self.pin.cancelled.connect(self._resume)
        self.maintenance.resume.connect(self._resume)
        self.maintenance.test_print.connect(self._test_print)
        self.maintenance.quit_kiosk.connect(self._quit)

    # -- resident actions (each one flow call, then render) -----------------------------

    def choose_language(self, lang: str) -> None:
        self.flow.choose_language(lang)
        self.render_view()

    def choose_line(self, line: LineView) -> None:
        request = self.flow.choose_line(line)
        if request is not None:
            self._issue(request.line, request.priority, request.lang)
        self.render_view()

    def answer_priority(self, priority: bool) -> None:
        request = self.flow.answer_priority(priority)
        if request is not None:
            self._issue(request.line, request.priority, request.lang)
        self.render_view()

    def go_back(self) -> None:
        self.flow.back()
        self.render_view()
        if self.flow.screen is Screen.TICKET:
            self.ticket_timer.start()

    # Text me when it's my turn: the number goes to the hub, never stays on the kiosk.

    def ask_phone(self) -> None:
        self.ticket_timer.stop()  # typing takes longer than a glance at the ticket
        self.flow.ask_phone()
        self.render_view()

    def press_key(self, key: str) -> None:
        self.flow.press(key)
        self.render_view()

    def send_phone(self) -> None:
        number, ticket = self.flow.send_phone(), self.flow.ticket
        if number is None or ticket is None:
            return
        token = ticket.token
        run_in_background(
            lambda: self.service.subscribe_issued(token, number),
            self._phone_saved,
            self._phone_failed,
        )
        self.render_view()

    def _phone_saved(self, shown: str) -> None:
        self.flow.phone_done(
            i18n.text(self.flow.lang, "kiosk.phone_saved", number=shown), saved=True
        )
        self.render_view()
        self.ticket_timer.start()

    def _phone_failed(self, error: Exception) -> None:
        if isinstance(error, HubUnavailable):
            note = i18n.text(self.flow.lang, "kiosk.phone_offline")
        elif isinstance(error, NowservingError):
            note = i18n.refusal(self.flow.lang, getattr(error, "code", ""))
        else:
            log.error("leaving a phone number failed", exc_info=error)
            note = i18n.text(self.flow.lang, "kiosk.phone_offline")
        self.errors.append(str(error))
        self.flow.phone_done(note, saved=False)
        self.render_view()
        self.ticket_timer.start()

    # I have an appointment: the hub checks the booking in and issues its ticket.

    def ask_check_in(self) -> None:
        self.flow.ask_check_in()
        self.render_view()

    def press_code(self, key: str) -> None:
        self.flow.press_code(key)
        self.render_view()

    def send_code(self) -> None:
        self._check_in(self.flow.send_code())

    def scanned(self, text: str) -> None:
        """What a barcode scanner typed (then Enter), whatever the screen shows."""
        self.ticket_timer.stop()
        self._check_in(self.flow.scanned(text))

    def _check_in(self, code: str | None) -> None:
        if code is None:
            return
        run_in_background(lambda: self.service.check_in(code), self._checked_in, self._not_in)
        self.render_view()

    def _checked_in(self, answer: tuple[TicketView, bool]) -> None:
        ticket, late = answer
        note = (
            i18n.text(ticket.lang, "checkin.late", minutes=self.config.booking.grace_minutes)
            if late
            else i18n.text(ticket.lang, "checkin.done")
        )
        self.flow.lang = ticket.lang  # the booking's language, chosen when booking
        self._print(ticket)
        self.flow.checked_in(ticket, note)
        self.render_view()
        self.ticket_timer.start()
        self.ticket_shown.emit(ticket)

    def _not_in(self, error: Exception) -> None:
        if isinstance(error, HubUnavailable):
            message = i18n.text(self.flow.lang, "kiosk.phone_offline")
        else:
            if not isinstance(error, NowservingError):
                log.error("checking in failed", exc_info=error)
            code = getattr(error, "code", "")
            message = (
                str(error)  # where to go instead: the hub says it in the booking's language
                if code == "checkin_elsewhere"
                else i18n.refusal(self.flow.lang, code)
            )
        self.errors.append(str(error))
        self.flow.check_in_failed(message)
        self.render_view()

    def toggle_aid(self, aid: str, on: bool) -> None:
        setattr(self.flow.aids, aid, on)
        if aid == "voice" and on:
            self._say(i18n.text(self.flow.lang, "kiosk.voice_intro"), interrupt=True)
            self._say(self._screen().intro())
        self.render_view()

    def _issue(self, line: str, priority: bool, lang: str) -> None:
        run_in_background(
            lambda: self.service.issue(line, priority=priority, lang=lang, source="kiosk"),
            self._issued,
            self._issue_failed,
        )

    def _issued(self, ticket: TicketView) -> None:
        self._print(ticket)
        self.flow.issued(ticket)
        self.render_view()
        self.ticket_timer.start()
        self.ticket_shown.emit(ticket)

    def _print(self, ticket: TicketView) -> None:
        printing = self.printer.submit(
            receipt_for(
                self.config,
                ticket,
                ticket_url(self.config, ticket.token, ticket.lang),
                short_url(self.config, ticket.token),
            )
        )
        self._printing = printing and self.printer.state.can_print

    def _issue_failed(self, error: Exception) -> None:
        if not isinstance(error, NowservingError):
            log.error("issuing a ticket failed", exc_info=error)
        self.errors.append(str(error))  # staff read the English detail on the maintenance page
        self.flow.failed(i18n.refusal(self.flow.lang, getattr(error, "code", "")))
        self._lines_changed()

    def _done(self) -> None:
        self.ticket_timer.stop()
        self.flow.reset()
        self.render_view()

    def _idle(self) -> None:
        if self.stack.currentWidget() in (self.pin, self.maintenance):
            self._resume()
        elif self.flow.screen is not Screen.WELCOME:
            self._done()

    # -- printer -----------------------------------------------------------------------

    def printer_changed(self, status: PrinterStatus) -> None:
        """The print thread's report, delivered on the UI thread."""
        self.printer_status = status
        if status.message and status.state.needs_staff:
            self.errors.append(status.message)
        try:
            self.service.report_alert("printer", status.message if status.state.needs_staff else "")
        except NowservingError as exc:
            self.errors.append(str(exc))
        self.render_view()

    def _test_print(self) -> None:
        ticket = TicketView(
            id="test",
            label="TEST",
            line=self.config.lines[0].id,
            status=Status.WAITING,  # not printed: a test receipt shows no status
            ahead=0,
            wait=self.service.lines()[0].wait,
            priority=False,
            lang=self.config.default_language,
            source="test",
            day="",
            issued_at=0,
        )
        receipt = receipt_for(
            self.config,
            ticket,
            self.config.office.public_base_url,
            self.config.office.public_base_url,
        )
        self.printer.submit(receipt)

    # -- staff -------------------------------------------------------------------------

    def _corner_tapped(self) -> None:
        if self.taps.tap():
            self.stack.setCurrentWidget(self.pin)
            self.idle.start()

    def _open_maintenance(self, staff: str) -> None:
        log.info("maintenance opened by %s", staff)
        facts = {
            "Device": self.session.device.id,
            "Store": self.service.store_path(),
            "Printer": f"{self.printer_status.state.value} {self.printer_status.message}",
            "Receipts printed / dropped": f"{self.printer.printed} / {self.printer.dropped}",
            "Speech": "on" if self.speaker.available else "off (no speech engine)",
        }
        self.maintenance.render_view(facts, list(self.errors))
        self.stack.setCurrentWidget(self.maintenance)

    def _resume(self) -> None:
        self.flow.reset()
        self.stack.setCurrentWidget(self.welcome)  # leaves the staff screens (render_view won't)
        self.render_view()

    def _quit(self) -> None:
        self.allow_close = True
        self.close()

    # -- rendering ---------------------------------------------------------------------

    def _removed(self) -> None:
        """Revoked at the hub: say so at once, not when a resident tries for a ticket."""
        self.ticket_timer.stop()
        self.removed = RemovedScreen(self.config)
        self.stack.addWidget(self.removed)
        self.render_view()
        if self.flow.aids.voice:
            self._say(self.removed.intro(), interrupt=True)

    def _lines_changed(self) -> None:
        if self.service.config is not self.config:  # the office changed at the hub
            self.config = self.service.config
            for screen in (self.welcome, self.services, self.ticket):
                screen.config = self.config
            # Languages and kiosk settings apply from the next resident on.
            settings = self.config.kiosk
            self.flow.ask_priority = settings.ask_priority
            self.idle.setInterval(settings.idle_seconds * 1000)
            self.ticket_timer.setInterval(settings.ticket_seconds * 1000)
            if self.flow.languages != self.config.office.languages:
                self.flow.languages = list(self.config.office.languages)
                self.welcome.show_languages()
        if self.flow.screen in (Screen.WELCOME, Screen.SERVICES):
            self.render_view()

    def _fresh_lines(self) -> list[LineView]:
        """The lines now (the last known ones if the store cannot be read)."""
        try:
            # A line removed today still calls its waiting residents, but takes no new ones.
            self._lines = [line for line in self.service.lines() if not line.removed]
        except NowservingError as exc:
            self.errors.append(str(exc))
        return self._lines

    def choices(self) -> list[QAbstractButton]:
        """What the keypad steps through: the screen's choices, then Back when there is one."""
        back = [self.bar.back_button] if self.bar.back_button.isVisibleTo(self) else []
        return self._screen().choices() + back

    def _screen(self) -> KioskScreen:
        return {
            Screen.WELCOME: self.welcome,
            Screen.SERVICES: self.services,
            Screen.PRIORITY: self.priority,
            Screen.TICKET: self.ticket,
            Screen.PHONE: self.phone,
            Screen.CHECK_IN: self.check_in_screen,
        }[self.flow.screen]

    def render_view(self) -> None:
        if self.removed is not None:  # for good: nothing else shows, no tap reaches a screen
            self.stack.setCurrentWidget(self.removed)
            self.bar.hide()
            return
        if self.stack.currentWidget() in (self.pin, self.maintenance):
            return  # staff stay there while lines or the printer change; they leave by resume
        # Text scales with the window, but no larger than its width allows (portrait).
        flow, height = self.flow, max(min(self.height(), round(self.width() * 0.75)), 600)
        self._apply_style(height)
        lang = flow.lang
        self.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft
            if i18n.direction(lang) == "rtl"
            else Qt.LayoutDirection.LeftToRight
        )
        u = unit(height, flow.aids.large_text)
        screen = self._screen()
        previous = self.stack.currentWidget()
        if screen is self.welcome:
            self.welcome.render_view(self._fresh_lines())
        elif screen is self.services:
            columns = 1 if self.width() < self.height() else (3 if flow.aids.low_reach else 2)
            self.services.render_view(
                self._fresh_lines(),
                lang,
                flow.error,
                round(u * 3),
                columns,
                compact=flow.aids.low_reach,
            )
        elif screen is self.priority:
            self.priority.render_view(lang, busy=flow.busy)
        elif screen is self.phone:
            number, country = flow.phone_number, flow.country
            hint = "kiosk.phone_hint_national" if country else "kiosk.phone_hint"
            self.phone.render_view(
                lang,
                show_phone(number, country) if number else flow.digits,
                hint=i18n.text(lang, hint),
                warning=i18n.text(lang, "kiosk.phone_hint") if flow.needs_country else "",
                complete=number is not None,
                busy=flow.busy,
                key_px=round(u * 2.6),
                portrait=self.width() < self.height(),
            )
        elif screen is self.check_in_screen:
            self.check_in_screen.render_view(
                lang,
                flow.code,
                flow.error,
                complete=len(flow.code) == CODE_LENGTH,
                busy=flow.busy,
                key_px=round(u * 1.8),
            )
        elif flow.ticket is not None:
            token = flow.ticket.token
            phone = "sms" in self.config.notify.channels  # room for "Text me" under the code
            qr_size = round(
                min(
                    self.width() * 0.3,
                    height * (0.3 if flow.aids.low_reach or phone else 0.45),
                )
            )
            self.ticket.render_view(
                flow.ticket,
                lang,
                ticket_url(self.config, token, flow.ticket.lang),
                short_url(self.config, token),
                self._printing,
                qr_size,
                offer_phone=phone and not flow.phone_saved,
                phone_note=flow.phone_note,
            )
        self.bar.render_view(
            flow.aids,
            lang,
            round(u * 1.4),
            self.printer_status.state.needs_staff,
            palette(flow.aids.high_contrast),
            can_go_back=flow.screen in (Screen.SERVICES, Screen.PRIORITY),
            languages=self.config.office.languages if flow.screen is Screen.WELCOME else (),
        )
        pages = (self.welcome, self.services, self.priority, self.ticket, self.phone)
        for page in (*pages, self.check_in_screen):
            page.set_low_reach(flow.aids.low_reach)
        self.stack.setCurrentWidget(screen)
        if screen is not previous:
            self._focus = -1
            if flow.aids.voice:
                self._say(screen.intro(), interrupt=True)
        if flow.screen is not Screen.WELCOME:
            self.idle.start()

    def _apply_style(self, height: int) -> None:
        aids = self.flow.aids
        key = (height, aids.large_text, aids.high_contrast, aids.voice)
        if key != self._style_key:
            self._style_key = key
            # A focus ring helps keypad users; on a touch screen it only confuses.
            self.setStyleSheet(
                stylesheet(
                    height,
                    large=aids.large_text,
                    contrast=aids.high_contrast,
                    focus_ring=aids.voice,
                    thick_focus=aids.voice,  # for residents who see a little
                    primary=self.config.office.colors.get("primary"),
                )
            )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.corner.raise_()
        self.render_view()

    # -- keypad and voice ----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in INPUT_EVENTS and self.flow.screen is not Screen.WELCOME:
            self.idle.start()
        if isinstance(event, QKeyEvent) and self._scanner_key(event):
            return True
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and Qt.Key(event.key()) in KEYPAD_KEYS
            and self.isActiveWindow()
        ):
            self.keypad(Qt.Key(event.key()))
            return True
        return False

    def _scanner_key(self, event: QKeyEvent) -> bool:
        """Whether `event` is a barcode scanner's key (taken here): a letter starts a code,
        letters and digits continue it, Enter checks in with it."""
        if (
            event.type() != QEvent.Type.KeyPress
            or not self.isActiveWindow()
            or self.removed is not None
            or self.stack.currentWidget() in (self.pin, self.maintenance)
        ):
            return False
        typed = event.text()
        if (
            len(typed) == 1
            and typed.isascii()
            and (typed.isalpha() or (self._scan and typed.isdigit()))
        ):
            self._scan += typed
            self.scan_timer.start()
            return True
        if self._scan and Qt.Key(event.key()) in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            code = self._scan
            self._drop_scan()
            self.scanned(code)
            return True
        return False

    def _drop_scan(self) -> None:
        self._scan = ""
        self.scan_timer.stop()

    def keypad(self, key: Qt.Key) -> None:
        """A key of the tactile keypad: move, choose, go back or hear it again."""
        if self.removed is not None or self.stack.currentWidget() in (self.pin, self.maintenance):
            return
        if not self.flow.aids.voice:
            self.toggle_aid("voice", True)
            return
        choices = self.choices()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Right, Qt.Key.Key_Down):
            step = -1 if key in (Qt.Key.Key_Left, Qt.Key.Key_Up) else 1
            self._move_focus(choices, step)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            if 0 <= self._focus < len(choices):
                choices[self._focus].click()
            else:
                self._move_focus(choices, 1)
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_Escape, Qt.Key.Key_Minus):
            self.go_back()
        elif key in (Qt.Key.Key_0, Qt.Key.Key_Asterisk, Qt.Key.Key_Plus):
            self._say(self._screen().intro(), interrupt=True)
        else:
            index = int(key) - int(Qt.Key.Key_1)
            if index < len(choices):
                choices[index].click()

    def _move_focus(self, choices: list[QAbstractButton], step: int) -> None:
        if not choices:
            return
        self._focus = (self._focus + step) % len(choices) if self._focus >= 0 else 0
        chosen = choices[self._focus]
        chosen.setFocus(Qt.FocusReason.TabFocusReason)
        self._screen().reveal(chosen)
        detail = chosen.accessibleDescription() or ""
        self._say(
            i18n.text(
                self.flow.lang,
                "kiosk.voice_choice",
                name=chosen.accessibleName(),
                detail=detail,
                position=self._focus + 1,
                total=len(choices),
            ),
            interrupt=True,
        )

    def _say(self, text: str, interrupt: bool = False) -> None:
        if text.strip():
            self.speaker.say(
                text.replace(" .", "").replace(". .", "."), self.flow.lang, interrupt=interrupt
            )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.allow_close:
            self.watcher.stop()
            event.accept()
        else:
            event.ignore()  # kiosk mode: residents cannot close it


class PrinterBridge(QObject):
    """Carries the print thread's reports to the UI thread (a queued signal)."""

    status = Signal(object)
