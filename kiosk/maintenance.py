"""Staff only: a PIN pad behind a hidden corner, then printer and device status, and exit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout

from kiosk.screens.base import KioskScreen
from nowserving.domain.config import Staff
from nowserving.domain.signin import SignInRefused
from nowserving_qt.background import run_in_background
from nowserving_qt.widgets import button, label

log = logging.getLogger(__name__)

TAPS_TO_OPEN = 5
TAP_WINDOW_S = 4.0


class CornerTaps:
    """Counts taps on the hidden corner: five within four seconds opens the PIN pad."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._taps: list[float] = []

    def tap(self) -> bool:
        moment = self._now()
        self._taps = [t for t in self._taps if moment - t < TAP_WINDOW_S] + [moment]
        if len(self._taps) >= TAPS_TO_OPEN:
            self._taps.clear()
            return True
        return False


class PinScreen(KioskScreen):
    """An on-screen number pad (the kiosk has no keyboard).

    Signals:
        accepted: a staff member's id.
        cancelled: back to the kiosk.
    """

    accepted = Signal(str)
    cancelled = Signal()

    def __init__(self, check: Callable[[str], Staff]) -> None:
        super().__init__()
        self._check_pin = check  # the service's: at the hub on a paired kiosk
        self._pin = ""
        self._checking = 0  # which check is the latest; cancelling forgets the others
        layout = QVBoxLayout(self)
        layout.addWidget(label("Staff PIN", "title"))
        self.dots = label("", "huge")
        self.message = label("", "warning")
        layout.addWidget(self.dots)
        layout.addWidget(self.message)
        grid = QGridLayout()
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "Clear", "0", "OK"]
        self.keys = {}
        for n, key in enumerate(keys):
            pad = button(key, "primary" if key == "OK" else "")
            pad.clicked.connect(lambda _=False, k=key: self.press(k))
            self.keys[key] = pad
            grid.addWidget(pad, n // 3, n % 3)
        layout.addLayout(grid)
        cancel = button("Cancel")
        cancel.clicked.connect(self._cancel)
        layout.addWidget(cancel)

    def press(self, key: str) -> None:
        if key == "Clear":
            self._pin = ""
        elif key == "OK":
            self._check()
        elif len(self._pin) < 12:
            self._pin += key
        self.dots.setText("●" * len(self._pin))

    def _check(self) -> None:
        # Off the UI thread: on a paired kiosk the hub tries the PIN against every staff
        # member's hash, which can take it seconds; the screen stays alive meanwhile.
        pin, self._pin, check = self._pin, "", self._check_pin
        self.dots.setText("")
        self.message.setText("Checking…")
        self._enable_keys(False)
        self._checking += 1
        asked = self._checking

        def checked(person: Staff) -> None:
            if asked == self._checking:  # not cancelled meanwhile
                self._enable_keys(True)
                self.message.setText("")
                self.accepted.emit(person.id)

        def refused(error: Exception) -> None:
            if asked == self._checking:
                self._refused(error)

        run_in_background(lambda: check(pin), checked, refused)

    def _refused(self, error: Exception) -> None:
        self._enable_keys(True)
        if isinstance(error, SignInRefused):
            self.message.setText(str(error))
        else:
            log.error("checking a staff PIN failed", exc_info=error)
            self.message.setText("The PIN could not be checked. Try again.")

    def _enable_keys(self, enabled: bool) -> None:
        for key in self.keys.values():
            key.setEnabled(enabled)

    def _cancel(self) -> None:
        self._checking += 1
        self._enable_keys(True)
        self._pin = ""
        self.dots.setText("")
        self.message.setText("")
        self.cancelled.emit()


class MaintenanceScreen(KioskScreen):
    """Printer test, paper status, device and store status, last errors, exit.

    Signals:
        test_print: print a test receipt.
        resume: back to the kiosk.
        quit_kiosk: close the kiosk app.
    """

    test_print = Signal()
    resume = Signal()
    quit_kiosk = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addWidget(label("Kiosk maintenance", "title"))
        self.details = QLabel()
        self.details.setWordWrap(True)
        layout.addWidget(self.details, 1)
        row = QHBoxLayout()
        for text, signal in (
            ("Print a test receipt", self.test_print),
            ("Back to the kiosk", self.resume),
            ("Exit the kiosk", self.quit_kiosk),
        ):
            action = button(text, "primary" if signal is self.resume else "")
            action.clicked.connect(signal.emit)
            row.addWidget(action)
        layout.addLayout(row)

    def render_view(self, facts: dict[str, str], errors: list[str]) -> None:
        lines = [f"<b>{name}</b>: {value}" for name, value in facts.items()]
        lines.append("<b>Last errors</b>:" + ("<br>".join(["", *errors[-8:]]) or " none"))
        self.details.setText("<br>".join(lines))
