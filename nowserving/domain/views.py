"""Read models: what screens and the API show, built from the state.

Plain, JSON-ready dataclasses. The apps render these and never look inside the
projection themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from nowserving.domain.clock import Stamp
from nowserving.domain.config import OfficeConfig
from nowserving.domain.estimate import (
    UNKNOWN,
    Counter,
    ServiceTime,
    WaitRange,
    ahead_work,
    estimate,
    out_of_order_share,
    plain_wait,
    remaining,
    service_time,
    work,
)
from nowserving.domain.events import Event, Kind
from nowserving.domain.opening import ALWAYS, Hours, hours_at
from nowserving.domain.rules import DUE_EARLY_MS
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
    appointment: int | None = None  # a checked-in booking's slot start (ms)
    token: str = field(default="", repr=False)  # only for the resident's own receipt

    def without_token(self) -> TicketView:
        """This view as anyone but the resident may see it."""
        return replace(self, token="")


@dataclass(frozen=True, slots=True)
class LineView:
    id: str
    prefix: str
    waiting: int
    wait: WaitRange
    paused: bool
    pause_reason: str  # in the office's first language, for staff and logs
    reroute_to: str | None
    counters_open: int
    remote_join: bool
    pause_texts: dict[str, str] = field(default_factory=dict)  # the reason per language
    hours: Hours = ALWAYS  # open, closed or full for today, by the office's calendar

    @property
    def taking(self) -> bool:
        """Whether a resident may take a ticket here now: not paused, and open (calendar)."""
        return not self.paused and self.hours.status == "open"

    removed: bool = False  # retired today: no new tickets, its waiting ones are still called


def pause_text(config: OfficeConfig, line: LineView, lang: str) -> str:
    """Why the line is paused, as a resident reading `lang` is told."""
    return config.text(line.pause_texts, lang) if line.pause_texts else line.pause_reason


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


@dataclass(frozen=True, slots=True)
class Serving:
    """One open counter as the estimate of one of its lines sees it."""

    free_in: float  # minutes until it can call someone (0: free now)
    others: list[str]  # the other lines it calls from


@dataclass(frozen=True, slots=True)
class Office:
    """What every estimate of one state needs, computed once per state (O(counters × lines))."""

    services: dict[str, ServiceTime]
    serving: dict[str, list[Serving]]  # line -> its open counters
    counters: dict[str, int]  # line -> open counters serving it (shared ones too)


def office_now(state: OfficeState) -> int:
    """The wall time (ms) of the latest event: the estimates' "now", the same on every node."""
    return _wall(state.last_hlc) if state.last_hlc else 0


@functools.lru_cache(maxsize=4)
def _wall(hlc: str) -> int:
    # Asked once per wait estimate: 2,000 followers' views after one change, same stamp.
    return Stamp.decode(hlc).wall


def office(state: OfficeState, config: OfficeConfig, now: int | None = None) -> Office:
    """The lines' service times and counters, cached on the state until its next event."""
    at = office_now(state) if now is None else now
    kept = state.derived(_OfficeAt, lambda: _OfficeAt(at, _office(state, config, at)))
    return kept.office if kept.at == at else _office(state, config, at)


@dataclass(frozen=True, slots=True)
class _OfficeAt:
    at: int
    office: Office


def _office(state: OfficeState, config: OfficeConfig, at: int) -> Office:
    services = {
        line.id: service_time(state.line(line.id).service_ms, line.typical_minutes)
        for line in config.lines
    }
    counter_lines: dict[str, list[str]] = {}
    free_in: dict[str, float] = {}
    for counter in config.counters:
        status = state.counter(counter.id)
        if not status.open:
            continue
        counter_lines[counter.id] = [  # what it calls from (rules.next_for_counter)
            line
            for line in counter.lines
            if not state.line(line).paused and state.line(line).reroute_to is None
        ]
        current = state.tickets.get(status.current or "")
        elapsed = max(0, at - (current.called_at or at)) / 60_000 if current else 0.0
        free_in[counter.id] = remaining(services[current.line], elapsed) if current else 0.0
    counters = {line.id: 0 for line in config.lines}
    for lines in counter_lines.values():
        for line_id in lines:
            counters[line_id] += 1
    serving: dict[str, list[Serving]] = {line.id: [] for line in config.lines}
    for counter_id, lines in counter_lines.items():
        for line_id in lines:
            others = [other for other in lines if other != line_id]
            serving[line_id].append(Serving(free_in[counter_id], others))
    return Office(services, serving, counters)


# Ticket events change the views of their own line and of the lines it shares counters
# with (their waits are estimated together); other kinds (pauses, reroutes, counters
# opening, the day ending) may change any line's.
_TICKET_KINDS = frozenset(
    {
        Kind.TICKET_ISSUED,
        Kind.TICKET_CALLED,
        Kind.TICKET_RECALLED,
        Kind.TICKET_SERVED,
        Kind.TICKET_NO_SHOW,
        Kind.TICKET_RETURNED,
        Kind.TICKET_TRANSFERRED,
        Kind.TICKET_LEFT,
        Kind.TICKET_LATE,
    }
)


def linked_lines(config: OfficeConfig) -> dict[str, frozenset[str]]:
    """Each line with the lines whose waits are estimated with it: those sharing a counter
    with it, and the lines sharing one with those, and so on."""
    linked = {line.id: frozenset({line.id}) for line in config.lines}
    for counter in config.counters:
        group = frozenset().union(*(linked.get(line, {line}) for line in counter.lines))
        for line in group:
            linked[line] = group
    return linked


def lines_touched(
    state: OfficeState, config: OfficeConfig, event: Event, linked: dict[str, frozenset[str]]
) -> frozenset[str] | None:
    """The lines whose residents' views `event` may change; None: any line.

    Ask before applying `event` to `state` (a served ticket still names its counter).
    `linked` is `linked_lines(config)`. Leaves out one thing: every estimate counts
    from the latest event's time, so any event moves every wait a little; a line that
    no event touched is seen to move at the next event that touches it.
    """
    if event.kind not in _TICKET_KINDS or event.line is None:
        return None
    ticket = state.tickets.get(event.ticket or "")
    lines = {event.line, str(event.data.get("to_line") or event.line)}
    counters = {event.data.get("counter"), ticket.counter if ticket else None} - {None}
    at_counters = {c: state.tickets.get(s.current or "") for c, s in state.counters.items()}
    try:
        for counter in counters:
            lines.update(config.counter(str(counter)).lines)
            # A call there finishes whoever is at it, of any line (their service time
            # teaches their line's estimate).
            if (current := at_counters.get(str(counter))) is not None:
                lines.add(current.line)
        touched = frozenset().union(*(linked[line] for line in lines))
        # A counter busy with a resident of a touched line is free sooner or later for
        # every line it serves.
        for counter, current in at_counters.items():
            if current is not None and current.line in touched:
                lines.update(config.counter(counter).lines)
        return frozenset().union(*(linked[line] for line in lines))
    except KeyError:  # a line or counter the config no longer has
        return None


def wait_for(
    state: OfficeState,
    config: OfficeConfig,
    line_id: str,
    ticket: Ticket | None = None,
    *,
    priority: bool = False,
    now: int | None = None,
    ahead: int | None = None,
    booked: Sequence[int] = (),
) -> WaitRange:
    """The wait for `ticket` of `line_id` (None: someone joining the line now); `ahead`:
    `state.ahead(ticket)` if the caller has it already; `booked`: the slot starts (ms, one
    per booking) of the line's bookings not checked in yet, where the caller knows them
    (the hub's store): those whose slot comes while a walk-in waits go first too.

    O(counters × lines) per call, each count a bisection in the projection's indexes.
    """
    if ticket is not None and ticket.status is not Status.WAITING:
        return UNKNOWN
    known = office(state, config, now)
    own = known.services[line_id]
    line = state.line(line_id)
    if ticket is None:  # a newcomer: behind everyone (a priority one: behind priority only)
        ahead = state.newcomer_ahead(line_id, priority=priority)
    elif ahead is None:
        ahead = state.ahead(ticket)

    def older(other: str) -> int:
        if ticket is None:
            return state.waiting_count(other)
        return state.waiting_before(other, ticket.queue_key)

    counters = [
        Counter(
            c.free_in,
            tuple(
                (work(older(other), known.services[other]), known.counters[other])
                for other in c.others
            ),
        )
        for c in known.serving[line_id]
    ]
    passing = out_of_order_share(line.calls, line.out_of_order)
    shown = estimate(ahead_work(ahead, own, passing), counters, own)
    walk_in = not priority if ticket is None else not (ticket.priority or ticket.slot is not None)
    if walk_in and shown.known and state.waiting_count(line_id):
        # Appointments whose slot comes while this walk-in waits will go first too.
        start = max(ticket.queue_key if ticket else "", state.last_hlc)  # counted in `ahead`
        since = now if now is not None else (Stamp.decode(start).wall if start else 0)
        horizon = since + shown.point * 60_000 + DUE_EARLY_MS  # due that long before the slot
        later = state.booked_due(line_id, f"{horizon:015d}") - state.booked_due(line_id, start)
        later += sum(1 for slot in booked if slot < horizon)
        if later > 0:
            shown = estimate(ahead_work(ahead + later, own, passing), counters, own)
    return shown


def plain_wait_for(
    state: OfficeState, config: OfficeConfig, line_id: str, ahead: int
) -> float | None:
    """What peers would say: people ahead × average service time ÷ counters serving."""
    known = office(state, config)
    if line_id not in known.services:  # a line the office no longer has (a past day's)
        return None
    return plain_wait(ahead, known.services[line_id].mean, known.counters[line_id])


def ahead_of(state: OfficeState, ticket: Ticket) -> int:
    """Residents who will be called before this ticket (priority residents go first)."""
    return state.ahead(ticket)


def ticket_view(
    state: OfficeState,
    config: OfficeConfig,
    ticket: Ticket,
    *,
    with_token: bool = False,
    booked: Sequence[int] = (),
) -> TicketView:
    """A resident's view of their ticket (`booked`: as wait_for takes it)."""
    ahead = ahead_of(state, ticket)
    return TicketView(
        id=ticket.id,
        label=ticket.label,
        line=ticket.line,
        status=ticket.status,
        ahead=ahead,
        wait=wait_for(state, config, ticket.line, ticket, ahead=ahead, booked=booked),
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
        appointment=ticket.slot,
        token=ticket.token if with_token else "",
    )


def line_view(
    state: OfficeState,
    config: OfficeConfig,
    line_id: str,
    now: int | None = None,
    booked: Sequence[int] = (),
) -> LineView:
    """A line as screens show it; with `now` (wall ms), also whether it is open then
    (`booked`: as wait_for takes it)."""
    line = state.line(line_id)
    waiting = state.waiting_count(line_id)
    configured = config.line(line_id)
    open_counters = sum(
        1 for c in config.counters if line_id in c.lines and state.counter(c.id).open
    )
    wait = wait_for(state, config, line_id, booked=booked)
    hours = ALWAYS
    if now is not None:
        hours = hours_at(config, line_id, now, wait.point if wait.known else None)
    return LineView(
        id=line_id,
        prefix=configured.prefix,
        waiting=waiting,
        wait=wait,
        paused=line.paused,
        pause_reason=line.pause_reason,
        pause_texts=dict(line.pause_texts),
        reroute_to=line.reroute_to,
        counters_open=open_counters,
        remote_join=configured.remote_join,
        hours=hours,
        removed=configured.retired_on is not None,
    )


def counter_view(state: OfficeState, config: OfficeConfig, counter_id: str) -> CounterView:
    configured = config.counter(counter_id)
    counter = state.counter(counter_id)
    current = state.tickets.get(counter.current) if counter.current else None
    return CounterView(
        id=counter_id,
        name=config.text(configured.name, config.default_language),
        lines=list(configured.lines),
        open=counter.open,
        staff=counter.staff,
        current=ticket_view(state, config, current) if current else None,
    )


def board_view(
    state: OfficeState,
    config: OfficeConfig,
    now: int | None = None,
    booked: Mapping[str, Sequence[int]] | None = None,
) -> BoardView:
    """The lobby board (`booked`: per line, as wait_for takes it)."""
    calls = list(reversed(state.calls[-RECENT_ON_BOARD:]))
    booked = booked or {}
    return BoardView(
        day=state.day,
        version=state.last_hlc,
        calls=calls,
        lines=[
            line_view(state, config, line.id, now, booked.get(line.id, ())) for line in config.lines
        ],
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
