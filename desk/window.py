"""The front-desk console: sign in, serve at a counter, control lines. Renders and forwards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desk.bookings import BookingsPanel
from desk.console import ACTIONS, CounterPanel
from desk.dashboard import DashboardPanel
from desk.devices import REFRESH_MS, DevicesPanel
from desk.linecontrol import LineControlPanel
from desk.pinchange import PinChangeScreen
from desk.signin import SignInScreen
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import OfficeConfig, Staff
from nowserving.domain.errors import NowservingError
from nowserving.domain.pairing import REMOVED
from nowserving.domain.security import WeakPin, check_new_pin
from nowserving.domain.signin import SignInRefused
from nowserving.domain.views import transfer_concern
from nowserving.service.interface import Service
from nowserving.sync.protocol import DeviceStatus
from nowserving.system import i18n
from nowserving_qt.background import run_in_background
from nowserving_qt.theme import desk_stylesheet
from nowserving_qt.watcher import ServiceWatcher

log = logging.getLogger(__name__)


class DeskWindow(QWidget):
    """The console; `device_status` (asks the hub) adds a Devices tab for IT.

    Signals:
        done: (action name, result) after each action succeeded; for tests and logs.
    """

    done = Signal(str, object)

    def __init__(
        self,
        config: OfficeConfig,
        service: Service,
        counter: str | None = None,
        device_status: Callable[[], list[DeviceStatus]] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.service = service
        self.device_status = device_status
        self._asking = False
        self.staff: Staff | None = None
        self.counter_id = counter or config.counters[0].id
        self.setWindowTitle(f"{config.office.name} — front desk")
        self.setStyleSheet(desk_stylesheet(primary=config.office.colors.get("primary")))
        self.transfer_box: QMessageBox | None = None
        layout = QVBoxLayout(self)
        self.banner = QLabel()
        self.banner.setProperty("role", "alert")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.signin = SignInScreen(config, counter)
        self.signin.submitted.connect(self.sign_in)
        self.stack.addWidget(self.signin)
        self.stack.addWidget(self._console())
        self.pin_change = PinChangeScreen()
        self.pin_change.submitted.connect(self.change_pin)
        self.pin_change.cancelled.connect(lambda: self.stack.setCurrentIndex(1))
        self.stack.addWidget(self.pin_change)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.watcher = ServiceWatcher(service, parent=self)
        self.watcher.changed.connect(self.render_view)
        self.sync_timer = QTimer(self, interval=1000)  # sync state changes without new events
        self.sync_timer.timeout.connect(self._show_sync)
        self.sync_timer.start()
        self.watcher.trouble.connect(self._trouble)
        self.watcher.removed.connect(self._removed)
        self._shortcuts()

    def _console(self) -> QWidget:
        console = QWidget()
        layout = QVBoxLayout(console)
        top = QHBoxLayout()
        self.who = QLabel()
        self.who.setProperty("role", "big")
        top.addWidget(self.who, 1)
        self.break_button = QPushButton("Take a break")
        self.close_button = QPushButton("Close counter")
        self.signout_button = QPushButton("Sign out")
        self.pin_button = QPushButton("Change PIN")
        for button, handler in (
            (self.pin_button, self._open_pin_change),
            (self.break_button, self.take_break),
            (self.close_button, self.close_counter),
            (self.signout_button, self.sign_out),
        ):
            button.clicked.connect(handler)
            top.addWidget(button)
        layout.addLayout(top)
        self.alerts = QListWidget()
        self.alerts.setMaximumHeight(90)
        layout.addWidget(self.alerts)
        self.tabs = QTabWidget()
        self.counter_panel = CounterPanel(self.config)
        self.counter_panel.action.connect(self.act)
        self.lines_panel = LineControlPanel(self.config)
        self.lines_panel.action.connect(self.act_on_line)
        self.dashboard = DashboardPanel(self.config)
        self.tabs.addTab(self.counter_panel, "Counter")
        self.tabs.addTab(self.lines_panel, "Lines")
        self.tabs.addTab(self.dashboard, "Today")
        self.bookings = BookingsPanel(self.config)
        self.bookings.chosen.connect(self._load_bookings)
        self.bookings.book.connect(self.book_for_resident)
        if self.config.booking.lines:
            self.tabs.addTab(self.bookings, "Bookings")
        self.devices = DevicesPanel()
        if self.device_status is not None:
            self.tabs.addTab(self.devices, "Devices")
        self.devices_timer = QTimer(self, interval=REFRESH_MS)
        self.devices_timer.timeout.connect(self._ask_devices)
        self.devices_timer.start()
        self.tabs.currentChanged.connect(lambda _: self._render_dashboard(force=True))
        self.tabs.currentChanged.connect(lambda _: self._ask_devices())
        self.tabs.currentChanged.connect(lambda _: self._load_bookings())
        layout.addWidget(self.tabs, 1)
        return console

    def _shortcuts(self) -> None:
        for name, (_text, key) in ACTIONS.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda a=name: self._shortcut(a))

    def _shortcut(self, name: str) -> None:
        if self.staff is not None and self.counter_panel.buttons[name].isEnabled():
            self.counter_panel.trigger(name)

    # -- signing in and out ------------------------------------------------------------

    def sign_in(self, staff_id: str, pin: str, counter: str) -> None:
        """Check the PIN (at the hub while it answers: off the UI thread), then open."""
        self.signin.sign_in.setEnabled(False)

        def refused(error: Exception) -> None:
            self.signin.sign_in.setEnabled(True)
            if not isinstance(error, SignInRefused):
                log.error("sign-in failed", exc_info=error)
            self.signin.refuse(str(error) if isinstance(error, NowservingError) else "")

        def signed_in(staff: Staff) -> None:
            self.signin.sign_in.setEnabled(True)
            self._signed_in(staff, counter)

        run_in_background(lambda: self.service.sign_in(staff_id, pin), signed_in, refused)

    def _signed_in(self, staff: Staff, counter: str) -> None:
        staff_id = staff.id
        self.staff = staff
        self.counter_id = counter
        self.signin.refuse("")
        self.tabs.setTabVisible(1, self.staff.line_control)
        self.dashboard.allow_staff_figures(self.staff.line_control)
        service = self.service

        def open_counter() -> Any:
            service.record_sign_in(staff_id, counter)  # first: the hub checks actions by it
            return service.open_counter(counter, staff=staff_id)

        self._run("open_counter", open_counter)
        self.stack.setCurrentIndex(1)
        self.tabs.setCurrentWidget(self.counter_panel)
        self.render_view()
        self.counter_panel.buttons["call_next"].setFocus()  # what a clerk does first

    def sign_out(self) -> None:
        self._record_sign_out(close=False)
        self.staff = None
        self.stack.setCurrentIndex(0)

    def take_break(self) -> None:
        self._record_sign_out(close=True)
        self.staff = None
        self.stack.setCurrentIndex(0)

    def _record_sign_out(self, *, close: bool) -> None:
        staff, counter, service = self._staff_id(), self.counter_id, self.service
        if staff is None:
            return

        def sign_out() -> Any:
            result = service.close_counter(counter, staff=staff) if close else None
            service.record_sign_in(staff, counter, signed_in=False)  # last: after the close
            service.sign_out(staff)  # and the session at the hub ends
            return result

        self._run("close_counter" if close else "sign_out", sign_out)

    def _open_pin_change(self) -> None:
        self.pin_change.open()
        self.stack.setCurrentWidget(self.pin_change)

    def change_pin(self, pin: str, new_pin: str, again: str) -> None:
        """The signed-in clerk's own PIN (checked here by the domain's rules, then at the hub
        off the UI thread); back at the counter once it is changed."""
        staff, service = self._staff_id(), self.service
        if staff is None:
            return
        try:
            check_new_pin(new_pin, again)
        except WeakPin as weak:
            self.pin_change.refuse(str(weak))
            return
        self.pin_change.change.setEnabled(False)

        def changed(_: object) -> None:
            self.stack.setCurrentIndex(1)
            self.status.setText("Your PIN is changed: use the new one from now on.")
            self.done.emit("change_pin", None)

        def refused(error: Exception) -> None:
            if not isinstance(error, NowservingError | WeakPin):
                log.error("changing a PIN failed", exc_info=error)
            self.pin_change.refuse(
                str(error) if isinstance(error, NowservingError | WeakPin) else "That did not work."
            )

        run_in_background(lambda: service.change_pin(staff, pin, new_pin), changed, refused)

    def close_counter(self) -> None:
        self._run(
            "close_counter",
            lambda: self.service.close_counter(self.counter_id, staff=self._staff_id()),
        )

    def _staff_id(self) -> str | None:
        return self.staff.id if self.staff else None

    # -- actions -------------------------------------------------------------------------

    def act(self, name: str, ticket: str, extra: dict[str, Any]) -> None:
        """One counter action, run off the UI thread."""
        staff, counter, service = self._staff_id(), self.counter_id, self.service
        if name != "call_next" and not ticket:
            self.status.setText(
                "Select a resident first." if name == "call_ticket" else "Nobody to do that for."
            )
            return
        if name == "transfer" and not extra.get("confirmed"):
            self._ask_transfer(ticket, extra)
            return
        work: dict[str, Callable[[], Any]] = {
            "call_next": lambda: service.call_next(counter, staff=staff),
            "recall": lambda: service.recall(ticket, staff=staff),
            "complete": lambda: service.complete(ticket, staff=staff),
            "no_show": lambda: service.no_show(ticket, staff=staff),
            "return": lambda: service.return_no_show(ticket, staff=staff),
            "transfer": lambda: service.transfer(
                ticket, extra["to_line"], keep_place=extra["keep_place"], staff=staff
            ),
            "call_ticket": lambda: service.call_ticket(
                counter, ticket, reason=extra["reason"], staff=staff
            ),
        }
        self._run(name, work[name])

    def _ask_transfer(self, ticket: str, extra: dict[str, Any]) -> None:
        """Name the resident and the line, warn when nobody would call them, then transfer."""
        current = self.counter_panel.current
        label = current.label if current is not None and current.id == ticket else ticket
        line = self.config.text(self.config.line(extra["to_line"]).name, "en")
        try:
            concern = transfer_concern(self.service.board(), extra["to_line"])
        except NowservingError as exc:
            concern = f"Whether a counter serves that line is not known ({exc})."
        box = QMessageBox(
            QMessageBox.Icon.Warning if concern else QMessageBox.Icon.Question,
            "Transfer",
            f"Transfer {label} to {line}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            concern
            or ("They keep their place in line." if extra["keep_place"] else "They join the end.")
        )
        # A warning needs a deliberate choice: Enter alone cancels.
        box.setDefaultButton(
            QMessageBox.StandardButton.Cancel if concern else QMessageBox.StandardButton.Yes
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: QAbstractButton) -> None:
            self.transfer_box = None
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self.act("transfer", ticket, {**extra, "confirmed": True})

        box.buttonClicked.connect(answered)
        self.transfer_box = box
        box.open()

    def act_on_line(self, name: str, line: str, extra: dict[str, Any]) -> None:
        staff, service = self._staff_id(), self.service
        if self.staff is None or not self.staff.line_control:
            self.status.setText("Only staff allowed to control lines can do that.")
            return
        work: dict[str, Callable[[], Any]] = {
            "pause_line": lambda: service.pause_line(line, extra.get("reason", ""), staff=staff),
            "resume_line": lambda: service.resume_line(line, staff=staff),
            "reroute_line": lambda: service.reroute_line(line, extra["to_line"], staff=staff),
            "end_reroute": lambda: service.end_reroute(line, staff=staff),
            "set_announcement": lambda: service.set_announcement(extra["texts"], staff=staff),
        }
        self._run(name, work[name])

    def book_for_resident(self, line: str, start: int, contact: str) -> None:
        """Book a slot for a resident on the phone, as the clerk signed in here."""
        staff, service = self._staff_id(), self.service
        if staff is None:
            return
        self._run("staff_book", lambda: service.staff_book(line, start, contact, staff=staff))

    def _load_bookings(self) -> None:
        """While the Bookings tab is open: the chosen day's bookings and free slots, asked
        off the UI thread (on a paired PC they are at the hub). Answers can arrive out of
        order; only the one for what is chosen now is shown."""
        if self.staff is None or self.tabs.currentWidget() is not self.bookings:
            return
        staff, service = self.staff.id, self.service
        line, day = self.bookings.choice()

        def ask() -> Any:
            return service.list_appointments(day, line, staff=staff), service.slots(line, day)

        def failed(error: Exception) -> None:
            if not isinstance(error, NowservingError):
                log.error("listing bookings failed", exc_info=error)
            self.bookings.show_trouble(f"The bookings cannot be shown: {error}")

        def answered(found: Any) -> None:
            if self.bookings.choice() == (line, day):  # not an answer for an earlier choice
                self.bookings.render_view(*found)

        run_in_background(ask, answered, failed)

    def _run(self, name: str, work: Callable[[], Any]) -> None:
        def succeeded(result: Any) -> None:
            self._succeeded(name, result)

        run_in_background(work, succeeded, lambda error: self._failed(name, error))

    def _succeeded(self, name: str, result: Any) -> None:
        if name == "call_next" and result is None:
            self.status.setText("Nobody is waiting for this counter.")
        elif name == "no_show" and result is not None:
            self.counter_panel.no_shows.append(result)
            self.status.setText(f"{result.label} marked no-show. Back in line (F7) if they come.")
        elif name == "return" and result is not None:
            self.counter_panel.no_shows = [
                t for t in self.counter_panel.no_shows if t.id != result.id
            ]
            self.status.setText(f"{result.label} is back in line at their place.")
        elif name in ("open_counter", "close_counter"):
            closed = name == "close_counter"
            self.status.setText(
                ("Counter closed." if closed else "Counter open.")
                if self.staff
                else "On a break: the counter is closed; sign in again to reopen it."
            )
        elif name == "sign_out":
            self.status.setText("Signed out. The counter stays open for the next clerk.")
        elif name == "staff_book":
            self.bookings.contact.clear()
            when = i18n.clock_time(result.start, self.config.zone)
            self.status.setText(f"Booked {when}: the resident's code is {result.code}.")
            self._load_bookings()
        elif name == "call_ticket":
            self.counter_panel.reason.clear()
            self.status.setText(f"Called {result.label} out of order.")
        else:
            label = getattr(result, "label", "")
            self.status.setText(f"{name.replace('_', ' ').capitalize()}: {label}".rstrip(": "))
        self.render_view()
        self.done.emit(name, result)

    def _failed(self, name: str, error: Exception) -> None:
        if isinstance(error, NowservingError):
            self.status.setText(str(error))
        else:
            log.error("%s failed", name, exc_info=error)
            self.status.setText(f"That did not work ({error}). Nothing was changed.")
        self.render_view()

    # -- rendering -----------------------------------------------------------------------

    def render_view(self) -> None:
        if self.staff is None:
            return
        try:
            board = self.service.board()
            counter = self.service.counter(self.counter_id)
            queue = self.service.queue(self.counter_id)
        except NowservingError as exc:
            self._trouble(str(exc))
            return
        name = counter.name + (" (open)" if counter.open else " (closed)")
        self.who.setText(f"{self.staff.name} at {name}")
        self.counter_panel.render_view(counter, queue, wall_ms())
        self.lines_panel.render_view(board)
        self.alerts.clear()
        for alert in board.alerts:
            self.alerts.addItem(f"{alert.device}: {alert.message}")
        for conflict in self.service.conflicts_lost(recent=5):
            self.alerts.addItem(f"Your action did not count: {conflict.reason}")
        self.alerts.setVisible(self.alerts.count() > 0)
        self.devices.show_alerts(board.alerts)
        self._show_sync()
        self._render_dashboard()

    def _render_dashboard(self, force: bool = False) -> None:
        if self.staff is not None and self.tabs.currentWidget() is self.dashboard:
            self.dashboard.render_view(self.service, staff=self.staff.id, force=force)

    def _ask_devices(self) -> None:
        """While the Devices tab is open: ask the hub how each device is, off the UI thread."""
        if (
            self.device_status is None
            or self._asking
            or self.tabs.currentWidget() is not self.devices
        ):
            return
        self._asking = True

        def answered(rows: list[DeviceStatus]) -> None:
            self._asking = False
            self.devices.show_status(rows)

        def failed(error: Exception) -> None:
            self._asking = False
            self.devices.show_trouble(str(error))

        run_in_background(self.device_status, answered, failed)

    def _show_sync(self) -> None:
        """On a PC other than the hub's: say plainly when working cut off, and what that means."""
        link = self.service.hub_link()
        if link is None:
            return
        if link.online:
            self.banner.hide()
            return
        waiting = link.unsent
        self.banner.setText(
            "Working offline: your calls reach the other counters when the connection is back. "
            f"You can go on calling and serving ({waiting} action(s) saved on this PC). Until "
            "then another desk may call the same resident: if so, the earlier call counts and "
            "you will see it here."
        )
        self.banner.show()

    def _removed(self) -> None:
        """Revoked at the hub: say so at once; nobody can sign in or act here any more."""
        self.staff = None
        self.stack.setCurrentWidget(self.signin)
        self.signin.sign_in.setEnabled(False)
        self.signin.refuse(REMOVED)
        self.sync_timer.stop()  # its "working offline" would hide why
        self.banner.setText(REMOVED)
        self.banner.show()

    def _trouble(self, message: str) -> None:
        if message == REMOVED:
            return  # said by `_removed`, not as a store that cannot be reached
        if message:
            self.banner.setText(
                f"The office store cannot be reached: {message} Nothing can be changed until "
                "it is back; what you already did is saved."
            )
        self.banner.setVisible(bool(message))
