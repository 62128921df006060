"""The one service interface every app uses; the apps never see a concrete class.

`LocalService` (local.py) serves an office from the store on this machine, and
`ReplicaService` (sync/replica.py) from a replica that syncs with the hub: both are a
`Service`. A lobby display on another PC follows the hub's board stream instead, which
is only a `BoardSource`; the screens' watcher needs nothing but `Refreshable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from nowserving.domain.booking import Appointment, Slot
from nowserving.domain.config import OfficeConfig, Staff
from nowserving.domain.errors import NotFound
from nowserving.domain.state import Conflict
from nowserving.domain.views import BoardView, CounterView, LineView, TicketView

# A report's tables: name ("lines", "hours", ...) -> rows.
Tables = dict[str, list[dict[str, Any]]]


class Expired(NotFound):
    """A ticket of an earlier day: its page shows nothing but that."""


@dataclass(frozen=True)
class HubLink:
    """How a PC other than the hub's stands with the hub, for its screens to say so.

    Args:
        online: the hub answers (else this PC decides, and its screens say so).
        unsent: actions saved on this PC that have not reached the hub yet.
    """

    online: bool
    unsent: int


@dataclass(frozen=True)
class DayFigures:
    """Today's report for a dashboard: its tables, and the volume chart as PNG (b"" if none)."""

    tables: Tables
    chart_png: bytes


@dataclass(frozen=True)
class FailedDelivery:
    """A message to a resident that could not be delivered today.

    Args:
        ticket: the ticket's id; label: its number as shown ("A-012"; "" once gone).
        channel: "sms", "email" or "push"; shown: the contact, masked ("•••• 0147").
        error: why (the gateway's or server's answer, without addresses).
    """

    ticket: str
    label: str
    channel: str
    shown: str
    error: str


class Refreshable(Protocol):
    """What a screen's watcher polls."""

    def refresh(self) -> bool:
        """Catch up with changes made by others; True if anything changed since last time."""
        ...


class BoardSource(Refreshable, Protocol):
    """Where a display reads the board: a `Service`, or the hub's board stream."""

    config: OfficeConfig  # the office now: it may change at the hub (see `refresh`)

    def board(self) -> BoardView: ...


class Service(BoardSource, Protocol):
    """What the kiosk, display, desk and hub may ask of an office."""

    def sign_in(self, staff: str, pin: str) -> Staff: ...
    def check_staff_pin(self, pin: str) -> Staff: ...
    def sign_out(self, staff: str) -> None: ...
    def change_pin(self, staff: str, pin: str, new_pin: str) -> None: ...
    def issue(
        self, line: str, *, priority: bool = False, lang: str = "", source: str = "kiosk"
    ) -> TicketView: ...
    def call_next(self, counter: str, *, staff: str | None = None) -> TicketView | None: ...
    def call_ticket(
        self, counter: str, ticket: str, *, reason: str, staff: str | None = None
    ) -> TicketView: ...
    def recall(self, ticket: str, *, staff: str | None = None) -> TicketView: ...
    def complete(self, ticket: str, *, staff: str | None = None) -> TicketView: ...
    def no_show(self, ticket: str, *, staff: str | None = None) -> TicketView: ...
    def return_no_show(self, ticket: str, *, staff: str | None = None) -> TicketView: ...
    def transfer(
        self, ticket: str, to_line: str, *, keep_place: bool = True, staff: str | None = None
    ) -> TicketView: ...
    def cancel(self, token: str) -> TicketView: ...
    def check_in(
        self, code: str = "", *, token: str = "", source: str = "kiosk"
    ) -> tuple[TicketView, bool]:
        """Check a booking in by its code or its link's token: its ticket (with token) and
        whether it came late (then a walk-in ticket). Only at the hub: HubUnavailable while
        it is away."""
        ...

    def subscribe_issued(self, token: str, phone: str) -> str:
        """A kiosk leaves a resident's phone number for the ticket it just issued; the number
        as staff see it ("•••• 0147"). Only at the hub: HubUnavailable while it is away."""
        ...

    def pause_line(
        self, line: str, reason: str | Mapping[str, str], *, staff: str | None = None
    ) -> LineView:
        """`reason`: a [[pause_reasons]] id, free text in the first language, or per language."""

    def resume_line(self, line: str, *, staff: str | None = None) -> LineView: ...
    def reroute_line(self, line: str, to_line: str, *, staff: str | None = None) -> LineView: ...
    def end_reroute(self, line: str, *, staff: str | None = None) -> LineView: ...
    def open_counter(self, counter: str, *, staff: str | None = None) -> CounterView: ...
    def close_counter(self, counter: str, *, staff: str | None = None) -> CounterView: ...
    def set_announcement(self, texts: dict[str, str], *, staff: str | None = None) -> None: ...
    def report_alert(self, alert: str, message: str, *, device: str | None = None) -> None: ...
    def end_day(self, *, staff: str | None = None) -> None: ...
    def record_sign_in(
        self, staff: str, counter: str | None, *, signed_in: bool = True, desk: str | None = None
    ) -> None: ...
    def lines(self) -> list[LineView]: ...
    def counter(self, counter: str) -> CounterView: ...
    def queue(self, counter: str) -> list[TicketView]: ...
    def queue_for_line(self, line: str) -> list[TicketView]: ...
    def ticket(self, ticket: str) -> TicketView: ...
    def ticket_status(self, token: str) -> TicketView: ...
    def token_for_code(self, code: str) -> str: ...

    # -- appointments (kept at the hub only) -------------------------------------------

    def slots(self, line: str, day: date) -> list[Slot]:
        """A line's slots on an office-local date still to come, with their free places."""
        ...

    def list_appointments(
        self, day: date, line: str | None = None, *, staff: str | None = None
    ) -> list[Appointment]:
        """A day's bookings, by slot (on a paired PC, contacts come masked)."""
        ...

    def staff_book(
        self, line: str, start: int, contact: str = "", *, lang: str = "", staff: str
    ) -> Appointment:
        """Book a slot for a resident on the phone (contact optional), as `staff`."""
        ...

    # -- what the staff screens show besides the board ---------------------------------

    def conflicts_lost(self, recent: int = 5) -> list[Conflict]:
        """This device's actions that did not count, among the day's `recent` last conflicts."""
        ...

    def hub_link(self) -> HubLink | None:
        """How this PC stands with the hub; None where it uses the hub's own store."""
        ...

    def day_figures(self) -> DayFigures:
        """Today's report (what the office manager's dashboard shows)."""
        ...

    def failed_deliveries(self, *, staff: str | None = None) -> list[FailedDelivery]:
        """Today's messages to residents that could not be delivered (the hub's outbox;
        a desk on another PC asks the hub, as `staff`)."""
        ...

    def store_path(self) -> str:
        """Where the office's events are kept on this PC (for the maintenance screen)."""
        ...
