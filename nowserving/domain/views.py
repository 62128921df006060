"""Read models: what screens and the API show, built from the state.

Plain, JSON-ready dataclasses. The apps render these and never look inside the
projection themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nowserving.domain.config import OfficeConfig
from nowserving.domain.estimate import (
    CounterLoad,
    Schedule,
    WaitRange,
    correction,
    queue_schedule,
    service_minutes,
    wait_range,
)
from nowserving.domain.state import Call, OfficeState, Status, Ticket

RECENT_ON_BOARD = 8


@dataclass(frozen=True, slots=True)
class TicketView:
    id: str
    label: str
    line: str
    status: Status
    ahead: int
    wait: WaitRange
    priority: bool
    lang: str
    source: str
    day: str
    issued_at: int
    counter: str | None = None
    called_at: int | None = None
    recalls: int = 0
    transferred_from: str | None = None
    returned: bool = False
    token: str = field(default="", repr=False)  # only for the resident's own receipt


@dataclass(frozen=True, slots=True)
class LineView:
    id: str
    prefix: str
    waiting: int
    wait: WaitRange
    paused: bool
    pause_reason: str
    reroute_to: str | None
    counters_open: int
    remote_join: bool


# A call on the board is shown as the projection keeps it.
CallView = Call


@dataclass(frozen=True, slots=True)
class CounterView:
    id: str
    name: str
    lines: list[str]
    open: bool
    staff: str | None
    current: TicketView | None


@dataclass(frozen=True, slots=True)
class AlertView:
    device: str
    alert: str
    message: str


@dataclass(frozen=True, slots=True)
class BoardView:
    """Everything the lobby display and the desks show, in one read."""

    day: str
    version: str
    calls: list[CallView]
    lines: list[LineView]
    counters: list[CounterView]
    announcement: dict[str, str]
    alerts: list[AlertView]
    ended: bool


def schedule(state: OfficeState, config: OfficeConfig) -> Schedule:
    """The office played forward from now (computed once per state change)."""
    cached = state._cache.get("schedule")
    if isinstance(cached, Schedule):
        return cached
    minutes = service_minutes_by_line(state, config)
    counters = []
    for counter in config.counters:
        status = state.counter(counter.id)
        if not status.open:
            continue
        current = state.tickets.get(status.current or "")
        busy = minutes[current.line] / 2 if current else 0.0  # half a service still to go
        lines = frozenset(other for other in counter.lines if not state.line(other).paused)
        counters.append(CounterLoad(busy, lines))
    # From the index: the cost follows who is waiting, not how many came today.
    waiting = [(t.id, t.line) for t in state.all_waiting()]
    result = queue_schedule(counters, waiting, minutes)
    state._cache["schedule"] = result
    return result


def service_minutes_by_line(state: OfficeState, config: OfficeConfig) -> dict[str, float]:
    return {
        line.id: service_minutes(state.line(line.id).service_ms, line.typical_minutes)
        for line in config.lines
    }


def wait_for(
    state: OfficeState, config: OfficeConfig, line_id: str, ticket: str | None = None
) -> WaitRange:
    """The wait for `ticket` of `line_id` (None: someone joining the line now)."""
    plan = schedule(state, config)
    expected = plan.newcomer(line_id) if ticket is None else plan.called_in.get(ticket)
    minutes = service_minutes(state.line(line_id).service_ms, config.line(line_id).typical_minutes)
    return wait_range(expected, minutes, correction(state.line(line_id).wait_ratios))


def ahead_of(state: OfficeState, ticket: Ticket) -> int:
    """Residents who will be called before this ticket (priority residents go first)."""
    return state.ahead(ticket)


def ticket_view(
    state: OfficeState, config: OfficeConfig, ticket: Ticket, *, with_token: bool = False
) -> TicketView:
    ahead = ahead_of(state, ticket)
    return TicketView(
        id=ticket.id,
        label=ticket.label,
        line=ticket.line,
        status=ticket.status,
        ahead=ahead,
        wait=wait_for(state, config, ticket.line, ticket.id),
        priority=ticket.priority,
        lang=ticket.lang,
        source=ticket.source,
        day=ticket.day,
        issued_at=ticket.issued_at,
        counter=ticket.counter,
        called_at=ticket.called_at,
        recalls=ticket.recalls,
        transferred_from=ticket.transferred_from,
        returned=ticket.returned,
        token=ticket.token if with_token else "",
    )


def line_view(state: OfficeState, config: OfficeConfig, line_id: str) -> LineView:
    line = state.line(line_id)
    waiting = state.waiting_count(line_id)
    configured = config.line(line_id)
    open_counters = sum(
        1 for c in config.counters if line_id in c.lines and state.counter(c.id).open
    )
    return LineView(
        id=line_id,
        prefix=configured.prefix,
        waiting=waiting,
        wait=wait_for(state, config, line_id),
        paused=line.paused,
        pause_reason=line.pause_reason,
        reroute_to=line.reroute_to,
        counters_open=open_counters,
        remote_join=configured.remote_join,
    )


def counter_view(state: OfficeState, config: OfficeConfig, counter_id: str) -> CounterView:
    configured = config.counter(counter_id)
    counter = state.counter(counter_id)
    current = state.tickets.get(counter.current) if counter.current else None
    return CounterView(
        id=counter_id,
        name=configured.name,
        lines=list(configured.lines),
        open=counter.open,
        staff=counter.staff,
        current=ticket_view(state, config, current) if current else None,
    )


def board_view(state: OfficeState, config: OfficeConfig) -> BoardView:
    calls = list(reversed(state.calls[-RECENT_ON_BOARD:]))
    return BoardView(
        day=state.day,
        version=state.last_hlc,
        calls=calls,
        lines=[line_view(state, config, line.id) for line in config.lines],
        counters=[counter_view(state, config, c.id) for c in config.counters],
        announcement=dict(state.announcement),
        alerts=[AlertView(d, a, m) for (d, a), m in sorted(state.alerts.items())],
        ended=state.ended,
    )


def transfer_concern(board: BoardView, to_line: str) -> str:
    """Why a resident moved to `to_line` would wait with nobody to call them ("" if served).

    A rerouted line sends its residents on to the line it is rerouted to; what counts
    is whether an open counter serves that line and whether it is paused.
    """
    lines = {line.id: line for line in board.lines}
    target, seen = to_line, {to_line}
    while (line := lines.get(target)) and line.reroute_to and line.reroute_to not in seen:
        target = line.reroute_to
        seen.add(target)
    if line is not None and line.paused:
        return f"That line is paused ({line.pause_reason}): nobody will be called from it."
    if not any(counter.open and target in counter.lines for counter in board.counters):
        return "No open counter serves that line: the resident waits until one opens."
    return ""
