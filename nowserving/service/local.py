"""The service over the office's store on this machine (the interface is interface.py).

A tap or click becomes one call here; the call decides with the pure rules,
appends the events in one transaction, and updates the projection. The hub
exposes the same calls over HTTP, and a replica client offers them remotely,
so the apps never know which one they hold.
"""

from __future__ import annotations

import gc
import hmac
import itertools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from nowserving.domain import booking, rules
from nowserving.domain.clock import HybridClock, wall_ms
from nowserving.domain.config import OfficeConfig, Staff
from nowserving.domain.errors import NotFound, Rejected, StoreError
from nowserving.domain.events import Draft, Event, Kind
from nowserving.domain.links import booking_url
from nowserving.domain.notify import Asked, Channel, Contact, command, mask, normalize_phone
from nowserving.domain.notify import before as tickets_before
from nowserving.domain.opening import hours_at, local_date
from nowserving.domain.security import check_new_pin, hash_pin
from nowserving.domain.service_level import LevelCheck, check_line
from nowserving.domain.signin import PinGate
from nowserving.domain.state import (
    Conflict,
    OfficeState,
    Status,
    Ticket,
    apply,
    from_snapshot,
    replay,
    to_snapshot,
)
from nowserving.domain.views import (
    BoardView,
    CounterView,
    LineView,
    TicketView,
    board_view,
    counter_view,
    line_view,
    lines_touched,
    linked_lines,
    office_now,
    ticket_view,
    wait_for,
)
from nowserving.service.interface import DayFigures, Expired, FailedDelivery, HubLink, Service
from nowserving.service.notifier import Notifier
from nowserving.store import appointments, outbox, reports
from nowserving.store.eventstore import EventStore
from nowserving.store.registry import Registry
from nowserving.system import i18n

EXPECTED_AHEAD_MS = 4 * 3_600_000  # how far ahead bookings may matter to a walk-in's wait

# The write request being served on this thread: (asking device, its request id).
_REQUEST: ContextVar[tuple[str, str] | None] = ContextVar("request", default=None)


def request_ref(device: str, key: str) -> str:
    """How an event names the request that caused it: `<device>/<request id>`."""
    return f"{device.split('~', 1)[0]}/{key}"


log = logging.getLogger(__name__)
SNAPSHOT_KEY = "projection_snapshot"
# Events between snapshots: a restart replays at most about this many (a few tenths of a
# second) on top of restoring the snapshot; writing one costs ~0.1 s on a 50,000-ticket day.
SNAPSHOT_EVERY = 5_000
_CHANNEL_NAMES = {"sms": "text messages", "email": "e-mails", "push": "push notifications"}
_IN_LINE = (Status.WAITING, Status.CALLED)
# What a text message did (text_reply): a reply's command, or a text-to-join's outcome.
Handled = Literal["leave", "status", "late", "help", "joined", "refused", "unknown"]
# Why a text-to-join was refused (a rule's code) -> the message that says so.
_JOIN_REFUSALS = {
    "remote_not_allowed": "join_not_remote",
    "remote_full": "join_full",
    "line_paused": "join_paused",
    "address_cap": "join_cap",
}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a big day is decoded and built.

    The snapshot's lists and tickets hold no cycles, yet each 700 new objects start a
    collection that walks them, and every object the process holds (FastAPI's, in the
    hub) now and then: a third of the time of restoring a 50,000-ticket day.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class LocalService:
    """The service over an event store on this machine.

    Args:
        store: the SQLite event store (may be shared with other processes).
        config: the office.
        device: the id stamped on every event written from here.
        now: wall clock in ms (tests freeze or skew it).
    """

    def __init__(
        self,
        store: EventStore,
        config: OfficeConfig,
        device: str,
        now: Callable[[], int] = wall_ms,
        *,
        registry: Registry | None = None,
    ) -> None:
        self.store = store
        self.config = config
        # On the hub's PC: the office the hub holds, followed as it changes there.
        self._registry = registry
        self._office_version = registry.version() if registry is not None else 0
        self.clock = HybridClock(device, now)
        self._now = now
        self._lock = threading.RLock()
        self._state = OfficeState("")
        self._rowid = 0
        self._version = (-1, -1)
        self._hidden = 0
        self._changed = False
        self.gate = PinGate(config)
        self._snapshot_rowid = 0  # the rowid the stored snapshot reached
        # Short receipt code -> token, filled as tickets are added (token_for_code).
        self._codes: dict[str, str] = {}
        self._codes_for: OfficeState | None = None
        self._coded = 0
        self._linked = linked_lines(config)
        self._touched: set[str] | None = None  # lines changed since lines_changed(); None: any
        self.notifier = Notifier(store, config)  # residents' texts and e-mails (the outbox)
        self.refresh()

    # -- keeping the projection current ------------------------------------------------

    def clock_now(self) -> int:
        """This node's wall clock in ms (frozen or skewed in tests)."""
        return self._now()

    def today(self) -> str:
        return rules.office_day(self._now(), self.config.zone)

    def refresh(self) -> bool:
        """Catch up with events written by others; True if anything changed since last time."""
        with self._lock:
            self._changed |= self._follow_office()
            self._catch_up()
            due = self._rowid - self._snapshot_rowid >= SNAPSHOT_EVERY
            changed, self._changed = self._changed, False
        if due:  # outside the lock: only the copy inside needs it
            self.save_snapshot()
        return changed

    def _follow_office(self) -> bool:
        """Take up an office changed at the hub (apps sharing the hub's store)."""
        if self._registry is None or self._registry.version() == self._office_version:
            return False
        held = self._registry.office()
        if held is None:
            return False
        self._office_version, office = held
        self.use_office(office)
        return True

    def use_office(self, config: OfficeConfig) -> None:
        """Serve a changed office from now on (names, lines, staff, notifications)."""
        self.config = self.gate.config = self.notifier.config = config

    def _catch_up(self) -> OfficeState:
        day = self.today()
        if day != self._state.day:
            self._rebuild(day)
            return self._state
        version = self.store.version()
        if version == self._version:
            return self._state
        self._version = version
        # The hub refused some of this replica's own events: project without them.
        late = self.store.hidden() != self._hidden
        while batch := self.store.events_after(self._rowid):
            for rowid, event in batch:
                self._rowid = rowid
                if event.day not in (None, day):
                    continue
                if event.hlc < self._state.last_hlc:
                    late = True  # a late event from a device that was offline
                elif not late:
                    self._touch(lines_touched(self._state, self.config, event, self._linked))
                    apply(self._state, event)
                self._changed = True
        if late:  # the whole batch costs one rebuild, from the snapshot when it can
            self._rebuild(day)
        return self._state

    def _touch(self, lines: frozenset[str] | None) -> None:
        if lines is None:
            self._touched = None
        elif self._touched is not None:
            self._touched |= lines

    def lines_changed(self) -> frozenset[str] | None:
        """The lines whose residents' views may have changed since the last call (live
        updates ask); None: any line may have."""
        with self._lock:
            touched, self._touched = self._touched, set()
        return None if touched is None else frozenset(touched)

    def _rebuild(self, day: str) -> None:
        # In this order: whatever commits in between is caught up next time, never twice.
        self._version = self.store.version()
        self._hidden = self.store.hidden()
        self._changed = True
        self._touched = None
        if not self._hidden and self._restore(day):
            return
        self._rowid = self.store.last_rowid()
        self._state = replay(day, self.store.events_for_day(day, up_to=self._rowid))
        self._snapshot_rowid = 0  # a replay was needed: keep a snapshot at the next refresh

    def _restore(self, day: str) -> bool:
        """Rebuild from the stored snapshot plus what came after it, if that is exact.

        Exact when everything that arrived after the snapshot sorts after it: then
        applying those events in clock order gives what a full replay would.
        """
        try:
            with _collector_paused():
                saved = json.loads(self.store.get_state(SNAPSHOT_KEY) or "{}")
                state = from_snapshot(saved["state"]) if saved.get("day") == day else None
        except (
            ValueError,
            KeyError,
            TypeError,
            IndexError,
            AttributeError,
        ):  # damaged: the log has it all
            state = None
        if state is None:
            return False
        rows = self.store.events_after(int(saved["rowid"]), limit=2**62)
        after = sorted((e for _, e in rows if e.day in (None, day)), key=lambda e: e.hlc)
        if after and after[0].hlc < state.last_hlc:
            return False  # something late sorts inside the snapshot: replay the day
        for event in after:
            apply(state, event)
        self._state = state
        self._rowid = rows[-1][0] if rows else int(saved["rowid"])
        self._snapshot_rowid = int(saved["rowid"])
        return True

    def save_snapshot(self) -> None:
        """Keep the projection in the store, so a restart restores it instead of replaying."""
        with self._lock:  # only while copying: encoding and writing let requests go on
            state = self._catch_up()
            saved = {"day": state.day, "rowid": self._rowid, "state": to_snapshot(state)}
            self._snapshot_rowid = self._rowid
        text = json.dumps(saved, separators=(",", ":"), ensure_ascii=False)
        try:
            self.store.set_state(SNAPSHOT_KEY, text)
        except StoreError as exc:  # only an optimisation: the log still holds the truth
            log.warning("could not keep a snapshot of the day: %s", exc)

    @contextmanager
    def request(self, device: str, key: str | None) -> Iterator[None]:
        """Writes in this block answer one request of `device` with id `key` (if given).

        The id is stored with the events, in the same transaction, so a retry with
        the same id gets the events of the first try back instead of acting twice.
        """
        token = _REQUEST.set((device, key) if key else None)
        try:
            yield
        finally:
            _REQUEST.reset(token)

    def _write(self, decide: Callable[[OfficeState], list[Draft]]) -> list[Event]:
        """Decide against the freshest state and append, all under the write lock."""
        request = _REQUEST.get()

        def act(state: OfficeState) -> tuple[list[Event], bool]:
            done = self.store.request_events(*request) if request else None
            if done is not None:
                return done, False  # a retry: the first answer, not a second action
            drafts = decide(state)
            if request is not None:
                ref = request_ref(*request)
                drafts = [replace(d, data={**d.data, "request": ref}) for d in drafts]
            events = self.store.append(drafts, self.clock)
            if request is not None:
                self.store.remember_request(*request, state.day, events)
            return events, True

        return self._transaction(act)

    def merge(self, merge: Callable[[], list[Event]]) -> list[Event]:
        """Events another node wrote (a sync push to the hub), with the messages they owe
        residents in the same transaction, like events decided here. `merge` adds them
        to the store (inside the transaction) and returns those that were new."""
        return self._transaction(lambda state: (merge(), True))

    def _transaction(self, act: Callable[[OfficeState], tuple[list[Event], bool]]) -> list[Event]:
        """One write transaction: `act` on the freshest state returns its events and
        whether they are new (then the messages they owe are queued with them)."""
        with self._lock:
            early = False  # the projection took the events before the commit
            try:
                with self.store.write():
                    state = self._catch_up()
                    events, new = act(state)
                    if new and self.notifier.wants(events):
                        early = True
                        self._queue_messages(state, events)
            except BaseException:
                if early:  # rolled back: the projection must forget the events again
                    self._rebuild(self._state.day)
                raise
            # Committed: only now may the projection change (a rollback leaves it as it was).
            self._catch_up()
        return events

    def _queue_messages(self, state: OfficeState, events: list[Event]) -> None:
        """Write the messages `events` owe residents into the outbox, in their transaction.

        The messages need the state after the events, so the projection takes them
        here, before the commit (`_write` rebuilds it if the commit fails).
        """
        before = tickets_before(state, events)
        lines: set[str] = set()
        for event in events:
            touched = lines_touched(state, self.config, event, self._linked)
            lines |= touched if touched is not None else {line.id for line in self.config.lines}
        after = self._catch_up()
        self.notifier.queue_for(before, after, events, sorted(lines), self._now() / 1000)

    @property
    def state(self) -> OfficeState:
        with self._lock:
            return self._catch_up()

    # -- staff signing in at a desk ----------------------------------------------------

    def sign_in(self, staff: str, pin: str) -> Staff:
        """The staff member if the PIN is right (SignInRefused otherwise)."""
        # This PC's own gate: wrong PINs for one clerk do not lock the others out here.
        return self.gate.check(staff, pin, sources=(f"staff:{staff}",))

    def sign_out(self, staff: str) -> None:
        """Nothing to end here: the PIN is checked on this PC."""

    def check_staff_pin(self, pin: str) -> Staff:
        """Whoever's PIN this is, for a kiosk's staff menu (SignInRefused otherwise)."""
        return self.gate.check_any(pin)

    def change_pin(self, staff: str, pin: str, new_pin: str) -> None:
        """A staff member's own new PIN (their current one first), on the hub's own PC: the
        office the hub holds changes, and every desk takes up the new hash within seconds."""
        check_new_pin(new_pin)
        self.gate.check(staff, pin, sources=(f"staff:{staff}",))
        if self._registry is None:
            raise Rejected("PINs are kept at the hub: change yours at a desk connected to it.")
        people = [
            person.model_copy(update={"pin_hash": hash_pin(new_pin)}) if person.id == staff
            else person
            for person in self.config.staff
        ]  # fmt: skip
        office = self.config.model_copy(update={"staff": people})
        self._office_version = self._registry.set_office(office)
        self.use_office(office)
        self.record_office_change("changed their own PIN", staff=staff)

    # -- residents ---------------------------------------------------------------------

    def issue(
        self, line: str, *, priority: bool = False, lang: str = "", source: str = "kiosk"
    ) -> TicketView:
        """Issue a ticket; it is committed before this returns (write before print)."""
        if lang and lang not in self.config.office.languages:
            raise Rejected(f"Not an office language: {lang!r}.")
        token = rules.new_token()

        def decide(state: OfficeState) -> list[Draft]:
            target = rules.issue_target(state, self.config, line)
            now = self._now()
            booked = self._expected(state, target)
            shown = wait_for(state, self.config, target, priority=priority, now=now, booked=booked)
            waited = shown.point if shown.known else None
            hours = hours_at(self.config, target, now, waited)
            rules.check_hours(hours, remote=source == "remote")
            number = self._take_number(state.day, target)
            draft = rules.decide_issue(
                state,
                self.config,
                line,
                number,
                token,
                priority=priority,
                lang=lang,
                source=source,
                shown=shown if shown.known else None,
            )
            return [draft]

        (event,) = self._write(decide)
        return self._ticket_view(event.ticket, with_token=True)

    def _take_number(self, day: str, line: str) -> int:
        """The next ticket number (inside the write transaction)."""
        return self.store.next_number(day, line)

    def cancel(self, token: str, *, by_text: bool = False) -> TicketView:
        """The resident leaves the line (from the phone page, or `by_text` message)."""
        self._find_by_token(token)
        (event,) = self._write(lambda state: [rules.decide_leave(state, token, by_text=by_text)])
        return self._ticket_view(event.ticket)

    def ticket_status(self, token: str) -> TicketView:
        """The resident's view of their own ticket, by the token in the QR code."""
        return self._ticket_view(self._find_by_token(token))

    def ticket_statuses(self, tokens: list[str]) -> dict[str, TicketView]:
        """Many residents' views at once (live updates): one catch-up, then index lookups.

        Tokens that are not today's tickets are left out.
        """
        with self._lock:
            state = self._catch_up()
            views = {}
            expected: dict[str, list[int]] = {}  # per line: one look in the bookings
            for token in tokens:
                found = state.tickets.get(rules.ticket_id(token))
                if found is not None and hmac.compare_digest(found.token, token):
                    if found.line not in expected:
                        expected[found.line] = self._expected(state, found.line)
                    booked = expected[found.line]
                    views[token] = ticket_view(state, self.config, found, booked=booked)
            return views

    def token_for_code(self, code: str) -> str:
        """The token behind a receipt's short code, among today's tickets."""
        code = code.strip().upper()
        with self._lock:
            state = self._catch_up()
            if self._codes_for is not state:  # a new day or a rebuild: index afresh
                self._codes_for, self._codes, self._coded = state, {}, 0
            # Tickets are only ever added, in order: hash only those not seen yet.
            for ticket in itertools.islice(state.tickets.values(), self._coded, None):
                if ticket.token:  # purged tickets have no token left
                    self._codes[rules.short_code(ticket.token)] = ticket.token
            self._coded = len(state.tickets)
            token = self._codes.get(code)
        if token:
            return token
        raise NotFound("No ticket today has that code.")

    def _find_by_token(self, token: str) -> str:
        with self._lock:
            return self._ticket_by_token(self._catch_up(), token).id

    def _ticket_by_token(self, state: OfficeState, token: str) -> Ticket:
        """The ticket behind `token` in `state`; Expired if it was another day's."""
        found = state.tickets.get(rules.ticket_id(token))
        if found is not None and hmac.compare_digest(found.token, token):
            return found
        day = self.store.ticket_day(rules.ticket_id(token))
        if day is not None:
            raise Expired(f"This ticket was for {day}; it has expired.")
        raise NotFound("This ticket is not known here.", code="ticket_unknown")

    # -- residents' texts and e-mails (the hub's store only) ----------------------------

    def subscribe(self, token: str, channel: Channel, address: str) -> list[Contact]:
        """Keep where a waiting resident wants to be told (replacing that channel's address)
        and queue their "joined" message; returns the ticket's contacts."""
        if channel not in self.config.notify.channels:
            raise Rejected(f"This office sends no {_CHANNEL_NAMES[channel]}.", code="no_channel")
        # One state for finding the ticket and keeping the contact: at midnight the day
        # may turn between two looks, and yesterday's ticket is then Expired, not a KeyError.
        with self._lock, self.store.write():
            state = self._catch_up()
            ticket = self._ticket_by_token(state, token)
            if ticket.status not in _IN_LINE:
                raise Rejected("This ticket is no longer in line.", code="ticket_ended")
            contact = Contact(ticket.id, channel, address, ticket.lang)
            self.notifier.subscribe(state, ticket, contact, self._now() / 1000)
        return outbox.contacts_for(self.store, [ticket.id])

    def unsubscribe(self, token: str, channel: Channel | None = None) -> list[Contact]:
        """Forget a resident's contact (one channel, or all) and their unsent messages."""
        found = self._find_by_token(token)
        with self._lock, self.store.write():
            outbox.forget_contacts(self.store, [found], channel)
        return outbox.contacts_for(self.store, [found])

    def subscribe_issued(self, token: str, phone: str, *, device: str | None = None) -> str:
        """A kiosk (`device`, else this one) leaves a resident's phone number for a ticket it
        issued a moment ago (rules.check_kiosk_contact); the number, masked."""
        try:
            number = normalize_phone(phone, self.config.notify.country_code)
        except ValueError as exc:
            raise Rejected(f"Not a phone number: {exc}.", code="bad_phone") from None
        found = self._find_by_token(token)
        with self._lock:
            ticket = self._catch_up().tickets[found]
        asking = (device or self.clock.device).split("~", 1)[0]
        rules.check_kiosk_contact(ticket, self._issuer(found), asking, self._now())
        self.subscribe(token, "sms", number)
        return mask(number)

    def _issuer(self, ticket: str) -> str | None:
        """The device that asked for `ticket`: the one named in the hub's request, or the
        one that wrote it (a kiosk cut off from the hub)."""
        rows = self.store.read(
            "SELECT device, data FROM events WHERE ticket = ? AND kind = ?",
            (ticket, str(Kind.TICKET_ISSUED)),
        )
        if not rows:
            return None
        request = str(json.loads(rows[0][1]).get("request") or "")
        return (request.split("/", 1)[0] if request else str(rows[0][0])).split("~", 1)[0]

    def contacts(self, token: str) -> list[Contact]:
        return outbox.contacts_for(self.store, [self._find_by_token(token)])

    def text_reply(self, sender: str, text: str, ref: str) -> Handled:
        """A text message from `sender`. A line's keyword joins that line (text-to-join);
        from a number waiting in a line, LEAVE, STATUS or LATE in any office language's
        word (or English), anything else gets the help text. Every answer goes out
        through the outbox. Returns what was done: "unknown" when the number waits in
        no line and named no line (a stranger gets no answer; so does a reply to
        yesterday's ticket just after midnight, which ended with its day)."""
        line = command(text, self._keywords(), "")
        if line:
            return self._join_by_text(sender, line, ref)
        asked: Asked = command(text, self._reply_words(), "help")
        # Each answer finds the ticket and acts on one state, in one transaction: the day
        # may turn between two looks.
        if asked == "leave":
            left = self._write(lambda state: self._leave_by_text(state, sender))
            return asked if left else "unknown"
        reply: str = asked
        if asked == "late":
            places = self.config.notify.late_places
            try:  # an event like any other: the "late" message comes with it
                moved = self._write(lambda state: self._late_by_text(state, sender, places))
                return asked if moved else "unknown"
            except Rejected as refused:
                reply = "late_again" if refused.code == "already_late" else "late_called"
        now = self._now() / 1000
        # One answer of a kind per ticket a minute (STATUS) or an hour (the others), whatever
        # the message's id: a spoofed sender cannot flood a waiting resident with answers.
        since = now - (60 if reply == "status" else 3600)
        with self._lock, self.store.write():
            state = self._catch_up()
            ticket = self._texting(state, sender)
            if ticket is None:
                return "unknown"
            if not outbox.answered(self.store, ticket.id, f"{ticket.id}:{reply}:%", since):
                self.notifier.tell(state, ticket, reply, ref, now)
        return asked

    def _texting(self, state: OfficeState, sender: str) -> Ticket | None:
        """The newest ticket in line of `state` for which `sender` left their number."""
        found = [state.tickets.get(t) for t in outbox.tickets_of(self.store, "sms", sender)]
        live = [t for t in found if t is not None and t.status in _IN_LINE]
        return max(live, key=lambda t: t.issued_at) if live else None

    def _leave_by_text(self, state: OfficeState, sender: str) -> list[Draft]:
        ticket = self._texting(state, sender)
        return [rules.decide_leave(state, ticket.token, by_text=True)] if ticket else []

    def _late_by_text(self, state: OfficeState, sender: str, places: int) -> list[Draft]:
        ticket = self._texting(state, sender)
        return [rules.decide_late(state, ticket.id, places)] if ticket else []

    def _join_by_text(self, sender: str, line: str, ref: str) -> Handled:
        """Text-to-join: the same rules as the join page, plus the number's daily cap; the
        "joined" message brings the link, a refusal says why."""
        try:
            rules.check_remote_join(self.config, line, self.remote_joins_waiting(line))
            cap = self.config.notify.tickets_per_address
            if outbox.address_uses(self.store, "sms", sender, self.today()) >= cap:
                raise Rejected("Too many tickets for this number today.", code="address_cap")
            if not self.notifier.texts_left(self.today()):
                return "refused"  # no ticket without its link, and no answer: it is a text too
            ticket = self.issue(line, lang=self.config.default_language, source="remote")
            self.subscribe(ticket.token, "sms", sender)
            return "joined"
        except Rejected as refused:
            kind = _JOIN_REFUSALS.get(refused.code or "", "join_closed")
        now = self._now() / 1000
        with self._lock, self.store.write():
            # One refusal of a kind per number a day (the cap's) or an hour (the others),
            # whatever the message's id: a number typed by a stranger, or a gateway's
            # spoofed sender, is not flooded past the cap with refusals.
            digest = outbox.address_digest(self.store, "sms", sender)
            since = now - (86400 if kind == "join_cap" else 3600)
            if not outbox.answered(self.store, "", f":{kind}:%/{digest}:sms", since):
                state = self._catch_up()
                self.notifier.answer(state, sender, kind, f"{ref}/{digest}", line, now)
        return "refused"

    def _keywords(self) -> dict[str, set[str]]:
        return {line.id: {line.keyword} for line in self.config.lines if line.keyword}

    def _reply_words(self) -> dict[Asked, set[str]]:
        languages = {*self.config.office.languages, i18n.FALLBACK}
        return {
            "leave": {i18n.text(lang, "notify.word_leave") for lang in languages},
            "status": {i18n.text(lang, "notify.word_status") for lang in languages},
            "late": {i18n.text(lang, "notify.word_late") for lang in languages},
        }

    # -- appointments (the hub's store only) --------------------------------------------

    def slots(self, line: str, day: date) -> list[booking.Slot]:
        """A line's slots on an office-local date still to come, with their free places."""
        if not booking.takes_bookings(self.config, line):
            raise Rejected("This line takes no appointments.", code="no_booking")
        now = self._now()
        if day not in booking.bookable_days(self.config, now):
            return []
        found = [s for s in booking.slot_starts(self.config, line, day) if s[0] > now]
        held = appointments.taken(self.store, line, [start for start, _ in found])
        room = booking.capacity(self.config, line)
        return [booking.Slot(a, b, max(0, room - held.get(a, 0))) for a, b in found]

    def book(
        self,
        line: str,
        start: int,
        contact: str,
        *,
        lang: str = "",
        client: str = "",
        staff: str = "",
    ) -> tuple[booking.Appointment, str]:
        """Book the slot of `line` starting at `start` (ms) for a phone or e-mail: the
        appointment and the token of its link (kept only as a hash). Under the write lock,
        so the slot's last place goes to one resident only (Rejected "slot_full"). Booked by
        `staff` for a resident on the phone, the contact may be left out (no reminders)."""
        lang = lang if lang in self.config.office.languages else self.config.default_language
        key = (
            booking.contact_key(contact, self.config.notify.country_code)
            if contact.strip() or not staff
            else ""
        )
        now = self._now()
        token = rules.new_token()
        with self._lock, self.store.write():
            slot = booking.find_slot(self.config, line, start, now)
            booking.check_room(
                self.config,
                line,
                appointments.taken(self.store, line, [start]).get(start, 0),
                appointments.held_by(self.store, key, now) if key else 0,
                appointments.booked_from(self.store, client, now - 86_400_000) if client else 0,
            )
            code = booking.unused_code(lambda c: appointments.by_code(self.store, c) is not None)
            made = booking.Appointment(code, line, *slot, lang, "booked", key, booked_by=staff)
            day = local_date(start, self.config.zone).isoformat()
            appointments.insert(self.store, made, booking.token_hash(token), day, client, now)
            self.notifier.remind(made, booking_url(self.config, token, lang), now / 1000)
        return made, token

    def move_booking(self, token: str, start: int) -> booking.Appointment:
        """Give a booking another slot of its line, through its link (the same checks as a
        new booking, but it does not count against itself)."""
        now = self._now()
        with self._lock, self.store.write():
            found = self.find_booking(token)
            if found.status != "booked":
                raise Rejected("This booking was cancelled.", code="booking_unknown")
            booking.check_unused(found)
            slot = booking.find_slot(self.config, found.line, start, now)
            if slot[0] != found.start:
                taken = appointments.taken(self.store, found.line, [start]).get(start, 0)
                booking.check_room(self.config, found.line, taken, 0, 0)
                day = local_date(start, self.config.zone).isoformat()
                appointments.move(self.store, found.code, *slot, day)
                # The old time's reminders go; the new time's come (their keys name it).
                self.notifier.forget_booking(found.code)
                moved = replace(found, start=slot[0], end=slot[1])
                self.notifier.remind(moved, booking_url(self.config, token, moved.lang), now / 1000)
        return self.find_booking(token)

    def find_booking(self, token: str) -> booking.Appointment:
        """A booking by its link's token (NotFound "booking_unknown")."""
        found = appointments.by_token(self.store, booking.token_hash(token))
        if found is None:
            raise booking.unknown()
        return found

    def find_booking_by_code(self, code: str) -> booking.Appointment:
        """A booking by its check-in code, as typed or scanned (NotFound "booking_unknown")."""
        found = appointments.by_code(self.store, booking.clean_code(code))
        if found is None:
            raise booking.unknown_code()
        return found

    def cancel_booking(self, token: str) -> booking.Appointment:
        """Cancel through the link: the place is free again for someone else."""
        with self._lock, self.store.write():
            found = self.find_booking(token)
            booking.check_unused(found)
            if found.status == "booked":
                appointments.cancel(self.store, found.code)
                self.notifier.forget_booking(found.code)
        return self.find_booking(token)

    def check_in(
        self, code: str = "", *, token: str = "", source: str = "kiosk"
    ) -> tuple[TicketView, bool]:
        """Check a booking in by its code (kiosk) or its link's token (phone): its ticket
        (with token) and whether it came late beyond the grace minutes, so got a walk-in
        ticket. Once per booking: checking in again answers with the same ticket."""
        found = self.find_booking_by_code(code) if code else self.find_booking(token)
        new_token = rules.new_token()

        def decide(state: OfficeState) -> list[Draft]:
            fresh = appointments.by_code(self.store, found.code)  # under the write lock
            if fresh is None:
                raise booking.unknown()
            if fresh.ticket:
                return []  # checked in already (another kiosk, or the phone): that ticket
            now = self._now()
            late = booking.check_in_late(self.config, fresh, now)  # moved or cancelled too
            target = rules.issue_target(state, self.config, fresh.line)
            if late:  # a walk-in like any other: the day's hours apply
                booked = self._expected(state, target)
                shown = wait_for(state, self.config, target, now=now, booked=booked)
                waited = shown.point if shown.known else None
                rules.check_hours(hours_at(self.config, target, now, waited))
            draft = rules.decide_issue(
                state,
                self.config,
                fresh.line,
                self._take_number(state.day, target),
                new_token,
                lang=fresh.lang,
                source=source,
                appointment=None if late else fresh.start,
            )
            appointments.checked_in(self.store, fresh.code, new_token)
            return [draft]

        self._write(decide)
        held = appointments.by_code(self.store, found.code)
        assert held is not None and held.ticket
        view = self._ticket_view(self._find_by_token(held.ticket), with_token=True)
        return view, view.appointment is None

    def list_appointments(
        self, day: date, line: str | None = None, *, staff: str | None = None
    ) -> list[booking.Appointment]:
        """A day's bookings for staff, by slot (`staff`: who asks; a paired desk's hub
        wants their session)."""
        return appointments.for_day(self.store, day.isoformat(), line)

    def staff_book(
        self, line: str, start: int, contact: str = "", *, lang: str = "", staff: str
    ) -> booking.Appointment:
        """A booking `staff` makes for a resident on the phone: as theirs (same capacity,
        same caps on a contact), kept with who booked it."""
        return self.book(line, start, contact, lang=lang, staff=staff)[0]

    # -- staff at a counter ------------------------------------------------------------

    def call_next(self, counter: str, *, staff: str | None = None) -> TicketView | None:
        """Call the next resident to `counter`; None when nobody is waiting for it."""

        def decide(state: OfficeState) -> list[Draft]:
            draft = rules.decide_call_next(state, self.config, counter, staff, self._now())
            return [draft] if draft else []

        events = self._write(decide)
        return self._ticket_view(events[0].ticket) if events else None

    def call_ticket(
        self, counter: str, ticket: str, *, reason: str, staff: str | None = None
    ) -> TicketView:
        return self._on_ticket(
            lambda s: rules.decide_call_ticket(s, self.config, counter, ticket, reason, staff)
        )

    def recall(self, ticket: str, *, staff: str | None = None) -> TicketView:
        return self._on_ticket(
            lambda s: rules.decide_on_called(s, ticket, Kind.TICKET_RECALLED, staff)
        )

    def complete(self, ticket: str, *, staff: str | None = None) -> TicketView:
        return self._on_ticket(
            lambda s: rules.decide_on_called(s, ticket, Kind.TICKET_SERVED, staff)
        )

    def no_show(self, ticket: str, *, staff: str | None = None) -> TicketView:
        return self._on_ticket(
            lambda s: rules.decide_on_called(s, ticket, Kind.TICKET_NO_SHOW, staff)
        )

    def return_no_show(self, ticket: str, *, staff: str | None = None) -> TicketView:
        return self._on_ticket(lambda s: rules.decide_return(s, ticket, staff))

    def transfer(
        self, ticket: str, to_line: str, *, keep_place: bool = True, staff: str | None = None
    ) -> TicketView:
        return self._on_ticket(
            lambda s: rules.decide_transfer(
                s, self.config, ticket, to_line, keep_place=keep_place, staff=staff
            )
        )

    def _on_ticket(self, decide: Callable[[OfficeState], Draft]) -> TicketView:
        (event,) = self._write(lambda state: [decide(state)])
        return self._ticket_view(event.ticket)

    def open_counter(self, counter: str, *, staff: str | None = None) -> CounterView:
        self._write(
            lambda s: [rules.decide_counter(s, self.config, counter, open=True, staff=staff)]
        )
        return self.counter(counter)

    def close_counter(self, counter: str, *, staff: str | None = None) -> CounterView:
        self._write(
            lambda s: [rules.decide_counter(s, self.config, counter, open=False, staff=staff)]
        )
        return self.counter(counter)

    # -- line control ------------------------------------------------------------------

    def pause_line(
        self, line: str, reason: str | Mapping[str, str], *, staff: str | None = None
    ) -> LineView:
        return self._on_line(
            line, lambda s: rules.decide_pause(s, self.config, line, reason, staff)
        )

    def resume_line(self, line: str, *, staff: str | None = None) -> LineView:
        return self._on_line(line, lambda s: rules.decide_resume(s, self.config, line, staff))

    def reroute_line(self, line: str, to_line: str, *, staff: str | None = None) -> LineView:
        return self._on_line(
            line, lambda s: rules.decide_reroute(s, self.config, line, to_line, staff)
        )

    def end_reroute(self, line: str, *, staff: str | None = None) -> LineView:
        return self._on_line(line, lambda s: rules.decide_end_reroute(s, self.config, line, staff))

    def _on_line(self, line: str, decide: Callable[[OfficeState], Draft]) -> LineView:
        self._write(lambda state: [decide(state)])
        with self._lock:
            state = self._catch_up()
            return line_view(state, self.config, line, self._now(), self._expected(state, line))

    def set_announcement(self, texts: dict[str, str], *, staff: str | None = None) -> None:
        self._write(lambda s: [rules.decide_announcement(self.config, texts, staff)])

    def report_alert(self, alert: str, message: str, *, device: str | None = None) -> None:
        """A device problem staff should see (printer out of paper...); "" clears it.

        `device` names the device with the problem when it reports through another (the hub).
        """
        data = {"alert": alert, "message": message, "device": device or self.clock.device}
        self._write(lambda s: [Draft(Kind.DEVICE_ALERT, None, data=data)])

    def end_day(self, *, staff: str | None = None) -> None:
        self._write(lambda s: [rules.decide_end_day(s, staff)])

    def record_sign_in(
        self, staff: str, counter: str | None, *, signed_in: bool = True, desk: str | None = None
    ) -> None:
        """Staff signed in (or out) at this desk, offline too: the hub accepts a desk's
        staff events only after that staff member's sign-in there. The hub names the
        `desk` when it records a sign-in to its API on a desk's behalf."""
        kind = Kind.STAFF_SIGNED_IN if signed_in else Kind.STAFF_SIGNED_OUT
        data = {key: value for key, value in (("counter", counter), ("desk", desk)) if value}
        self._write(lambda s: [Draft(kind, s.day, staff=staff, data=data)])

    def record_office_change(self, what: str, *, staff: str) -> None:
        """An audit entry: who changed the office at the hub, and what (one sentence)."""
        data = {"what": what[:300]}
        self._write(lambda s: [Draft(Kind.OFFICE_CHANGED, s.day, staff=staff, data=data)])

    # -- reading -----------------------------------------------------------------------

    def board(self) -> BoardView:
        with self._lock:
            state = self._catch_up()
            booked = {line.id: self._expected(state, line.id) for line in self.config.lines}
            return board_view(state, self.config, self._now(), booked)

    def lines(self) -> list[LineView]:
        with self._lock:
            state = self._catch_up()
            now = self._now()
            return [
                line_view(state, self.config, line.id, now, self._expected(state, line.id))
                for line in self.config.lines
            ]

    def counter(self, counter: str) -> CounterView:
        try:
            self.config.counter(counter)
        except KeyError:
            raise NotFound(f"There is no counter {counter!r}.") from None
        with self._lock:
            return counter_view(self._catch_up(), self.config, counter)

    def queue(self, counter: str) -> list[TicketView]:
        """Waiting residents of the lines a counter serves, oldest first."""
        return self._waiting(self.counter(counter).lines)

    def queue_for_line(self, line: str) -> list[TicketView]:
        """Waiting residents of one line, in their order."""
        return self._waiting([line])

    def waiting_count(self, line: str) -> int:
        """How many wait in `line`. Cheaper than `queue_for_line`: no view, no wait estimate
        per resident."""
        with self._lock:
            return self._catch_up().waiting_count(line)

    def remote_joins_waiting(self, line: str) -> int:
        """How many who joined `line` from afar wait in it: what its remote-join cap counts.
        A booking checked in on its phone ("I'm here") is no remote join: the resident is
        at the office, in the place their booking gave them (a day's check-ins, by token)."""
        with self._lock:
            state = self._catch_up()
            remote = [t.token for t in state.waiting(line) if t.source == "remote"]
        if not remote:
            return 0
        # From the day before: a check-in window may open before midnight.
        since = (date.fromisoformat(state.day) - timedelta(days=1)).isoformat()
        booked = appointments.checked_in_tickets(self.store, since)
        return sum(1 for token in remote if token not in booked)

    def _waiting(self, lines: list[str]) -> list[TicketView]:
        with self._lock:
            state = self._catch_up()
            waiting = [t for line in lines for t in state.waiting(line)]
            waiting.sort(key=lambda t: t.queue_key)
            booked = {line: self._expected(state, line) for line in set(lines)}
            return [ticket_view(state, self.config, t, booked=booked[t.line]) for t in waiting]

    def ticket(self, ticket: str) -> TicketView:
        return self._ticket_view(ticket)

    def _ticket_view(self, ticket: str | None, *, with_token: bool = False) -> TicketView:
        with self._lock:
            state = self._catch_up()
            found = state.tickets.get(ticket or "")
            if found is None:
                raise NotFound("That ticket is not in today's lines.")
            booked = self._expected(state, found.line)
            return ticket_view(state, self.config, found, with_token=with_token, booked=booked)

    def _expected(self, state: OfficeState, line: str) -> list[int]:
        """The slot starts of `line`'s bookings still to check in, from those that may still
        check in on time to EXPECTED_AHEAD_MS on: a walk-in's estimate counts those whose
        slot comes while they wait (only this store holds the bookings)."""
        if not booking.takes_bookings(self.config, line):
            return []
        now = office_now(state)
        grace = self.config.booking.grace_minutes * booking.MINUTE
        return appointments.expected(self.store, line, now - grace, now + EXPECTED_AHEAD_MS)

    # -- what the staff screens show besides the board ---------------------------------

    def conflicts_lost(self, recent: int = 5) -> list[Conflict]:
        """This device's actions that did not count, among the day's `recent` last conflicts."""
        with self._lock:
            conflicts = self._catch_up().conflicts[-recent:] if recent > 0 else []
        return [c for c in conflicts if c.lost_by(self.clock.device)]

    def hub_link(self) -> HubLink | None:
        """None: this PC holds the office's store itself, there is no link to lose."""
        return None

    def service_levels(self) -> dict[str, LevelCheck]:
        """Each line with a service level, where it stands now (reads the whole day: for a
        periodic check, not for every view)."""
        with self._lock:
            state, now = self._catch_up(), self._now()
            checks = {
                line.id: check_line(state, self.config, line.id, now) for line in self.config.lines
            }
        return {line: check for line, check in checks.items() if check is not None}

    def day_figures(self) -> DayFigures:
        """Today's report from the store (a day's log replays in milliseconds)."""
        day = date.fromisoformat(self.today())
        tables = reports.build(self.store, self.config, day, day, now=self._now())
        chart = reports.chart_png(tables, self.config, "volume") if tables.get("lines") else b""
        return DayFigures(tables, chart)

    def failed_deliveries(self, *, staff: str | None = None) -> list[FailedDelivery]:
        """Today's messages to residents given up, from this store's outbox."""
        return self._labelled(outbox.failed(self.store, self.today()))

    def _labelled(self, rows: Iterable[tuple[str, str, str, str]]) -> list[FailedDelivery]:
        """(ticket, channel, masked address, error) rows, with each ticket's label."""
        with self._lock:
            tickets = self._catch_up().tickets
        return [
            FailedDelivery(ticket, found.label if found else "", channel, shown, error)
            for ticket, channel, shown, error in rows
            for found in [tickets.get(ticket)]
        ]

    def store_path(self) -> str:
        return str(self.store.path)


if TYPE_CHECKING:  # mypy proves here that the local service is a `Service`

    def _is_a_service(service: LocalService) -> Service:
        return service
