"""The service on a PC other than the hub's: a local replica that keeps working offline.

Reads come from the replica (always there, always fast). While the hub answers,
it decides: a kiosk issues and a desk acts through the hub's API, each request
with its own id, so numbers stay in sequence and two desks never call the same
resident. When the hub is out of reach, the device decides from its replica (a
kiosk from its leased numbers) and its events reach the hub when the line is
back; if two desks acted on the same ticket while cut off, the earliest (by
clock) wins on every node, and the other desk sees that its action did not count.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter

from nowserving.domain.booking import Appointment, Slot
from nowserving.domain.clock import wall_ms
from nowserving.domain.config import Device, OfficeConfig, Staff
from nowserving.domain.errors import (
    DeviceRemoved,
    HubUnavailable,
    NowservingError,
    Rejected,
    StoreError,
)
from nowserving.domain.pairing import REMOVED
from nowserving.domain.security import check_new_pin
from nowserving.domain.signin import SignInRefused
from nowserving.domain.views import CounterView, LineView, TicketView
from nowserving.service.interface import FailedDelivery, HubLink, Service
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.sync.backoff import Backoff
from nowserving.sync.client import HubClient, HubRefused, SyncClient
from nowserving.sync.pairing import OfficeFile
from nowserving.sync.tls import verify_for

T = TypeVar("T")
_TICKET = TypeAdapter(TicketView)
_COUNTER = TypeAdapter(CounterView)
_LINE = TypeAdapter(LineView)
ACTION_TIMEOUT_S = (1.0, 1.5)  # connect, read: a hub slower than this counts as away
PIN_CHECK_TIMEOUT_S = (1.0, 8.0)  # a staff menu's PIN: see check_staff_pin
RETRY_HUB_S = 3.0  # after the hub did not answer an action, decide here this long
ISSUE_RETRY_S = 2.0  # a kiosk retries an unanswered issue (same id) this long
ISSUE_RETRY_WAIT_S = (0.1, 0.5)  # first, longest wait between those tries
log = logging.getLogger(__name__)


def writer_id(store: EventStore, device: Device) -> str:
    """This replica's own writer id: the device id plus a suffix fixed per replica file.

    A replica rebuilt from scratch gets a new suffix, so its sequence numbers can
    never collide with those its lost predecessor already gave the hub.
    """
    writer = store.get_state("writer")
    if not writer:
        writer = f"{device.id}~{secrets.token_hex(3)}"
        store.set_state("writer", writer)
    return writer


def open_replica(path: Path) -> EventStore:
    """The replica at `path`; a damaged one is moved aside (kept) and rebuilt from the hub."""
    try:
        return EventStore(path)
    except StoreError as exc:
        if "newer Nowserving" in str(exc) or not path.exists():
            raise
        aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        path.rename(aside)
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        log.error(
            "replica %s was damaged (%s); kept as %s, rebuilding from the hub", path, exc, aside
        )
        return EventStore(path)


class NoNumbersLeft(Rejected):
    """Cut off from the hub, with this line's leased numbers used up."""


class ReplicaService(LocalService):
    """A LocalService over this PC's replica, kept in step with the hub.

    Online, the hub decides: every issue and staff action is one request to the
    hub's API (with a fresh request id, so a retry never acts twice), the answer
    is shown at once and the replica pulls the events it caused. A hub that does
    not answer within about a second counts as away: then this PC decides from
    its replica, as before, and tries the hub again a few seconds later.
    """

    def __init__(
        self,
        store: EventStore,
        config: OfficeConfig,
        device: Device,
        hub_url: str,
        *,
        interval: float = 0.2,
        start: bool = True,
        now: Callable[[], int] = wall_ms,
        office: OfficeFile | None = None,
    ) -> None:
        super().__init__(store, config, writer_id(store, device), now=now)
        self.device = device
        verify = verify_for(config)
        self.hub = HubClient(hub_url, device.secret, verify=verify)
        # Actions wait at most about a second for the hub; sync may take longer.
        self.actions = HubClient(hub_url, device.secret, timeout=ACTION_TIMEOUT_S, verify=verify)
        self.sync = SyncClient(
            store, self.hub, device, config, self.clock.device, interval, now=now, office=office
        )
        self._sessions: dict[str, str] = {}  # staff id -> the hub's session token
        # While someone is signed in here, their PIN stays in this process's memory only,
        # to renew a session the hub lost (it restarted) or never gave (signed in offline).
        self._pins: dict[str, str] = {}
        self._retry_hub_at = 0.0  # monotonic: while the hub is away, do not wait for it
        if start:
            self.sync.start()

    def close(self) -> None:
        self.sync.stop()

    def refresh(self) -> bool:
        """As a LocalService's, and take up an office changed at the hub (the sync thread
        fetched it); DeviceRemoved once the hub says this device was revoked."""
        sync: SyncClient | None = getattr(self, "sync", None)  # None: still being built
        if sync is None:
            return super().refresh()
        office = sync.config
        renewed = office is not self.config
        if renewed:
            with self._lock:
                self.use_office(office)
        changed = super().refresh()
        if sync.status.revoked:
            raise DeviceRemoved(REMOVED)
        return changed or renewed

    def _refuse_if_removed(self) -> None:
        """A revoked device decides nothing, not even from its replica."""
        if self.sync.status.revoked:
            raise Rejected(REMOVED)

    @property
    def online(self) -> bool:
        """Whether the hub is in touch (else this PC decides, and its screen says so)."""
        return self.sync.status.online and not self._hub_away()

    def hub_link(self) -> HubLink:
        """Whether the hub is in touch, and how many actions wait here to reach it."""
        return HubLink(self.online, self.sync.status.outbox)

    def _hub_away(self) -> bool:
        """The hub did not answer an action a moment ago: decide here without waiting."""
        return time.monotonic() < self._retry_hub_at

    def _away(self, problem: str) -> None:
        self._retry_hub_at = time.monotonic() + RETRY_HUB_S
        self.sync.status.online, self.sync.status.problem = False, problem
        self.sync.now()

    def _write(self, decide: Any) -> Any:
        events = super()._write(decide)
        self.sync.now()  # push it at once
        return events

    # -- staff -------------------------------------------------------------------------

    def sign_in(self, staff: str, pin: str) -> Staff:
        """The PIN is checked at the hub while it answers, else against this PC's config."""
        if not self._hub_away():
            try:
                answer = self.actions.call(
                    "POST", "/api/staff/login", json={"staff": staff, "pin": pin}
                )
            except HubUnavailable as exc:
                self._away(str(exc))
            except HubRefused as refused:
                raise SignInRefused(refused.reason, locked=refused.status == 429) from None
            else:
                self._sessions[staff] = str(answer["token"])
                self._pins[staff] = pin
                return self._staff_member(staff, answer)
        person = super().sign_in(staff, pin)
        self._pins[staff] = pin
        return person

    def _staff_member(self, staff: str, answer: dict[str, Any]) -> Staff:
        """The clerk the hub just signed in, from this PC's copy of the office, or, if the copy
        is older than the clerk (added at the hub a moment ago), as the hub described them."""
        known = next((s for s in self.config.staff if s.id == staff), None)
        if known is not None:
            return known
        # No PIN hash here: offline sign-in waits for the office with them in it.
        return Staff.model_construct(
            id=staff,
            name=str(answer.get("name") or staff),
            pin_hash="",
            line_control=bool(answer.get("line_control")),
        )

    def check_staff_pin(self, pin: str) -> Staff:
        """A kiosk's staff menu: checked at the hub, since a paired kiosk holds no PIN hash
        (with an office file that lists staff, here while the hub is away)."""
        if self.config.staff and self._hub_away():
            return super().check_staff_pin(pin)
        try:
            # A PIN alone is tried against every staff member's hash (scrypt, 50 ms each
            # on an idle PC): a wrong one takes the hub longest, and is no outage.
            answer = self.actions.call(
                "POST", "/api/staff/check-pin", json={"pin": pin}, timeout=PIN_CHECK_TIMEOUT_S
            )
        except HubUnavailable as exc:
            if self.config.staff:
                return super().check_staff_pin(pin)
            raise SignInRefused(
                "The staff menu needs the office server, which cannot be reached now."
            ) from exc
        except HubRefused as refused:
            raise SignInRefused(refused.reason, locked=refused.status == 429) from None
        return Staff(id=answer["staff"], name=answer["name"], pin_hash="scrypt$checked-at-the-hub")

    def change_pin(self, staff: str, pin: str, new_pin: str) -> None:
        """A staff member's own new PIN, changed at the hub (their current one first)."""
        check_new_pin(new_pin)
        token = self._session(staff)
        if token is None:
            raise HubRefused("Sign in again: the office server ended your session.", 401)
        body = {"pin": pin, "new_pin": new_pin}
        try:
            self.actions.call("POST", "/api/staff/pin", json=body, headers=_bearer(token))
        except HubUnavailable as exc:
            raise Rejected(
                "Changing your PIN needs the office server, which cannot be reached now."
            ) from exc
        except HubRefused as refused:
            if refused.status in (401, 429):  # the current PIN was wrong (or tried too often)
                raise SignInRefused(refused.reason, locked=refused.status == 429) from None
            raise
        self._pins[staff] = new_pin  # to sign in at the hub again, once its session ends

    def sign_out(self, staff: str) -> None:
        self._pins.pop(staff, None)
        token = self._sessions.pop(staff, None)
        if token is not None and not self._hub_away():
            with contextlib.suppress(NowservingError):
                self.actions.call("POST", "/api/staff/logout", headers=_bearer(token))

    def _session(self, staff: str, renew: bool = False) -> str | None:
        if (renew or staff not in self._sessions) and staff in self._pins:
            answer = self.actions.call(
                "POST", "/api/staff/login", json={"staff": staff, "pin": self._pins[staff]}
            )
            self._sessions[staff] = str(answer["token"])
        return self._sessions.get(staff)

    def _ask_hub(self, staff: str, key: str, method: str, path: str, body: Any = None) -> Any:
        """The hub's answer to one staff action; HubUnavailable if it does not come."""
        for renew in (False, True):
            token = self._session(staff, renew)
            if token is None:
                raise HubRefused("Sign in again: the office server ended your session.", 401)
            headers = {**_bearer(token), "Idempotency-Key": key}
            try:
                return self.actions.call(method, path, json=body, headers=headers)
            except HubRefused as refused:
                if refused.status != 401 or renew:
                    raise
        raise AssertionError("unreachable")

    def _act(
        self,
        local: Callable[[], T],
        parse: Callable[[Any], T],
        staff: str | None,
        method: str,
        path: str,
        body: Any = None,
    ) -> T:
        """One staff action: decided by the hub while it answers, else here."""
        self._refuse_if_removed()
        key = secrets.token_hex(16)
        # Staff known here only (tests, tools) act here: the hub needs a staff session.
        if not self._hub_away() and staff is not None and staff in self._pins:
            try:
                answer = self._ask_hub(staff, key, method, path, body)
            except HubUnavailable as exc:
                self._away(str(exc))
            except HubRefused as refused:
                raise Rejected(refused.reason) from None
            else:
                self.sync.pull()  # the replica, and so this screen, shows it at once
                return parse(answer)
        # Same request id: if the hub did act but its answer was lost, the log keeps one.
        with self.request(self.device.id, key):
            return local()

    def call_next(self, counter: str, *, staff: str | None = None) -> TicketView | None:
        return self._act(
            lambda: super(ReplicaService, self).call_next(counter, staff=staff),
            _maybe_ticket,
            staff,
            "POST",
            f"/api/counters/{_q(counter)}/call-next",
        )

    def call_ticket(
        self, counter: str, ticket: str, *, reason: str, staff: str | None = None
    ) -> TicketView:
        return self._act(
            lambda: super(ReplicaService, self).call_ticket(
                counter, ticket, reason=reason, staff=staff
            ),
            _TICKET.validate_python,
            staff,
            "POST",
            f"/api/counters/{_q(counter)}/call",
            {"ticket": ticket, "reason": reason},
        )

    def _ticket_action(
        self, name: str, ticket: str, staff: str | None, local: Callable[[], TicketView]
    ) -> TicketView:
        path = f"/api/staff/tickets/{_q(ticket)}/{name}"
        return self._act(local, _TICKET.validate_python, staff, "POST", path)

    def recall(self, ticket: str, *, staff: str | None = None) -> TicketView:
        local = super().recall
        return self._ticket_action("recall", ticket, staff, lambda: local(ticket, staff=staff))

    def complete(self, ticket: str, *, staff: str | None = None) -> TicketView:
        local = super().complete
        return self._ticket_action("complete", ticket, staff, lambda: local(ticket, staff=staff))

    def no_show(self, ticket: str, *, staff: str | None = None) -> TicketView:
        local = super().no_show
        return self._ticket_action("no-show", ticket, staff, lambda: local(ticket, staff=staff))

    def return_no_show(self, ticket: str, *, staff: str | None = None) -> TicketView:
        local = super().return_no_show
        return self._ticket_action("return", ticket, staff, lambda: local(ticket, staff=staff))

    def transfer(
        self, ticket: str, to_line: str, *, keep_place: bool = True, staff: str | None = None
    ) -> TicketView:
        local = super().transfer
        return self._act(
            lambda: local(ticket, to_line, keep_place=keep_place, staff=staff),
            _TICKET.validate_python,
            staff,
            "POST",
            f"/api/staff/tickets/{_q(ticket)}/transfer",
            {"to_line": to_line, "keep_place": keep_place},
        )

    def open_counter(self, counter: str, *, staff: str | None = None) -> CounterView:
        local = super().open_counter
        return self._act(
            lambda: local(counter, staff=staff),
            _COUNTER.validate_python,
            staff,
            "POST",
            f"/api/counters/{_q(counter)}/open",
        )

    def close_counter(self, counter: str, *, staff: str | None = None) -> CounterView:
        local = super().close_counter
        return self._act(
            lambda: local(counter, staff=staff),
            _COUNTER.validate_python,
            staff,
            "POST",
            f"/api/counters/{_q(counter)}/close",
        )

    def pause_line(
        self, line: str, reason: str | Mapping[str, str], *, staff: str | None = None
    ) -> LineView:
        local = super().pause_line
        return self._act(
            lambda: local(line, reason, staff=staff),
            _LINE.validate_python,
            staff,
            "POST",
            f"/api/lines/{_q(line)}/pause",
            {"reason": reason if isinstance(reason, str) else dict(reason)},
        )

    def resume_line(self, line: str, *, staff: str | None = None) -> LineView:
        local = super().resume_line
        return self._act(
            lambda: local(line, staff=staff),
            _LINE.validate_python,
            staff,
            "POST",
            f"/api/lines/{_q(line)}/resume",
        )

    def reroute_line(self, line: str, to_line: str, *, staff: str | None = None) -> LineView:
        local = super().reroute_line
        return self._act(
            lambda: local(line, to_line, staff=staff),
            _LINE.validate_python,
            staff,
            "POST",
            f"/api/lines/{_q(line)}/reroute",
            {"to_line": to_line},
        )

    def end_reroute(self, line: str, *, staff: str | None = None) -> LineView:
        local = super().end_reroute
        return self._act(
            lambda: local(line, staff=staff),
            _LINE.validate_python,
            staff,
            "POST",
            f"/api/lines/{_q(line)}/end-reroute",
        )

    def set_announcement(self, texts: dict[str, str], *, staff: str | None = None) -> None:
        local = super().set_announcement
        self._act(
            lambda: local(texts, staff=staff),
            _nothing,
            staff,
            "PUT",
            "/api/announcement",
            {"texts": texts},
        )

    def end_day(self, *, staff: str | None = None) -> None:
        local = super().end_day
        self._act(lambda: local(staff=staff), _nothing, staff, "POST", "/api/day/end")

    # -- appointments: kept at the hub only (they hold residents' contacts) --------------

    def _from_hub(self, staff: str | None, method: str, path: str, body: Any = None) -> Any:
        """A request about bookings (as `staff`, else as this device): answered by the hub,
        or Rejected while it is away."""
        self._refuse_if_removed()
        away = "Bookings are kept at the office server, which cannot be reached now."
        if self._hub_away():
            raise Rejected(away)
        try:
            if staff is None:
                return self.actions.call(method, path, json=body)
            return self._ask_hub(staff, secrets.token_hex(16), method, path, body)
        except HubUnavailable as exc:
            self._away(str(exc))
            raise Rejected(away) from None
        except HubRefused as refused:
            raise Rejected(refused.reason, code=refused.code) from None

    def slots(self, line: str, day: date) -> list[Slot]:
        answer = self._from_hub(None, "GET", f"/api/booking/{_q(line)}/slots?day={day}")
        return [Slot(int(s["start"]), int(s["end"]), int(s["free"])) for s in answer]

    def list_appointments(
        self, day: date, line: str | None = None, *, staff: str | None = None
    ) -> list[Appointment]:
        """As the hub lists them: contacts masked."""
        query = f"?day={day}" + (f"&line={_q(line)}" if line else "")
        answer = self._from_hub(staff, "GET", f"/api/staff/appointments{query}")
        return [_appointment(a) for a in answer]

    def staff_book(
        self, line: str, start: int, contact: str = "", *, lang: str = "", staff: str
    ) -> Appointment:
        body = {"line": line, "start": start, "contact": contact, "lang": lang}
        return _appointment(self._from_hub(staff, "POST", "/api/staff/appointments", body))

    # -- residents ---------------------------------------------------------------------

    def issue(
        self, line: str, *, priority: bool = False, lang: str = "", source: str = "kiosk"
    ) -> TicketView:
        """Through the hub when it answers (numbers in sequence); else from the lease.

        A request that got no answer is retried with the same id for a moment; only
        then is the ticket issued here, under that id too, so that if the hub did make
        one, the two become one when they meet (the printed one stays).
        """
        self._refuse_if_removed()
        key = secrets.token_hex(16)
        if self.device.role == "kiosk" and not self._hub_away():
            body = {"line": line, "priority": priority, "lang": lang}
            give_up = time.monotonic() + ISSUE_RETRY_S
            backoff = Backoff(*ISSUE_RETRY_WAIT_S)
            while True:
                try:
                    answer = self.actions.call(
                        "POST", "/api/tickets", json=body, headers={"Idempotency-Key": key}
                    )
                except HubUnavailable as exc:
                    if time.monotonic() >= give_up:
                        self._away(str(exc))
                        break
                    time.sleep(backoff.next())
                else:
                    ticket: TicketView = _TICKET.validate_python(answer["ticket"])
                    self.sync.now()  # bring it into the replica too
                    return replace(ticket, token=answer["token"])
        with self.request(self.device.id, key):
            return super().issue(line, priority=priority, lang=lang, source=source)

    def check_in(
        self, code: str = "", *, token: str = "", source: str = "kiosk"
    ) -> tuple[TicketView, bool]:
        """Through the hub only: bookings live nowhere else (HubUnavailable while it is away;
        the resident can take a ticket)."""
        self._refuse_if_removed()
        if self._hub_away():
            raise HubUnavailable("The office server cannot be reached.")
        body = {"code": code} if code else {"token": token}
        try:
            answer = self.actions.call(
                "POST",
                "/api/appointments/check-in",
                json=body,
                headers={"Idempotency-Key": secrets.token_hex(16)},
            )
        except HubUnavailable as exc:
            self._away(str(exc))
            raise
        except HubRefused as refused:
            raise Rejected(refused.reason, code=refused.code) from None
        ticket: TicketView = _TICKET.validate_python(answer["ticket"])
        self.sync.now()  # bring it into the replica too
        return replace(ticket, token=answer["token"]), bool(answer["late"])

    def subscribe_issued(self, token: str, phone: str, *, device: str | None = None) -> str:
        """Through the hub only: residents' numbers live nowhere else. HubUnavailable while
        it is away (the ticket stands; the resident can still subscribe on their phone)."""
        self._refuse_if_removed()
        if self._hub_away():
            raise HubUnavailable("The office server cannot be reached.")
        body = {"token": token, "phone": phone}
        try:
            answer = self.actions.call("POST", "/api/kiosk/contacts", json=body)
        except HubUnavailable as exc:
            self._away(str(exc))
            raise
        except HubRefused as refused:
            raise Rejected(refused.reason, code=refused.code) from None
        return str(answer["shown"])

    def report_alert(self, alert: str, message: str, *, device: str | None = None) -> None:
        super().report_alert(alert, message, device=device or self.device.id)

    def failed_deliveries(self, *, staff: str | None = None) -> list[FailedDelivery]:
        """Asked of the hub as `staff` (only the hub sends messages and keeps the outbox);
        HubUnavailable while it is away."""
        self._refuse_if_removed()
        if staff is None:
            raise HubRefused("Sign in to see the messages that could not be delivered.", 401)
        if self._hub_away():
            raise HubUnavailable("The office server cannot be reached.")
        try:
            rows = self._ask_hub(staff, secrets.token_hex(16), "GET", "/api/notify/failed")
        except HubUnavailable as exc:
            self._away(str(exc))
            raise
        return self._labelled((r["ticket"], r["channel"], r["shown"], r["error"]) for r in rows)

    def _take_number(self, day: str, line: str) -> int:
        number = self.store.next_leased_number(day, line)
        if number is None:
            raise NoNumbersLeft(
                "This kiosk cannot reach the office server and has no numbers left for this "
                "service. Please ask at the front desk."
            )
        return number


if TYPE_CHECKING:  # mypy proves here that the replica's service is a `Service`

    def _is_a_service(service: ReplicaService) -> Service:
        return service


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _q(part: str) -> str:
    return quote(part, safe="")


def _appointment(answer: dict[str, Any]) -> Appointment:
    return Appointment(
        str(answer["code"]),
        str(answer["line"]),
        int(answer["start"]),
        int(answer["end"]),
        "",
        str(answer["status"]),
        str(answer.get("contact", "")),
        booked_by=str(answer.get("booked_by", "")),
    )


def _maybe_ticket(answer: Any) -> TicketView | None:
    return None if answer is None else _TICKET.validate_python(answer)


def _nothing(answer: Any) -> None:
    return None
