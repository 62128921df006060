"""Messages to residents who left a phone number or an e-mail address (pure).

A resident's contact lives only beside their ticket (never in an event); what
happens to the ticket decides which messages go out, each once: its key is the
ticket, the kind of message, the event that caused it and the channel.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar
from urllib.parse import urlsplit

from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Event, Kind
from nowserving.domain.state import OfficeState, Status, Ticket
from nowserving.domain.views import wait_for

Channel = Literal["sms", "email", "push"]
Asked = Literal["leave", "status", "late", "help"]  # what a resident's text message back asks
MAX_EMAIL = 254  # RFC 5321's limit on a path
MAX_ENDPOINT = 1000  # a push service's address for one phone (FCM's are ~200 characters)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# What the hub will post to: printable ASCII, and a plain name (push services use no IDN).
_ENDPOINT = re.compile(r"[!-~]+")
_HOST = re.compile(
    r"(?!.*xn--)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+"
)
# A last label of digits or hex: the resolver reads "127.1" or "0x7f.1" as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164: a country code and at most 15 digits
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+"
)
MASK = "••••"
A = TypeVar("A", bound=str)
_TICKET_MESSAGES = {
    Kind.TICKET_CALLED: "called",
    Kind.TICKET_RECALLED: "recalled",
    Kind.TICKET_LEFT: "left",
}
_IN_LINE = (Status.WAITING, Status.CALLED)
# Kinds that move or end many residents at once: `before` must know every waiting one.
_SWEEPING = frozenset({Kind.LINE_REROUTED, Kind.DAY_ENDED})


class Translate(Protocol):
    """A message of the catalogs in a language (system.i18n.text)."""

    def __call__(self, lang: str, key: str, **values: object) -> str: ...


@dataclass(frozen=True)
class Contact:
    """Where one resident asked to be told: a channel, an address and their language."""

    ticket: str
    channel: Channel
    address: str
    lang: str


@dataclass(frozen=True)
class Notice:
    """A message owed to a ticket's resident, before it is put in their words.

    `event` is the id of the event that caused it ("" for those sent once per ticket).
    """

    ticket: str
    kind: str
    event: str = ""
    values: Mapping[str, object] = field(default_factory=dict)

    def key(self, channel: str) -> str:
        """The idempotency key: the same message never goes out twice on a channel."""
        return f"{self.ticket}:{self.kind}:{self.event}:{channel}"


# The national trunk prefix dropped before a country code ("030 1234" in Germany is
# +49 30 1234): "0" in most countries; the exceptions kept here are the common ones.
_TRUNK = {"1": "1", "7": "8", "39": "", "378": ""}  # NANP, Russia/Kazakhstan, Italy, San Marino
INTERNATIONAL = "a phone number in international form, like +49 30 1234 5678"


def normalize_phone(text: str, country: str = "") -> str:
    """`text` as an E.164 number ("+49 30 1234-5678" -> "+493012345678"); ValueError if not.

    A number typed without "+" or "00" is national: with the office's `country` code its
    trunk prefix (`_TRUNK`, one "0" in most countries) goes and the code comes first
    ("030 1234 5678" with "49" -> "+493012345678"); without one it is refused."""
    number = _PHONE_SEPARATORS.sub("", text.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    elif country and number[:1].isdigit():
        trunk = _TRUNK.get(country, "0")
        if trunk and number.startswith(trunk):
            number = number[len(trunk) :]
        number = f"+{country}{number}"
    if len(text) > 40 or not _PHONE.fullmatch(number):
        raise ValueError(INTERNATIONAL)
    return number


def show_phone(number: str, country: str = "") -> str:
    """An E.164 number as a resident reads it: the office's country code apart and the
    rest in threes, the last group four when one digit would stand alone
    ("+15105550147" -> "+1 510 555 0147"); another country's number in one piece."""
    if not country or not number.startswith(f"+{country}"):
        return number
    rest = number[len(country) + 1 :]
    groups = [rest[i : i + 3] for i in range(0, len(rest), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    return " ".join([f"+{country}", *groups])


def normalize_email(text: str) -> str:
    """`text` as an e-mail address (trimmed); ValueError if it is not one."""
    address = text.strip()
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise ValueError("an e-mail address, like name@example.org")
    return address


def normalize_push(endpoint: str, p256dh: str, auth: str, *, loopback_http: bool = False) -> str:
    """A browser's push subscription as the address kept for it (compact JSON); ValueError
    if it is not one. The hub will POST to `endpoint`, so only a push service's public
    https:// name is taken: no IP address, no single-label LAN name. `loopback_http` (tests
    only) also takes http(s)://127.0.0.1 or localhost."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = -1
    public = (
        parts.scheme == "https"
        and bool(_HOST.fullmatch(host))
        and not _is_ip(host)
        and port in (None, 443)
    )
    test = loopback_http and parts.scheme in ("http", "https") and host in _LOOPBACK
    printable = _ENDPOINT.fullmatch(endpoint)
    if len(endpoint) > MAX_ENDPOINT or not (public or test) or parts.username or not printable:
        raise ValueError("a push service's https:// address")
    key, secret = _b64url(p256dh), _b64url(auth)
    if not _on_curve(key):  # else encrypting for it fails in the sender, every try
        raise ValueError("the subscription's p256dh key (a P-256 point, 65 bytes, base64url)")
    if len(secret) != 16:
        raise ValueError("the subscription's auth secret (16 bytes, base64url)")
    keys = {"p256dh": p256dh, "auth": auth}
    return json.dumps({"endpoint": endpoint, "keys": keys}, separators=(",", ":"))


def _is_ip(host: str) -> bool:
    """An address, also in the short or hex forms the resolver takes ("10.1", "0x7f.1")."""
    if _NUMERIC_LABEL.fullmatch(host.rstrip(".").rpartition(".")[2]):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _on_curve(key: bytes) -> bool:
    """`key` is an uncompressed P-256 point (a browser's p256dh)."""
    if len(key) != 65 or key[0] != 4:
        return False
    from cryptography.hazmat.primitives.asymmetric import ec  # slow to import; rarely needed

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        return False
    return True


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return b""


def mask(address: str) -> str:
    """What staff may see of an address: "•••• 4711", "m•••@example.org", and of a push
    subscription only its push service ("•••• fcm.googleapis.com")."""
    if address.startswith("{"):
        return f"{MASK} {urlsplit(json.loads(address)['endpoint']).hostname}"
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{MASK} {address[-4:]}"


@dataclass(frozen=True)
class Before:
    """What `notices` needs to know of a ticket from before the events: status and line."""

    status: Status
    line: str


def before(state: OfficeState, events: Iterable[Event]) -> dict[str, Before]:
    """Each ticket of `events` as it is in `state` (before them), and, when one of them
    reroutes a line or ends the day, every resident in line (O(waiting) then only)."""
    events = list(events)
    found = {
        t.id: Before(t.status, t.line) for e in events if (t := state.tickets.get(e.ticket or ""))
    }
    if any(e.kind in _SWEEPING for e in events):
        called = (t for t in state.tickets.values() if t.status is Status.CALLED)
        for ticket in (*state.all_waiting(), *called):
            found[ticket.id] = Before(ticket.status, ticket.line)
    return found


def notices(
    config: OfficeConfig,
    before: Mapping[str, Before],
    state: OfficeState,
    events: Iterable[Event],
    lines: Iterable[str],
    near: int,
) -> list[Notice]:
    """The messages `events` owe, given the state after them.

    Events pushed late by a device that was cut off speak of the present: a call or
    a pause is told only while it still holds, "near the front" only to who is near now.

    Args:
        before: the tickets as they were before `events` (see `before`).
        state: the projection with the events applied.
        lines: the lines whose waiting residents the events may have moved.
        near: "N ahead" goes out once, when a resident has this many or fewer ahead.
    """
    found: list[Notice] = []
    for event in events:
        if event.day not in (None, state.day):
            continue  # another day's event, pushed late by a device: its tickets are gone
        ticket = state.tickets.get(event.ticket or "")
        if ticket is not None and event.kind in _TICKET_MESSAGES:
            if event.kind == Kind.TICKET_LEFT and not _told_left(before, ticket, event):
                continue
            if event.kind != Kind.TICKET_LEFT and ticket.status != Status.CALLED:
                continue  # a call that lost a conflict, or (pushed late) one already over
            if event.kind == Kind.TICKET_CALLED and ticket.called_at != event.wall:
                continue  # called again since (pushed late), or this call lost a conflict
            values = {"label": ticket.label, "counter": ticket.counter}
            found.append(Notice(ticket.id, _TICKET_MESSAGES[event.kind], event.id, values))
        elif event.kind == Kind.TICKET_LATE and ticket is not None and ticket.moved_back:
            found.append(Notice(ticket.id, "late", event.id, place(state, config, ticket)))
        elif event.kind == Kind.LINE_PAUSED and event.line:
            line = state.line(event.line)
            if not line.paused:
                continue  # resumed by now (the pause was pushed late): old news
            reason = {"reason": line.pause_reason, "reasons": dict(line.pause_texts)}
            found += [
                Notice(t.id, "paused", event.id, {"label": t.label, **reason})
                for t in state.waiting(event.line)
            ]
        elif event.kind == Kind.LINE_REROUTED and event.line:
            to = state.effective_line(event.line)
            found += [
                Notice(t.id, "rerouted", event.id, {"label": t.label, "line": to})
                for t in state.waiting(to)
                if (was := before.get(t.id)) is not None and was.line != to
            ]
        elif event.kind == Kind.DAY_ENDED:
            found += [
                Notice(t.id, "closed", event.id, {"label": t.label})
                for t in state.tickets.values()
                if (was := before.get(t.id)) is not None and was.status is Status.WAITING
            ]
    for line_id in lines:
        for ticket in state.waiting(line_id)[: near + 1]:
            if state.ahead(ticket) <= near:
                found.append(Notice(ticket.id, "near", "", place(state, config, ticket)))
    return found


def _told_left(before: Mapping[str, Before], ticket: Ticket, event: Event) -> bool:
    """Whether leaving gets a text: only when they were in line and left by a text message
    (leaving on their own page, they saw it happen there)."""
    was = before.get(ticket.id)
    return was is not None and was.status in _IN_LINE and event.data.get("via") == "sms"


def command(text: str, words: Mapping[A, Iterable[str]], otherwise: A) -> A:
    """What a text message says: the key of `words` (e.g. "leave", "status", a line) whose
    word it is or starts with, in any case; `otherwise` when it is none of them."""
    said = text.strip().strip(".!?¡¿。！？\"'“”").casefold()
    first = said.split()[0] if said.split() else ""
    for asked, options in words.items():
        if {said, first} & {word.casefold() for word in options}:
            return asked
    return otherwise


def place(state: OfficeState, config: OfficeConfig, ticket: Ticket) -> dict[str, object]:
    """A resident's place as messages give it: their label, how many ahead, about how long."""
    wait = wait_for(state, config, ticket.line, ticket)
    return {"label": ticket.label, "ahead": state.ahead(ticket), "minutes": wait.point}


def render(config: OfficeConfig, notice: Notice, lang: str, translate: Translate) -> str:
    """The message in the resident's language (the office's first one if theirs is not kept)."""
    if lang not in config.office.languages:
        lang = config.default_language
    values = dict(notice.values)
    counter = values.pop("counter", None)
    if counter:
        values["counter"] = config.counter_name(str(counter), lang)
    line = values.pop("line", None)
    if line:
        values["line"] = config.text(config.line(str(line)).name, lang)
    reasons = values.pop("reasons", None)
    if isinstance(reasons, Mapping) and reasons:
        values["reason"] = config.text(reasons, lang)
    kind = "paused_plain" if notice.kind == "paused" and not values.get("reason") else notice.kind
    return translate(lang, f"notify.{kind}", **values)


def subject(config: OfficeConfig, notice: Notice, lang: str, translate: Translate) -> str:
    """An e-mail's subject line: the ticket's label, in the resident's language."""
    if lang not in config.office.languages:
        lang = config.default_language
    return translate(lang, "notify.subject", label=notice.values.get("label", ""))
