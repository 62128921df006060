"""Build events and states by hand for pure tests of the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nowserving.domain.clock import Stamp
from nowserving.domain.events import Event, Kind
from nowserving.domain.rules import ticket_label
from nowserving.domain.state import OfficeState, apply

DAY = "2026-11-24"
PREFIX = {"permits": "A", "licenses": "B", "records": "C", "payments": "D", "ids": "E"}


@dataclass
class Log:
    """Appends events with increasing clock stamps and applies them to a state."""

    device: str = "test"
    wall: int = 1_795_000_000_000
    state: OfficeState = field(default_factory=lambda: OfficeState(DAY))
    events: list[Event] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        kind: Kind,
        *,
        day: str | None = DAY,
        device: str | None = None,
        ticket: str | None = None,
        line: str | None = None,
        **data: Any,
    ) -> Event:
        self.wall += 1000
        device = device or self.device
        event = Event(
            id=f"e{len(self.events)}",
            device=device,
            seq=len(self.events) + 1,
            hlc=Stamp(self.wall, 0, device).encode(),
            kind=kind,
            day=day,
            ticket=ticket,
            line=line,
            data=data,
        )
        self.events.append(event)
        apply(self.state, event)
        return event

    def issue(self, line: str, *, priority: bool = False, appointment: int | None = None) -> str:
        """A ticket (`appointment`: a checked-in booking's slot start, ms)."""
        number = self.numbers[line] = self.numbers.get(line, 0) + 1
        ticket = f"{line}-{number}"
        extra: dict[str, Any] = {} if appointment is None else {"appointment": appointment}
        self.add(
            Kind.TICKET_ISSUED,
            ticket=ticket,
            line=line,
            number=number,
            label=ticket_label(PREFIX[line], number),
            token=f"tok-{ticket}",
            priority=priority,
            **extra,
        )
        return ticket

    def call(self, ticket: str, counter: str) -> Event:
        line = self.state.tickets[ticket].line
        return self.add(Kind.TICKET_CALLED, ticket=ticket, line=line, counter=counter)

    def on(self, kind: Kind, ticket: str, **data: Any) -> Event:
        return self.add(kind, ticket=ticket, line=self.state.tickets[ticket].line, **data)
