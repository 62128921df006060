"""The office's current state, and how each event changes it.

`apply` is the one place where events become state. It is total: any event in
any state leads to a defined result, so that every node holding the same events
computes the same state. An event that no longer makes sense when its turn comes
(a ticket already called by another desk while the two were cut off) is kept in
the log but changes nothing and is recorded as a `Conflict`.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sortedcontainers import SortedList

from nowserving import __version__
from nowserving.domain.clock import Stamp
from nowserving.domain.events import Event, Kind

RECENT_SERVICE_SAMPLES = 20
RECENT_CALLS = 30

T = TypeVar("T")


class Status(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    LEFT = "left"
    EXPIRED = "expired"


@dataclass(slots=True)
class Ticket:
    id: str
    token: str
    line: str
    number: int
    label: str
    day: str
    priority: bool
    lang: str
    source: str
    issued_at: int
    queue_key: str  # clock stamp that sets its place in line (issue time, or transfer "to the end")
    status: Status = Status.WAITING
    counter: str | None = None
    called_at: int | None = None
    finished_at: int | None = None
    recalls: int = 0
    transferred_from: str | None = None
    returned: bool = False
    out_of_order_reason: str | None = None
    moved_back: bool = False  # the resident said LATE: moved back once already
    slot: int | None = None  # an appointment's slot start (ms): its place is by this time


@dataclass(slots=True)
class LineState:
    id: str
    paused: bool = False
    pause_reason: str = ""  # in the first language (older events: the one text there is)
    pause_texts: dict[str, str] = field(default_factory=dict)  # per language, when given
    reroute_to: str | None = None
    priority_streak: int = 0  # priority calls in a row that passed a waiting ordinary ticket
    service_ms: list[int] = field(default_factory=list)  # recent call-to-served durations
    calls: int = 0  # first calls today
    out_of_order: int = 0  # of which passed someone: priority, transferred, returned, by hand


@dataclass(slots=True)
class CounterState:
    id: str
    open: bool = False
    staff: str | None = None
    current: str | None = None  # ticket id being served
    booked_streak: int = 0  # appointments called in a row here while walk-ins waited


@dataclass(frozen=True, slots=True)
class Call:
    """One entry on the lobby board: a ticket called (or recalled) to a counter."""

    event_id: str
    ticket: str
    label: str
    line: str
    counter: str
    at: int
    recall: bool


@dataclass(frozen=True, slots=True)
class Conflict:
    """An event that lost: it arrived (by clock order) after the state it assumed was gone."""

    event_id: str
    device: str
    ticket: str | None
    reason: str
    asked_by: str = ""  # the device whose action it was (the hub writes a desk's requests)

    def lost_by(self, device: str) -> bool:
        """Whether `device` (a device id, or a replica's writer id) should hear of it."""
        return self.asked_by == device.split("~", 1)[0]


Place = tuple[str, str]  # (queue key, ticket id): a waiting ticket's place, unique and ordered


@dataclass(slots=True)
class LineQueue:
    """The waiting tickets of one line, kept sorted by place: ordinary, priority and
    appointments (placed by their slot's time) apart."""

    ordinary: SortedList = field(default_factory=SortedList)  # of Place
    priority: SortedList = field(default_factory=SortedList)  # of Place
    booked: SortedList = field(default_factory=SortedList)  # of Place, keyed by slot time

    def __len__(self) -> int:
        return len(self.ordinary) + len(self.priority) + len(self.booked)

    def places(self) -> Iterator[Place]:
        """Every waiting place of the line, oldest first (a merge of the sorted lists)."""
        return heapq.merge(self.ordinary, self.priority, self.booked)

    def lane(self, ticket: Ticket) -> SortedList:
        """The sorted list a waiting ticket sits in."""
        if ticket.priority:
            return self.priority
        return self.ordinary if ticket.slot is None else self.booked


_NO_QUEUE = LineQueue()  # what a line nobody has joined reads as (never written to)


@dataclass(slots=True)
class OfficeState:
    """The projection of one office day (plus the lasting line settings)."""

    day: str
    tickets: dict[str, Ticket] = field(default_factory=dict)
    lines: dict[str, LineState] = field(default_factory=dict)
    counters: dict[str, CounterState] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    announcement: dict[str, str] = field(default_factory=dict)
    alerts: dict[tuple[str, str], str] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    last_hlc: str = ""
    ended: bool = False
    # issue request -> (ticket id, written by the asking device itself)
    requests: dict[str, tuple[str, bool]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # phantom ticket -> the real one
    acted: set[str] = field(default_factory=set)  # requests of staff actions already applied
    # Waiting tickets per line in order, kept up to date event by event (see `reindex`),
    # so no read or action scans the day: a place in line is a bisection.
    _queues: dict[str, LineQueue] = field(default_factory=dict, repr=False, compare=False)
    # Where each waiting ticket sits in `_queues`: (place, the sorted list holding it).
    _indexed: dict[str, tuple[Place, SortedList]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # Read-side results (what the wait estimates need) by their type, dropped on every event.
    _cache: dict[type, object] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, kind: type[T], compute: Callable[[], T]) -> T:
        """A read-side result of this state (one per type): computed once per event."""
        kept = self._cache.get(kind)
        if not isinstance(kept, kind):
            kept = self._cache[kind] = compute()
        return kept

    def line(self, line_id: str) -> LineState:
        if line_id not in self.lines:
            self.lines[line_id] = LineState(line_id)
        return self.lines[line_id]

    def counter(self, counter_id: str) -> CounterState:
        if counter_id not in self.counters:
            self.counters[counter_id] = CounterState(counter_id)
        return self.counters[counter_id]

    def effective_line(self, line_id: str) -> str:
        """Follow reroutes (stopping at a loop) to the line that actually serves `line_id`."""
        seen = {line_id}
        while (target := self.line(line_id).reroute_to) is not None and target not in seen:
            seen.add(target)
            line_id = target
        return line_id

    def reindex(self, ticket: Ticket) -> None:
        """Put `ticket` where it now belongs in the waiting index (O(log n)).

        Every handler that changes a ticket's status, line, place or priority must
        call this for that ticket; `apply` does it for the event's own ticket.
        """
        self.unindex(ticket.id)
        if ticket.status is Status.WAITING:
            place = (ticket.queue_key, ticket.id)
            found = self._queues.get(ticket.line)
            if found is None:
                found = self._queues[ticket.line] = LineQueue()
            lane = found.lane(ticket)
            lane.add(place)
            self._indexed[ticket.id] = (place, lane)

    def unindex(self, ticket_id: str) -> None:
        """Take a ticket out of the waiting index (it moves, or leaves the day's tickets)."""
        old = self._indexed.pop(ticket_id, None)
        if old is not None:
            place, lane = old
            lane.remove(place)

    def _queue(self, line_id: str) -> LineQueue:
        return self._queues.get(line_id, _NO_QUEUE)

    def waiting(self, line_id: str) -> list[Ticket]:
        """Waiting tickets of a line in service order (by place in line)."""
        return [self.tickets[ticket] for _, ticket in self._queue(line_id).places()]

    def waiting_count(self, line_id: str, *, priority_only: bool = False) -> int:
        """How many wait in a line (or only its priority residents), without listing them."""
        queue = self._queue(line_id)
        return len(queue.priority) if priority_only else len(queue)

    def first_waiting(self, line_id: str, *, priority: bool) -> Ticket | None:
        """The longest-waiting priority (or ordinary) resident of a line."""
        queue = self._queue(line_id)
        places = queue.priority if priority else queue.ordinary
        return self.tickets[places[0][1]] if places else None

    def all_waiting(self) -> Iterator[Ticket]:
        """Every waiting ticket of the office, oldest place first."""
        merged = heapq.merge(*(queue.places() for queue in self._queues.values()))
        return (self.tickets[ticket] for _, ticket in merged)

    def ahead(self, ticket: Ticket) -> int:
        """Residents who will be called before `ticket` in its line: priority goes first,
        then appointments whose slot has come (by the latest clock seen), then walk-ins
        by place (see rules.next_for_counter)."""
        if ticket.status is not Status.WAITING:
            return 0
        queue = self._queue(ticket.line)
        place = (ticket.queue_key, ticket.id)
        if ticket.priority:
            return int(queue.priority.bisect_left(place))
        if ticket.slot is not None:
            return int(queue.booked.bisect_left(place)) + len(queue.priority)
        return (
            int(queue.ordinary.bisect_left(place))
            + len(queue.priority)
            + self.booked_due(ticket.line, max(ticket.queue_key, self.last_hlc))
        )

    def booked_due(self, line_id: str, queue_key: str) -> int:
        """Appointments waiting in a line whose slot began before `queue_key` (O(log n))."""
        return int(self._queue(line_id).booked.bisect_left((queue_key, "")))

    def newcomer_ahead(self, line_id: str, *, priority: bool) -> int:
        """Residents ahead of someone joining a line now (appointments: those due)."""
        queue = self._queue(line_id)
        if priority:
            return len(queue.priority)
        return len(queue.ordinary) + len(queue.priority) + self.booked_due(line_id, self.last_hlc)

    def first_booked(self, line_id: str) -> Ticket | None:
        """The waiting appointment of a line with the earliest slot."""
        booked = self._queue(line_id).booked
        return self.tickets[booked[0][1]] if booked else None

    def waiting_before(self, line_id: str, queue_key: str) -> int:
        """How many wait in a line with a place older than `queue_key` (O(log n))."""
        queue = self._queue(line_id)
        place = (queue_key, "")
        lanes = (queue.ordinary, queue.priority, queue.booked)
        return sum(int(lane.bisect_left(place)) for lane in lanes)


def _fingerprint() -> str:
    """What a snapshot must have been made by: this very projection code (else replay)."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:  # no source file (a frozen build): its release number
        return f"release-{__version__}"


SNAPSHOT_FORMAT = _fingerprint()
TICKET_FIELDS = [f.name for f in fields(Ticket)]
_STATUS = {status.value: status for status in Status}
_STATUS_COLUMN = TICKET_FIELDS.index("status")


def _rows(items: Iterable[Any], kind: type) -> list[tuple[Any, ...]]:
    """Each dataclass as a tuple of its fields, in order (shallow: JSON copies them anyway)."""
    get = operator.attrgetter(*(f.name for f in fields(kind)))
    return [get(item) for item in items]


def _columns(tickets: Iterable[Ticket]) -> list[Any]:
    """The tickets as one column per field (in `TICKET_FIELDS` order, see `pack_column`): a
    restart decodes no list per ticket and builds them in one `map`, with the few waiting
    ones indexed."""
    rows = _rows(tickets, Ticket)
    if not rows:
        return [[] for _ in TICKET_FIELDS]
    return [pack_column(list(column)) for column in zip(*rows, strict=True)]


# How a column is kept (`pack_column`): decoding 50,000 JSON strings costs more than the
# rest of a restart's decoding. A column with few distinct values (line, day, status,
# language, counter...) is those values and a string of one code character per ticket; a
# column of other strings (ids, tokens, labels) is one string, a line per ticket.
_CODES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"


def pack_column(column: list[Any]) -> list[Any] | dict[str, Any]:
    """`column` as `{"values": [...], "codes": "..."}`, `{"lines": "..."}` or as it is."""
    keys = [(type(value), value) for value in column]  # False and 0 are equal, not the same
    code: dict[tuple[type, Any], str] = {}
    for key in keys:
        if key not in code:
            if len(code) == len(_CODES):
                break
            code[key] = _CODES[len(code)]
    else:
        if len(code) * 4 <= len(column):
            values = [value for _, value in code]
            return {"values": values, "codes": "".join(map(code.__getitem__, keys))}
    if column and all(type(value) is str and "\n" not in value for value in column):
        return {"lines": "\n".join(column)}
    return column


def unpack_column(column: Any, convert: Callable[[Any], Any] | None = None) -> list[Any]:
    """The list of values a `pack_column` column holds (each passed through `convert`)."""
    if isinstance(column, list):
        return column if convert is None else list(map(convert, column))
    if not isinstance(column, dict):
        raise ValueError("not a column")
    if isinstance(lines := column.get("lines"), str):
        split: list[Any] = lines.split("\n")
        return split if convert is None else list(map(convert, split))
    values, codes = column.get("values"), column.get("codes")
    if not (isinstance(values, list) and isinstance(codes, str)):
        raise ValueError("not a column")
    if convert is not None:
        values = list(map(convert, values))
    if len(values) == 1 and codes == _CODES[0] * len(codes):  # most columns of a day
        return values * len(codes)
    value_of = dict(zip(_CODES, values, strict=False))
    return list(map(value_of.__getitem__, codes))  # KeyError: damaged


def to_snapshot(state: OfficeState) -> dict[str, Any]:
    """The state as plain JSON-ready lists, to restore without replaying the day.

    A copy: it may be encoded while the state moves on (ticket fields are immutable
    values; the few mutable ones elsewhere are copied deeply).
    """
    return {
        "format": SNAPSHOT_FORMAT,
        "fields": TICKET_FIELDS,
        "day": state.day,
        "tickets": _columns(state.tickets.values()),
        "lines": copy.deepcopy(_rows(state.lines.values(), LineState)),
        "counters": _rows(state.counters.values(), CounterState),
        "calls": _rows(state.calls, Call),
        "announcement": dict(state.announcement),
        "alerts": [[d, a, m] for (d, a), m in state.alerts.items()],
        "conflicts": _rows(state.conflicts, Conflict),
        "requests": {key: list(value) for key, value in state.requests.items()},
        "aliases": dict(state.aliases),
        "acted": sorted(state.acted),
        "last_hlc": state.last_hlc,
        "ended": state.ended,
    }


def from_snapshot(data: dict[str, Any]) -> OfficeState | None:
    """The state a snapshot holds, or None if other projection code made it."""
    if data.get("format") != SNAPSHOT_FORMAT:
        return None
    packed = list(data["tickets"])
    if data.get("fields") != TICKET_FIELDS or len(packed) != len(TICKET_FIELDS):
        return None
    statuses = unpack_column(packed[_STATUS_COLUMN], _STATUS.__getitem__)
    columns = [
        statuses if i == _STATUS_COLUMN else unpack_column(column)
        for i, column in enumerate(packed)
    ]
    if len({len(column) for column in columns}) > 1:
        return None  # damaged: the log still has it all
    state = OfficeState(str(data["day"]), last_hlc=str(data["last_hlc"]))
    state.ended = bool(data["ended"])
    tickets = list(map(Ticket, *columns))  # one call per ticket, no per-row list
    state.tickets = {ticket.id: ticket for ticket in tickets}
    for ticket, status in zip(tickets, statuses, strict=True):
        if status is Status.WAITING:  # only they are in the index (few, even on a big day)
            state.reindex(ticket)
    state.lines = {row[0]: LineState(*row) for row in data["lines"]}
    state.counters = {row[0]: CounterState(*row) for row in data["counters"]}
    state.calls = [Call(*row) for row in data["calls"]]
    state.announcement = dict(data["announcement"])
    state.alerts = {(d, a): m for d, a, m in data["alerts"]}
    state.conflicts = [Conflict(*row) for row in data["conflicts"]]
    state.requests = {key: (str(t), bool(own)) for key, (t, own) in data["requests"].items()}
    state.aliases = dict(data["aliases"])
    state.acted = set(data["acted"])
    return state


def replay(day: str, events: list[Event]) -> OfficeState:
    """The state after `events`, applied in clock order."""
    state = OfficeState(day)
    for event in sorted(events, key=lambda e: e.hlc):
        apply(state, event)
    return state


def apply(state: OfficeState, event: Event) -> None:
    """Change `state` by one event. Events must come in clock order."""
    if event.day is not None and event.day != state.day:
        return
    state.last_hlc = max(state.last_hlc, event.hlc)
    state._cache.clear()
    request = event.data.get("request")
    if request and event.kind is not Kind.TICKET_ISSUED:
        if request in state.acted:
            return  # the hub acted, its answer was lost, the device acted too: once is enough
        state.acted.add(str(request))
    handler = _HANDLERS.get(event.kind)
    if handler is not None:
        reason = handler(state, event)
        if reason:
            asked_by = str(request or event.device).split("/", 1)[0].split("~", 1)[0]
            state.conflicts.append(Conflict(event.id, event.device, event.ticket, reason, asked_by))
        for ticket_id in {event.ticket, state.aliases.get(event.ticket or "")} - {None}:
            ticket = state.tickets.get(str(ticket_id))
            if ticket is not None:
                state.reindex(ticket)


def _issued(state: OfficeState, event: Event) -> str | None:
    assert event.ticket is not None and event.line is not None
    if event.ticket in state.tickets or event.ticket in state.aliases:
        return "ticket issued twice"
    request = str(event.data.get("request") or "")
    if request in state.requests:
        return _one_ticket_per_request(state, event, request)
    if request:
        state.requests[request] = (event.ticket, _issued_by_device(event, request))
    state.tickets[event.ticket] = _new_ticket(state, event)
    return None


def _new_ticket(state: OfficeState, event: Event) -> Ticket:
    assert event.ticket is not None and event.line is not None
    data = event.data
    slot = int(data["appointment"]) if data.get("appointment") is not None else None
    return Ticket(
        id=event.ticket,
        token=str(data.get("token", "")),  # gone once purged
        line=state.effective_line(event.line),
        number=int(data["number"]),
        label=str(data["label"]),
        day=state.day,
        priority=bool(data.get("priority", False)),
        lang=str(data.get("lang", "")),
        source=str(data.get("source", "kiosk")),
        issued_at=event.wall,
        queue_key=event.hlc if slot is None else appointment_key(slot, event.hlc),
        status=Status.EXPIRED if state.ended else Status.WAITING,
        slot=slot,
    )


def appointment_key(slot: int, checked_in: str) -> str:
    """An appointment's place: a clock stamp at its slot's start, so it sorts among walk-ins
    by that time wherever it was checked in; of one slot's, the one checked in first (by
    `checked_in`, its issue event's stamp) goes first."""
    return Stamp(slot, 0, checked_in).encode()


def _issued_by_device(event: Event, request: str) -> bool:
    """Whether the device that asked wrote this ticket itself (its fallback, from a lease)."""
    return event.device.split("~", 1)[0] == request.split("/", 1)[0]


def _one_ticket_per_request(state: OfficeState, event: Event, request: str) -> str | None:
    """A kiosk's issue request made two tickets: the hub's (answer lost) and its fallback.

    The resident holds the fallback (it was printed), so that one stays, whichever
    comes first by clock, and the hub's is folded into it: the resident keeps the
    place, and a call of the phantom becomes a call of the real ticket (announced
    with the real number). Events about the phantom act on the real ticket.
    """
    assert event.ticket is not None
    twin_id, twin_by_device = state.requests[request]
    by_device = _issued_by_device(event, request)
    twin = state.tickets.get(twin_id)
    if twin is None or by_device == twin_by_device:
        return "ticket issued twice for one request"
    if not by_device:
        state.aliases[event.ticket] = twin.id  # the hub's twin of a printed ticket: dropped
        return None
    real = _new_ticket(state, event)
    real.line, real.queue_key, real.issued_at = twin.line, twin.queue_key, twin.issued_at
    real.transferred_from = twin.transferred_from
    if twin.status in (Status.CALLED, Status.EXPIRED):
        real.status, real.counter, real.called_at = twin.status, twin.counter, twin.called_at
        real.recalls, real.out_of_order_reason = twin.recalls, twin.out_of_order_reason
    # else: waiting, or "finished" while nobody held it: the resident waits at that place.
    del state.tickets[twin.id]
    state.unindex(twin.id)  # `apply` files the real ticket in its place
    state.aliases[twin.id] = real.id
    state.requests[request] = (real.id, True)
    state.tickets[real.id] = real
    state.calls = [c for c in state.calls if c.ticket != twin.id]
    if real.status is Status.CALLED and real.counter is not None:
        state.counter(real.counter).current = real.id
        _board(state, event, real, recall=False)
    return None


def _ticket(state: OfficeState, event: Event, *allowed: Status) -> Ticket | str:
    ticket = state.tickets.get(state.aliases.get(event.ticket or "", event.ticket or ""))
    if ticket is None:
        return "unknown ticket"
    if ticket.status not in allowed:
        where = f" at {ticket.counter}" if ticket.status is Status.CALLED else ""
        return f"{ticket.label} was already {ticket.status.value.replace('_', '-')}{where}"
    return ticket


def _release(state: OfficeState, ticket: Ticket) -> None:
    if ticket.counter and state.counter(ticket.counter).current == ticket.id:
        state.counter(ticket.counter).current = None


def _called(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.WAITING)
    if isinstance(ticket, str):
        return ticket
    counter = state.counter(str(event.data["counter"]))
    if counter.current is not None:  # calling the next one finishes the one at the desk
        previous = state.tickets[counter.current]
        _finish(state, previous, Status.SERVED, event.wall)
    line = state.line(ticket.line)
    passes = _passes_ordinary(state, ticket)
    line.priority_streak = line.priority_streak + 1 if passes else 0
    # Decided by rules.next_for_counter, which knows the counter's lines.
    passed = ticket.slot is not None and bool(event.data.get("passed_walk_ins"))
    counter.booked_streak = counter.booked_streak + 1 if passed else 0
    ticket.out_of_order_reason = event.data.get("reason") or None
    _count_call(line, ticket, passes)
    ticket.status, ticket.counter, ticket.called_at = Status.CALLED, counter.id, event.wall
    counter.open, counter.current = True, ticket.id
    if event.staff:
        counter.staff = event.staff
    _board(state, event, ticket, recall=False)
    return None


def _count_call(line: LineState, ticket: Ticket, passes_ordinary: bool) -> None:
    """Count a first call, and whether it passed someone (what estimates allow for)."""
    if ticket.called_at is not None:
        return
    line.calls += 1
    if passes_ordinary or ticket.returned or ticket.transferred_from or ticket.out_of_order_reason:
        line.out_of_order += 1


def _passes_ordinary(state: OfficeState, ticket: Ticket) -> bool:
    """Whether calling this priority ticket makes an ordinary one in its line wait longer."""
    return ticket.priority and bool(state._queue(ticket.line).ordinary)


def _recalled(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.CALLED)
    if isinstance(ticket, str):
        return ticket
    ticket.recalls += 1
    _board(state, event, ticket, recall=True)
    return None


def _board(state: OfficeState, event: Event, ticket: Ticket, *, recall: bool) -> None:
    assert ticket.counter is not None
    call = Call(event.id, ticket.id, ticket.label, ticket.line, ticket.counter, event.wall, recall)
    # One entry per resident: the board never sends one person to two counters.
    state.calls = [c for c in state.calls if c.ticket != ticket.id or c.counter == call.counter]
    state.calls.append(call)
    del state.calls[:-RECENT_CALLS]


def _finish(state: OfficeState, ticket: Ticket, status: Status, at: int) -> None:
    if status is Status.SERVED and ticket.called_at is not None:
        samples = state.line(ticket.line).service_ms
        samples.append(at - ticket.called_at)
        del samples[:-RECENT_SERVICE_SAMPLES]
    ticket.status, ticket.finished_at = status, at
    _release(state, ticket)


def _served(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.CALLED)
    if isinstance(ticket, str):
        return ticket
    _finish(state, ticket, Status.SERVED, event.wall)
    return None


def _no_show(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.CALLED)
    if isinstance(ticket, str):
        return ticket
    _finish(state, ticket, Status.NO_SHOW, event.wall)
    return None


def _returned(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.NO_SHOW)
    if isinstance(ticket, str):
        return ticket
    ticket.status, ticket.returned, ticket.counter = Status.WAITING, True, None
    ticket.called_at = ticket.finished_at = None
    return None


def _transferred(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.WAITING, Status.CALLED)
    if isinstance(ticket, str):
        return ticket
    _release(state, ticket)
    ticket.transferred_from = ticket.line
    ticket.line = state.effective_line(str(event.data["to_line"]))
    ticket.status, ticket.counter, ticket.called_at = Status.WAITING, None, None
    if not event.data.get("keep_place", True):
        ticket.queue_key = event.hlc
    return None


def _left(state: OfficeState, event: Event) -> str | None:
    ticket = _ticket(state, event, Status.WAITING, Status.CALLED)
    if isinstance(ticket, str):
        return ticket
    _finish(state, ticket, Status.LEFT, event.wall)
    return None


def _late(state: OfficeState, event: Event) -> str | None:
    """The resident moves back `places` places among those waiting in their line (the end
    if fewer wait behind), once: their place becomes just after the one they let pass."""
    ticket = _ticket(state, event, Status.WAITING)
    if isinstance(ticket, str):
        return ticket
    if ticket.moved_back:
        return f"{ticket.label} has already moved back once"
    lane = state._queue(ticket.line).lane(ticket)
    here = lane.bisect_left((ticket.queue_key, ticket.id))
    passed = lane[here + 1 : here + 1 + int(event.data.get("places", 0))]
    if passed:
        # "~" sorts after every character of a clock stamp: right behind the last one passed.
        ticket.queue_key = f"{passed[-1][0]}~"
    ticket.moved_back = True
    return None


def _paused(state: OfficeState, event: Event) -> str | None:
    assert event.line is not None
    line = state.line(event.line)
    line.paused, line.pause_reason = True, str(event.data.get("reason", ""))
    line.pause_texts = dict(event.data.get("texts") or {})
    return None


def _resumed(state: OfficeState, event: Event) -> str | None:
    assert event.line is not None
    line = state.line(event.line)
    line.paused, line.pause_reason, line.pause_texts = False, "", {}
    return None


def _rerouted(state: OfficeState, event: Event) -> str | None:
    assert event.line is not None
    target = str(event.data["to_line"])
    state.line(event.line).reroute_to = target
    if state.effective_line(target) == event.line:
        state.line(event.line).reroute_to = None
        return "reroute would make a loop"
    destination = state.effective_line(event.line)
    for ticket in list(state.all_waiting()):  # waiting residents move, keeping their place
        if ticket.line != destination and state.effective_line(ticket.line) == destination:
            ticket.transferred_from, ticket.line = ticket.line, destination
            state.reindex(ticket)
    return None


def _reroute_ended(state: OfficeState, event: Event) -> str | None:
    assert event.line is not None
    state.line(event.line).reroute_to = None
    return None


def _counter_opened(state: OfficeState, event: Event) -> str | None:
    counter = state.counter(str(event.data["counter"]))
    counter.open, counter.staff = True, event.staff
    return None


def _counter_closed(state: OfficeState, event: Event) -> str | None:
    counter = state.counter(str(event.data["counter"]))
    if counter.current is not None:
        _finish(state, state.tickets[counter.current], Status.SERVED, event.wall)
    counter.open, counter.staff = False, None
    return None


def _announcement(state: OfficeState, event: Event) -> str | None:
    state.announcement = {str(k): str(v) for k, v in dict(event.data.get("texts", {})).items()}
    return None


def _day_ended(state: OfficeState, event: Event) -> str | None:
    for ticket in state.tickets.values():
        if ticket.status in (Status.WAITING, Status.CALLED):
            ticket.status, ticket.finished_at = Status.EXPIRED, event.wall
    state._queues.clear()
    state._indexed.clear()
    for counter in state.counters.values():
        counter.open, counter.current, counter.staff = False, None, None
    state.ended = True
    return None


def _alert(state: OfficeState, event: Event) -> str | None:
    key = (str(event.data.get("device", event.device)), str(event.data.get("alert", "")))
    message = str(event.data.get("message", ""))
    if message:
        state.alerts[key] = message
    else:
        state.alerts.pop(key, None)
    return None


_HANDLERS = {
    Kind.TICKET_ISSUED: _issued,
    Kind.TICKET_CALLED: _called,
    Kind.TICKET_RECALLED: _recalled,
    Kind.TICKET_SERVED: _served,
    Kind.TICKET_NO_SHOW: _no_show,
    Kind.TICKET_RETURNED: _returned,
    Kind.TICKET_TRANSFERRED: _transferred,
    Kind.TICKET_LEFT: _left,
    Kind.TICKET_LATE: _late,
    Kind.LINE_PAUSED: _paused,
    Kind.LINE_RESUMED: _resumed,
    Kind.LINE_REROUTED: _rerouted,
    Kind.LINE_REROUTE_ENDED: _reroute_ended,
    Kind.COUNTER_OPENED: _counter_opened,
    Kind.COUNTER_CLOSED: _counter_closed,
    Kind.ANNOUNCEMENT_SET: _announcement,
    Kind.DAY_ENDED: _day_ended,
    Kind.DEVICE_ALERT: _alert,
}
