"""Receipt printing on its own thread: the kiosk never waits for a printer.

The ticket is stored before it is queued here (write before print). A printer
that is unplugged, out of paper, jammed or open is reported (to the screen and
to staff) and retried; once it is back, printing resumes by itself. A receipt
that could not print within `max_age` seconds is dropped rather than printed
for the wrong resident later: that resident has the ticket on screen.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from escpos import printer as escpos_printers
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError

from kiosk.receipt import Receipt
from nowserving.domain.config import Printer as PrinterConfig

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"


class PrinterState(StrEnum):
    READY = "ready"
    PAPER_LOW = "paper_low"
    UNKNOWN = "unknown"  # the printer takes jobs but does not answer status queries
    NOT_CONFIGURED = "not_configured"
    NO_PERMISSION = "no_permission"
    UNREACHABLE = "unreachable"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    FAULT = "fault"  # paper jam or cutter error

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.READY, PrinterState.PAPER_LOW, PrinterState.UNKNOWN)

    @property
    def needs_staff(self) -> bool:
        return self not in (PrinterState.READY, PrinterState.UNKNOWN, PrinterState.NOT_CONFIGURED)


MESSAGES = {
    PrinterState.READY: "",
    PrinterState.UNKNOWN: "",
    PrinterState.NOT_CONFIGURED: "No receipt printer is configured.",
    PrinterState.PAPER_LOW: "Receipt paper is running low.",
    PrinterState.UNREACHABLE: "The receipt printer does not answer (unplugged or off?).",
    PrinterState.NO_PERMISSION: "No permission to use the receipt printer: install the udev "
    "rule from packaging/udev and add the kiosk user to the lp group (docs/deploy.md).",
    PrinterState.PAPER_OUT: "The receipt printer is out of paper.",
    PrinterState.COVER_OPEN: "The receipt printer's cover is open.",
    PrinterState.FAULT: "The receipt printer reports a jam or cutter error.",
}


def read_state(printer: Escpos) -> PrinterState:
    """Ask the printer (DLE EOT 2 and 4); no answer is UNKNOWN, never "fine"."""
    offline = _query(printer, 2)
    paper = _query(printer, 4)
    if offline is None and paper is None:
        return PrinterState.UNKNOWN
    if offline is not None:
        if offline & 0x04:
            return PrinterState.COVER_OPEN
        if offline & 0x20:
            return PrinterState.PAPER_OUT
        if offline & 0x40:
            return PrinterState.FAULT
    if paper is not None:
        if paper & 0x60:
            return PrinterState.PAPER_OUT
        if paper & 0x0C:
            return PrinterState.PAPER_LOW
    return PrinterState.READY


def _query(printer: Escpos, kind: int) -> int | None:
    try:
        reply = printer.query_status(DLE_EOT + bytes([kind]))
    except (NotImplementedError, OSError, EscposError, AttributeError):
        return None
    return reply[0] if reply else None


def connection_problem(exc: BaseException) -> PrinterState:
    """Why the printer could not be opened: no permission (fixable by IT), or not there."""
    text = str(exc).lower()
    denied = isinstance(exc, PermissionError) or getattr(exc, "errno", None) == 13
    if denied or "access denied" in text or "permission denied" in text:
        return PrinterState.NO_PERMISSION
    return PrinterState.UNREACHABLE


def connector(config: PrinterConfig) -> Callable[[], Escpos] | None:
    """How to open the configured printer, or None when there is none."""
    profile = config.profile
    match config.kind:
        case "none":
            return None
        case "network":
            return lambda: _opened(
                escpos_printers.Network(config.host, config.port, timeout=3, profile=profile)
            )
        case "usb":
            return lambda: escpos_printers.Usb(
                config.usb_vendor, config.usb_product, profile=profile, timeout=3000
            )
        case "serial":
            return lambda: escpos_printers.Serial(
                config.serial_port, baudrate=config.baudrate, timeout=2, profile=profile
            )
        case "cups":
            return lambda: escpos_printers.CupsPrinter(config.cups_name, profile=profile)
        case _:
            return lambda: escpos_printers.File(config.path, profile=profile)


def _opened(printer: Escpos) -> Escpos:
    printer.open()
    device = getattr(printer, "device", None)
    if isinstance(device, socket.socket):
        device.settimeout(1.0)  # a status query that gets no answer must not stall a ticket
    return printer


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    message: str


class PrintQueue:
    """A thread that prints receipts, watches the printer and reports its state.

    Args:
        connect: opens the printer (None: no printer configured).
        write: sends one receipt to an open printer.
        on_status: called (from this thread) whenever the printer's state changes.
        max_age: seconds after which an unprinted receipt is dropped.
        retry_every: seconds between attempts while the printer is in trouble.
        probe_every: seconds between status checks while idle.
    """

    def __init__(
        self,
        connect: Callable[[], Escpos] | None,
        write: Callable[[Escpos, Receipt], None],
        on_status: Callable[[PrinterStatus], None],
        *,
        max_age: float = 90.0,
        retry_every: float = 3.0,
        probe_every: float = 30.0,
    ) -> None:
        self._connect = connect
        self._write = write
        self._on_status = on_status
        self.max_age = max_age
        self.retry_every = retry_every
        self.probe_every = probe_every
        self._jobs: queue.Queue[Receipt | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="receipt-printer", daemon=True)
        self._state: PrinterState | None = None
        self._stopping = threading.Event()
        self.printed = 0
        self.dropped = 0

    @property
    def state(self) -> PrinterState:
        return self._state or PrinterState.UNKNOWN

    def start(self) -> None:
        if self._connect is None:
            self._report(PrinterState.NOT_CONFIGURED)
            return
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._jobs.put(None)  # wakes a thread waiting for work
            self._thread.join(timeout=5)

    def submit(self, receipt: Receipt) -> bool:
        """Queue a receipt; False when there is no printer to print it."""
        if self._connect is None:
            return False
        self._jobs.put(receipt)
        return True

    def _run(self) -> None:
        self._probe()
        pending: Receipt | None = None
        while not self._stopping.is_set():
            wait = self.retry_every if pending or self.state.needs_staff else self.probe_every
            if pending is None:
                try:
                    pending = self._jobs.get(timeout=wait)
                except queue.Empty:
                    self._probe()
                    continue
                if pending is None:
                    return
            if time.monotonic() - pending.created > self.max_age:
                log.warning(
                    "dropped the receipt of %s: the printer stayed unavailable", pending.label
                )
                self.dropped += 1
                pending = None
                continue
            if self._print(pending):
                pending = None
            elif self._stopping.wait(self.retry_every):
                return

    def _print(self, receipt: Receipt) -> bool:
        assert self._connect is not None
        try:
            printer = self._connect()
        except (OSError, EscposError) as exc:
            log.info("printer unreachable: %s", exc)
            self._report(connection_problem(exc))
            return False
        try:
            state = read_state(printer)
            if not state.can_print:
                self._report(state)
                return False
            self._write(printer, receipt)
            self.printed += 1
            self._report(state)
            return True
        except (OSError, EscposError) as exc:
            log.warning("printing %s failed: %s", receipt.label, exc)
            self._report(PrinterState.UNREACHABLE)
            return False
        finally:
            _close(printer)

    def _probe(self) -> None:
        assert self._connect is not None
        try:
            printer = self._connect()
        except (OSError, EscposError) as exc:
            self._report(connection_problem(exc))
            return
        try:
            self._report(read_state(printer))
        finally:
            _close(printer)

    def _report(self, state: PrinterState) -> None:
        if state != self._state:
            self._state = state
            self._on_status(PrinterStatus(state, MESSAGES[state]))


def _close(printer: Escpos) -> None:
    try:
        printer.close()
    except (OSError, EscposError) as exc:
        log.debug("closing the printer: %s", exc)
