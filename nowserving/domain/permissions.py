"""The one permission rule: which device (and which staff member at it) may cause which event.

`NEEDS` maps every event kind to the right it takes. The hub's REST routes take their
role dependencies from it (`rest_roles`), and the sync push checks every event a
replica sends with `refusal`, so the two paths cannot drift apart: an event arriving
by sync is accepted only if that device could have caused it through the API.

- a kiosk: `ticket.issued` for the lines it serves, numbered from a block the hub
  leased to that kiosk, and its own `device.alert`s;
- a display: its own `device.alert`s;
- a desk: staff events only by a staff member whose latest sign-in at that desk comes
  before the event, for counters that desk may use; line control, announcements and
  the end of the day only by staff with `line_control`; its own alerts;
- nobody pushes `ticket.left` or `ticket.late`: only the hub makes them, for a resident
  (their page, or a text message back).

What a desk secret holder can still claim: desks sign in offline (the PIN is checked
on the desk PC against the config), and an offline sign-in cannot be proven to the
hub without the PIN. Whoever holds a desk's secret can therefore push a
`staff.signed_in` for any staff member at that desk and then act as them there,
within that desk's counters and that staff member's rights. Everything is kept in
the log under the desk's id, so it is traceable, but not prevented.

Everything here is pure: the store-backed facts come in through `Facts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Literal, Protocol

from nowserving.domain.clock import MAX_SKEW_MS
from nowserving.domain.config import Device, OfficeConfig, Staff
from nowserving.domain.events import LASTING_KINDS, Event, Kind
from nowserving.domain.payloads import PERSONAL_KEYS, payload_problem
from nowserving.domain.rules import office_day, ticket_id, ticket_label

Right = Literal["issue", "alert", "sign_in", "staff", "line_control", "nobody"]
DAY_MS = 24 * 3600 * 1000
RestRole = Literal["kiosk", "display", "desk", "staff", "line_control"]

NEEDS: dict[Kind, Right] = {
    Kind.TICKET_ISSUED: "issue",
    Kind.TICKET_CALLED: "staff",
    Kind.TICKET_RECALLED: "staff",
    Kind.TICKET_SERVED: "staff",
    Kind.TICKET_NO_SHOW: "staff",
    Kind.TICKET_RETURNED: "staff",
    Kind.TICKET_TRANSFERRED: "staff",
    Kind.TICKET_LEFT: "nobody",
    Kind.TICKET_LATE: "nobody",  # a resident's LATE reply, decided by the hub
    Kind.LINE_PAUSED: "line_control",
    Kind.LINE_RESUMED: "line_control",
    Kind.LINE_REROUTED: "line_control",
    Kind.LINE_REROUTE_ENDED: "line_control",
    Kind.COUNTER_OPENED: "staff",
    Kind.COUNTER_CLOSED: "staff",
    Kind.ANNOUNCEMENT_SET: "line_control",
    Kind.DAY_ENDED: "line_control",
    Kind.DEVICE_ALERT: "alert",
    Kind.STAFF_SIGNED_IN: "sign_in",
    Kind.STAFF_SIGNED_OUT: "sign_in",
    Kind.OFFICE_CHANGED: "nobody",  # written by the hub itself, for the audit
}

# Who holds each right, as a REST caller (a device by its secret, staff by a session).
REST_ROLES: dict[Right, tuple[RestRole, ...]] = {
    "issue": ("kiosk",),
    "alert": ("kiosk", "display", "desk", "staff"),
    "sign_in": ("desk",),
    "staff": ("staff",),
    "line_control": ("line_control",),
    "nobody": (),
}
# And as a replica pushing events: the device role that may write them.
PUSH_ROLE: dict[Right, tuple[str, ...]] = {
    "issue": ("kiosk",),
    "alert": ("kiosk", "display", "desk"),
    "sign_in": ("desk",),
    "staff": ("desk",),
    "line_control": ("desk",),
    "nobody": (),
}


def rest_roles(kind: Kind) -> tuple[RestRole, ...]:
    """The REST roles that may cause `kind` (a route's role dependency)."""
    return REST_ROLES[NEEDS[kind]]


def device_of(writer: str) -> str:
    """The configured device behind a replica's writer id (`desk-1~a3f2c1` -> `desk-1`)."""
    return writer.split("~", 1)[0]


class Facts(Protocol):
    """What the rule needs to know from the hub's store (read inside its write lock)."""

    def now_ms(self) -> int: ...
    def ticket_day(self, ticket: str) -> str | None: ...
    def leased_to(self, device: str, day: str, line: str, number: int) -> bool: ...
    def number_taken(self, day: str, line: str, number: int) -> bool: ...
    def signed_in(self, desk: str, staff: str, day: str, before_hlc: str) -> bool: ...


def line_refusal(device: Device, line: str) -> str | None:
    """Why `device` may not issue tickets for `line`, or None (a kiosk's `lines`; empty: all)."""
    if device.lines and line not in device.lines:
        return f"{device.id} does not issue tickets for {line}"
    return None


def check_in_refusal(kiosk: Device, kiosks: Iterable[Device], line: str) -> str | None:
    """Where a booking of `line` must check in when `kiosk` does not issue that line (its
    `lines`), as the catalog key telling the resident: another of the office's `kiosks`
    that does, else the front desk. None when it may check in at `kiosk`."""
    if line_refusal(kiosk, line) is None:
        return None
    if any(k.role == "kiosk" and k.id != kiosk.id and not line_refusal(k, line) for k in kiosks):
        return "checkin.other_kiosk"
    return "checkin.ask_desk"


def counter_refusal(device: Device, counter: str) -> str | None:
    """Why staff at `device` may not act for `counter`, or None (`counters` empty: all)."""
    if device.counters and counter not in device.counters:
        return f"{device.id} may not act for counter {counter}"
    return None


def refusal(device: Device, event: Event, config: OfficeConfig, facts: Facts) -> str | None:
    """Why `device` may not have caused `event` (one line), or None when it may."""
    right = NEEDS[event.kind]
    if right == "nobody":
        return f"nobody pushes {event.kind}: only the hub's resident pages make it"
    if device.role not in PUSH_ROLE[right]:
        return f"a {device.role} may not cause {event.kind}"
    return (
        payload_problem(event)
        or _request_problem(device, event)
        or _clock_problem(event, config, facts)
        or _unknown_reference(event, config, facts)
        or _role_problem(device, right, event, config, facts)
    )


def _request_problem(device: Device, event: Event) -> str | None:
    """A device names only its own requests (the projection keeps one effect per request)."""
    request = str(event.data.get("request") or "")
    if request and request.split("/", 1)[0] != device.id:
        return f"{device.id} may name only its own requests, not {request.split('/', 1)[0]}'s"
    return None


def _clock_problem(event: Event, config: OfficeConfig, facts: Facts) -> str | None:
    if event.stamp.device != event.device:
        return "its clock stamp names another device"
    ahead = event.wall - facts.now_ms()
    if ahead > MAX_SKEW_MS:
        return f"this device's clock is {_span(ahead)} fast"
    # Older than anything the office keeps: not a device back from an outage, a wrong clock.
    if -ahead > config.office.retention_days * DAY_MS:
        return f"this device's clock is {_span(-ahead)} slow"
    if event.kind in LASTING_KINDS:
        return f"{event.kind} belongs to no day" if event.day is not None else None
    stamped = office_day(event.wall, config.zone)
    if event.day != stamped:
        return f"its day {event.day} does not match its stamp ({stamped})"
    return None


def _span(ms: int) -> str:
    minutes = round(ms / 60_000)
    return f"{minutes} min" if minutes < 48 * 60 else f"{round(minutes / (24 * 60))} days"


def _unknown_reference(event: Event, config: OfficeConfig, facts: Facts) -> str | None:
    lines = {line.id for line in config.lines}
    named = [event.line, event.data.get("to_line"), event.data.get("requested_line")]
    for line in named:
        if line is not None and line not in lines:
            return f"there is no line {line!r}"
    counter = event.data.get("counter")
    if counter is not None and counter not in {c.id for c in config.counters}:
        return f"there is no counter {counter!r}"
    if event.staff is not None and event.staff not in {s.id for s in config.staff}:
        return f"there is no staff member {event.staff!r}"
    ticket_kind = event.kind.startswith("ticket.")
    if ticket_kind and (event.ticket is None or event.line is None):
        return f"{event.kind} names no ticket or line"
    issued = event.kind is Kind.TICKET_ISSUED
    if ticket_kind and not issued and facts.ticket_day(str(event.ticket)) != event.day:
        return "unknown ticket"
    return None


def _role_problem(
    device: Device, right: Right, event: Event, config: OfficeConfig, facts: Facts
) -> str | None:
    if right == "issue":
        return _issue_problem(device, event, config, facts)
    if right == "alert":
        alerted = event.data["device"]
        return None if alerted == device.id else f"an alert for {alerted}, not for {device.id}"
    counter = event.data.get("counter")
    problem = counter_refusal(device, str(counter)) if counter is not None else None
    if problem:
        return problem
    if event.staff is None:
        return "no staff member named"
    if right == "sign_in":
        desk = event.data.get("desk", device.id)
        return None if desk == device.id else f"a sign-in at {desk}, not at {device.id}"
    day = event.day or office_day(event.wall, config.zone)
    if not facts.signed_in(device.id, event.staff, day, event.hlc):
        return f"{event.staff} is not signed in at {device.id}"
    if right == "line_control" and not _staff(config, event.staff).line_control:
        return f"{event.staff} may not control lines"
    return None


def _issue_problem(device: Device, event: Event, config: OfficeConfig, facts: Facts) -> str | None:
    assert event.line is not None and event.ticket is not None and event.day is not None
    data = event.data
    problem = line_refusal(device, data.get("requested_line", event.line))
    if problem:
        return problem
    if event.ticket != ticket_id(data["token"]):
        return "its ticket id does not match its token"
    if data.get("appointment") is not None:  # bookings live at the hub: it checks them in
        return "only the hub checks appointments in"
    number = int(data["number"])
    if data["label"] != ticket_label(config.line(event.line).prefix, number):
        return f"label {data['label']} does not match line {event.line} and number {number}"
    if facts.ticket_day(event.ticket) is not None:
        return "ticket issued twice"
    if not facts.leased_to(device.id, event.day, event.line, number):
        return f"number {number} of {event.line} was not leased to {device.id}"
    if facts.number_taken(event.day, event.line, number):
        return f"number {number} of {event.line} was issued already"
    if data["lang"] not in config.office.languages:
        return f"{data['lang']} is not an office language"
    return None


def _staff(config: OfficeConfig, staff_id: str) -> Staff:
    return next(s for s in config.staff if s.id == staff_id)


def redact(event: Event, device: Device) -> Event:
    """The event as `device` may see it in a pull: only what its screens use.

    Tokens are the key to a resident's phone page: a display gets none (and no
    personal data), a desk none (staff see ticket ids), a kiosk only those of the
    tickets it issued itself.
    """
    keep_token = device.role == "kiosk" and device_of(event.device) == device.id
    hidden = PERSONAL_KEYS if device.role == "display" else ("token",)
    drop = [key for key in hidden if key in event.data and not (key == "token" and keep_token)]
    if not drop:
        return event
    return replace(event, data={k: v for k, v in event.data.items() if k not in drop})
