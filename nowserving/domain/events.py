"""The event log's vocabulary.

Every change in an office is one `Event`. The current state is a projection of
the events in clock order (see `projection.py`), so nothing else is ever stored
as truth. Payloads are plain JSON objects; the keys each kind uses are listed
beside it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nowserving.domain.clock import Stamp


class Kind(StrEnum):
    """What happened. Ticket kinds carry `ticket`; line kinds carry `line`."""

    TICKET_ISSUED = "ticket.issued"  # line, number, token, priority, lang, source
    TICKET_CALLED = "ticket.called"  # counter, [reason] for an out-of-order call
    TICKET_RECALLED = "ticket.recalled"  # counter
    TICKET_SERVED = "ticket.served"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_RETURNED = "ticket.returned"  # a no-show came back
    TICKET_TRANSFERRED = "ticket.transferred"  # to_line, keep_place
    TICKET_LEFT = "ticket.left"  # [via]: "sms" when they left by a text message
    TICKET_LATE = "ticket.late"  # places: the resident moves back this many (once)
    LINE_PAUSED = "line.paused"  # reason
    LINE_RESUMED = "line.resumed"
    LINE_REROUTED = "line.rerouted"  # to_line
    LINE_REROUTE_ENDED = "line.reroute_ended"
    COUNTER_OPENED = "counter.opened"
    COUNTER_CLOSED = "counter.closed"
    ANNOUNCEMENT_SET = "announcement.set"  # texts: {lang: text}
    DAY_ENDED = "day.ended"
    DEVICE_ALERT = "device.alert"  # alert, message ("" clears it), device
    STAFF_SIGNED_IN = "staff.signed_in"  # counter: staff signed in at the desk that wrote it
    STAFF_SIGNED_OUT = "staff.signed_out"
    OFFICE_CHANGED = "office.changed"  # what: a sentence (a line renamed, a device revoked)


# Kinds whose effect outlives the day they happen on; all others belong to a day.
LASTING_KINDS = frozenset(
    {
        Kind.LINE_PAUSED,
        Kind.LINE_RESUMED,
        Kind.LINE_REROUTED,
        Kind.LINE_REROUTE_ENDED,
        Kind.ANNOUNCEMENT_SET,
        Kind.DEVICE_ALERT,
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    """One appended fact.

    Attributes:
        id: random, unique across the office (sync deduplicates on it).
        device: the device that wrote it.
        seq: that device's own counter, 1, 2, 3, ...
        hlc: encoded hybrid-logical-clock stamp; the order of the log.
        kind: what happened.
        day: the office-local date it belongs to, or None for lasting kinds.
        ticket / line / staff: what and who it concerns, when it applies.
        data: the remaining payload.
    """

    id: str
    device: str
    seq: int
    hlc: str
    kind: Kind
    day: str | None
    ticket: str | None = None
    line: str | None = None
    staff: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def stamp(self) -> Stamp:
        return Stamp.decode(self.hlc)

    @property
    def wall(self) -> int:
        """Milliseconds since the epoch on the clock that stamped it."""
        return int(self.hlc.split(".", 1)[0])

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device": self.device,
            "seq": self.seq,
            "hlc": self.hlc,
            "kind": str(self.kind),
            "day": self.day,
            "ticket": self.ticket,
            "line": self.line,
            "staff": self.staff,
            "data": json.dumps(self.data, ensure_ascii=False, separators=(",", ":")),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Event:
        data = row["data"]
        return cls(
            id=row["id"],
            device=row["device"],
            seq=row["seq"],
            hlc=row["hlc"],
            kind=Kind(row["kind"]),
            day=row["day"],
            ticket=row["ticket"],
            line=row["line"],
            staff=row["staff"],
            data=json.loads(data) if isinstance(data, str) else dict(data),
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """An event before the store stamps it with id, device, seq and clock."""

    kind: Kind
    day: str | None
    ticket: str | None = None
    line: str | None = None
    staff: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def stamped(self, device: str, seq: int, stamp: Stamp) -> Event:
        return Event(
            id=uuid.uuid4().hex,
            device=device,
            seq=seq,
            hlc=stamp.encode(),
            kind=self.kind,
            day=self.day,
            ticket=self.ticket,
            line=self.line,
            staff=self.staff,
            data=self.data,
        )
