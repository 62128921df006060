"""Putting the messages residents are owed into the outbox, inside the write that owes them.

The service calls `queue_for` in the same transaction as the events, so a
message exists exactly when its event does; the hub's worker sends it later
(hub/notify_worker.py), so a call or an issue never waits for a gateway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from nowserving.domain.booking import Appointment
from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import OverBudget, Rejected
from nowserving.domain.events import Event, Kind
from nowserving.domain.links import ticket_url
from nowserving.domain.notify import (
    Before,
    Contact,
    Notice,
    Translate,
    notices,
    place,
    render,
    subject,
)
from nowserving.domain.state import OfficeState, Status, Ticket
from nowserving.store import outbox
from nowserving.store.eventstore import EventStore
from nowserving.system import i18n

# Events that never move a resident: no message, no look at the queues.
QUIET_KINDS = frozenset(
    {
        Kind.ANNOUNCEMENT_SET,
        Kind.DEVICE_ALERT,
        Kind.STAFF_SIGNED_IN,
        Kind.STAFF_SIGNED_OUT,
    }
)
_IN_LINE = (Status.WAITING, Status.CALLED)
_ENDED = (Status.SERVED, Status.LEFT, Status.EXPIRED)  # a no-show may still come back
URGENT = frozenset({"called", "recalled"})  # a push of these rings and vibrates the phone


def booking_ref(code: str) -> str:
    """What the outbox's `ticket` column holds for a booking's reminders."""
    return f"booking:{code}"


@dataclass
class Notifier:
    """Writes residents' messages into the outbox of `store`."""

    store: EventStore
    config: OfficeConfig
    translate: Translate = i18n.text

    @property
    def active(self) -> bool:
        """Whether any channel is configured (else nobody could have left a contact)."""
        return bool(self.config.notify.channels)

    def wants(self, events: Iterable[Event]) -> bool:
        return self.active and any(e.kind not in QUIET_KINDS for e in events)

    def queue_for(
        self,
        before: Mapping[str, Before],
        state: OfficeState,
        events: list[Event],
        lines: Iterable[str],
        now: float,
    ) -> int:
        """Queue what `events` owe (state: after them); forget the contacts of tickets
        that ended. Inside the store's `write()`; returns how many messages were added."""
        found = notices(self.config, before, state, events, lines, self.config.notify.near)
        added = self._queue(state, found, now)
        ended = [
            ticket
            for ticket, was in before.items()
            if was.status in _IN_LINE
            and (after := state.tickets.get(ticket))
            and after.status in _ENDED
        ]
        if ended:
            outbox.forget_contacts(self.store, ended, drop_pending=False)
        return added

    def subscribe(self, state: OfficeState, ticket: Ticket, contact: Contact, now: float) -> None:
        """Keep a resident's contact and queue their "joined" message. Inside `write()`.

        Rejected when the address was given for `[notify] tickets_per_address` other
        tickets today: nobody floods a stranger's phone with a day of tickets; OverBudget
        for a number once the office's texts of the day reach `[notify] sms_per_day`
        (the residents already subscribed are still told)."""
        if contact.channel == "sms" and not self.texts_left(ticket.day):
            raise OverBudget(
                "The office has sent as many text messages as it may today.", code="sms_budget"
            )
        if not outbox.use_address(
            self.store, contact, ticket.day, self.config.notify.tickets_per_address
        ):
            raise Rejected(
                "This number or address has been given for as many tickets as it may today.",
                code="address_cap",
            )
        outbox.save_contact(self.store, contact, ticket.day)
        if contact.channel == "push":
            return  # they are on their page, which says all "joined" would
        values = {**place(state, self.config, ticket), "url": self._url(ticket)}
        # Keyed by the address too (a keyed digest, never the number): a replaced number
        # gets its own "joined", the same one given again does not.
        tag = outbox.address_tag(self.store, contact)
        joined = Notice(ticket.id, "joined", tag, values)
        self._queue(state, [joined], now, only=[contact])
        if state.ahead(ticket) <= self.config.notify.near:
            # "joined" says how many are ahead already: no "near the front" after it.
            near = Notice(ticket.id, "near")
            self._rows(state, [near], [contact], now, state_name=outbox.SKIPPED)

    def texts_left(self, day: str) -> bool:
        """Whether `[notify] sms_per_day` leaves room for a new resident's texts on `day`."""
        return outbox.texts_of_day(self.store, day) < self.config.notify.sms_per_day

    def tell(self, state: OfficeState, ticket: Ticket, kind: str, ref: str, now: float) -> None:
        """Queue a reply by text message about `ticket`'s place now. Inside `write()`."""
        notice = Notice(ticket.id, kind, ref, place(state, self.config, ticket))
        texts = [c for c in self._contacts({ticket.id}) if c.channel == "sms"]
        self._rows(state, [notice], texts, now)

    def answer(
        self, state: OfficeState, address: str, kind: str, ref: str, line: str, now: float
    ) -> None:
        """Reply by text message to a number with no ticket (a text-to-join refused), in the
        office's first language: the line's keyword says nothing of the sender's. Inside
        `write()`."""
        contact = Contact("", "sms", address, self.config.default_language)
        self._rows(state, [Notice("", kind, ref, {"line": line})], [contact], now)

    def remind(self, appointment: Appointment, link: str, now: float) -> int:
        """Queue a booking's reminders, `[booking] remind_hours` before its slot, on the
        channel of its contact if the office has it configured, in its language, with its
        link. Once each: the key names the booking, the hours and the slot, so a moved
        booking gets its new time's. A time already past gets none. Inside `write()`."""
        channel = "email" if "@" in appointment.contact else "sms"
        if not appointment.contact or channel not in self.config.notify.channels:
            return 0
        config = self.config
        lang = appointment.lang
        if lang not in config.office.languages:
            lang = config.default_language
        start = appointment.start / 1000
        when = datetime.fromtimestamp(start, UTC).astimezone(config.zone)
        values = {
            "line": config.text(config.line(appointment.line).name, lang),
            "day": f"{self.translate(lang, f'weekday.{when.weekday()}')} {when.date().isoformat()}",
            "time": i18n.clock_time(appointment.start, config.zone),
            "code": appointment.code,
            "url": link,
        }
        body = self.translate(lang, "notify.remind", **values)
        if channel == "email":
            body = f"{self.translate(lang, 'notify.remind_subject', **values)}\n{body}"
        total = 0
        for hours in sorted(set(config.booking.remind_hours)):
            due = start - hours * 3600
            if due <= now:
                continue
            key = f"{booking_ref(appointment.code)}:remind{hours}:{appointment.start}:{channel}"
            row = (key, booking_ref(appointment.code), when.date().isoformat(), channel)
            total += outbox.queue(self.store, [(*row, appointment.contact, body)], now, due=due)
        return total

    def forget_booking(self, code: str) -> None:
        """Drop a booking's reminders still to go (cancelled, or moved). Inside `write()`."""
        outbox.drop_pending(self.store, booking_ref(code))

    def _url(self, ticket: Ticket) -> str:
        return ticket_url(self.config, ticket.token, ticket.lang)

    def _queue(
        self,
        state: OfficeState,
        found: list[Notice],
        now: float,
        only: list[Contact] | None = None,
    ) -> int:
        if not found:
            return 0
        contacts = only if only is not None else self._contacts({n.ticket for n in found})
        return self._rows(state, found, contacts, now)

    def _text(self, state: OfficeState, notice: Notice, contact: Contact) -> str:
        """The message; an e-mail's starts with its subject line (the worker splits it); a
        push notification is what the page's service worker shows (resources/web/static/sw.js)."""
        body = render(self.config, notice, contact.lang, self.translate)
        title = subject(self.config, notice, contact.lang, self.translate)
        if contact.channel == "email":
            return f"{title}\n{body}"
        if contact.channel == "push":
            ticket = state.tickets[notice.ticket]
            languages = self.config.office.languages
            lang = contact.lang if contact.lang in languages else self.config.default_language
            shown: dict[str, object] = {"title": title, "body": body, "lang": lang}
            # The page's own alert has the same tag: one notification for one call, not two.
            shown |= {"tag": f"ticket {ticket.label}", "url": self._url(ticket)}
            shown["urgent"] = notice.kind in URGENT
            return json.dumps(shown, ensure_ascii=False)
        return body

    def _contacts(self, tickets: set[str]) -> list[Contact]:
        return outbox.contacts_for(self.store, sorted(tickets))

    def _rows(
        self,
        state: OfficeState,
        found: list[Notice],
        contacts: list[Contact],
        now: float,
        state_name: str = outbox.PENDING,
    ) -> int:
        pending = state_name == outbox.PENDING
        by_ticket: dict[str, list[Contact]] = {}
        for contact in contacts:
            by_ticket.setdefault(contact.ticket, []).append(contact)
        rows = [
            (
                notice.key(contact.channel),
                notice.ticket,
                state.day,
                contact.channel,
                contact.address,
                self._text(state, notice, contact) if pending else "",
            )
            for notice in found
            for contact in by_ticket.get(notice.ticket, ())
        ]
        return outbox.queue(self.store, rows, now, state=state_name) if rows else 0
