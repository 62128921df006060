"""A realistic office day, played against the real service interface.

Arrivals vary by hour (Poisson), lines have their own service times
(log-normal around the config's typical minutes), counters open late, take
breaks and close, some residents do not show up, some are transferred, and
one line is paused for a while. Deterministic for a seed. Used to measure the
wait estimates against what then happened, and to fill the demo with life.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from nowserving.domain.config import OfficeConfig
from nowserving.domain.errors import Rejected
from nowserving.domain.estimate import Accuracy, Outcome
from nowserving.domain.state import Status
from nowserving.domain.views import plain_wait_for
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore

# Share of the day's arrivals per opening hour, 8:00 to 17:00: a morning and a lunch peak.
HOURLY = [0.07, 0.12, 0.13, 0.11, 0.13, 0.12, 0.1, 0.12, 0.1]
NO_SHOW = 0.05
TRANSFER = 0.04
# What the sample office adds for days with appointments: open 8:00-17:30 every day, every
# line taking bookings in 15-minute slots (the benchmark's and the test's office).
BOOKED_OFFICE = "\n".join(
    ["", "[calendar.hours]"]
    + [f'{day} = "08:00-17:30"' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    + ["", "[booking]", 'lines = ["permits", "licenses", "records", "payments", "ids"]']
    + ["slot_minutes = 15", ""]
)


class SimClock:
    """The wall clock the simulated office runs on (ms)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@dataclass
class Estimate:
    """What a resident was shown at the kiosk, and what then happened."""

    ticket: str
    line: str
    ahead: int
    low: int
    high: int
    known: bool
    point: int
    plain: float | None  # what the plain formula would have said
    waited: float | None = None  # minutes from issue to first call


@dataclass
class DayResult:
    estimates: list[Estimate] = field(default_factory=list)
    # Appointments: minutes from their slot's start to their call (negative: called early),
    # and from when they could first be called (the slot's start, or checking in late).
    appointment_delays: list[float] = field(default_factory=list)
    appointment_ready_delays: list[float] = field(default_factory=list)

    def measured(self) -> list[Outcome]:
        """Residents shown a known wait and called the same day."""
        return [
            Outcome(e.ahead, e.low, e.high, e.point, e.plain, e.waited)
            for e in self.estimates
            if e.waited is not None and e.known
        ]

    def accuracy(self) -> Accuracy:
        return Accuracy.of(self.measured())

    def appointment_share(self) -> float:
        """The share of appointments among the residents called (what a day's "30 %
        appointments" means: a resident whose slot was full came as a walk-in)."""
        walk_ins = sum(1 for e in self.estimates if e.waited is not None)
        called = len(self.appointment_delays) + walk_ins
        return len(self.appointment_delays) / called if called else 0.0

    def late_p90(self) -> tuple[float, float]:
        """Appointments: the 90th percentile of minutes from their slot's start to their call,
        and from when they could first be called (their slot, or checking in if later)."""
        return _p90(self.appointment_delays), _p90(self.appointment_ready_delays)


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else math.nan


def office_ms(day: date, hour: float, zone: ZoneInfo) -> int:
    """Epoch ms of `hour` (8.5 = 8:30) on `day` in the office's zone."""
    moment = datetime.combine(day, time(0), zone).timestamp() + hour * 3600
    return int(moment * 1000)


def simulate_office(
    store: EventStore,
    config: OfficeConfig,
    day: date,
    seed: int,
    arrivals: int = 330,
    until: int | None = None,
    booked: float = 0.0,
) -> DayResult:
    """A simulated day on `store` (up to `until` ms), with a clock of its own."""
    clock = SimClock(office_ms(day, 7.9, config.zone))
    service = LocalService(store, config, f"simulator-{seed}", now=clock)
    return simulate_day(service, clock, day, seed, arrivals, until, booked)


def _book_slot(service: LocalService, line: str, day: date, at_ms: int, n: int) -> str | None:
    """Book the slot of `line` holding `at_ms` for resident `n`: its code (None if full)."""
    if line not in service.config.booking.lines:
        return None
    for slot in service.slots(line, day):
        if slot.start <= at_ms < slot.end and slot.free:
            made, _ = service.book(line, slot.start, f"+1555{n:07d}")
            return made.code
    return None


def simulate_day(
    service: LocalService,
    clock: SimClock,
    day: date,
    seed: int,
    arrivals: int = 330,
    until: int | None = None,
    booked: float = 0.0,
) -> DayResult:
    """Play one office day on `service` (whose clock is `clock`); return the estimates shown.

    `booked`: the share of residents who book their time beforehand (the office needs a
    [booking]) and check in around it, mostly a few minutes early, some late."""
    rng = random.Random(seed)
    config = service.config
    zone = config.zone
    lines = [line.id for line in config.lines]
    weights = [1 / config.line(line).typical_minutes for line in lines]  # short lines: more people
    queue: list[tuple[int, int, str, tuple[str, ...]]] = []
    order = 0

    def at(ms: int, what: str, *args: str) -> None:
        nonlocal order
        order += 1
        heapq.heappush(queue, (ms, order, what, args))

    for hour, share in enumerate(HOURLY):
        for _ in range(round(arrivals * share * rng.uniform(0.8, 1.2))):
            arrives = office_ms(day, 8 + hour + rng.random(), zone)
            line = rng.choices(lines, weights)[0]
            code = None
            if booked and rng.random() < booked:
                code = _book_slot(service, line, day, arrives, order)
            if code is None:
                at(arrives, "arrive", line)
            else:  # around the slot's start: a few minutes early, sometimes late
                slot = service.list_appointments(day, line)
                start = next(a.start for a in slot if a.code == code)
                at(start + int(rng.gauss(-5, 6) * 60_000), "check_in", code)
    for n, counter in enumerate(config.counters):
        opens = 8 + (1.5 if n == len(config.counters) - 1 else 0)  # one counter opens late
        at(office_ms(day, opens, zone), "open", counter.id)
        lunch = 11.5 + rng.random() * 2
        at(office_ms(day, lunch, zone), "break", counter.id)
        at(office_ms(day, lunch + 0.5, zone), "open", counter.id)
        at(office_ms(day, 17.25, zone), "close", counter.id)
    paused = rng.choice(lines)
    at(office_ms(day, 14, zone), "pause", paused)
    at(office_ms(day, 14.5, zone), "resume", paused)

    # Clerks take the counters in turn and one with line control pauses: the audit has names.
    names: list[str | None] = [person.id for person in config.staff] or [None]
    clerk = {c.id: names[n % len(names)] for n, c in enumerate(config.counters)}
    manager = next((person.id for person in config.staff if person.line_control), None)

    result = DayResult()
    shown: dict[str, Estimate] = {}
    busy: dict[str, bool] = {}
    on_break: set[str] = set()
    called: set[str] = set()  # appointments called once (a transfer calls one again)

    def serve(counter: str) -> None:
        if busy.get(counter) or counter in on_break:
            return
        ticket = service.call_next(counter, staff=clerk[counter])
        if ticket is None:
            return
        busy[counter] = True
        if ticket.appointment is not None and ticket.id not in called:  # its first call only
            called.add(ticket.id)
            result.appointment_delays.append((clock.ms - ticket.appointment) / 60_000)
            ready = max(ticket.appointment, ticket.issued_at)
            result.appointment_ready_delays.append((clock.ms - ready) / 60_000)
        estimate = shown.get(ticket.id)
        if estimate is not None and estimate.waited is None:
            estimate.waited = (clock.ms - ticket.issued_at) / 60_000
        if rng.random() < NO_SHOW:
            at(clock.ms + 120_000, "no_show", counter, ticket.id)
            return
        typical = config.line(ticket.line).typical_minutes
        minutes = rng.lognormvariate(math.log(typical) - 0.08, 0.4)
        at(clock.ms + int(minutes * 60_000), "done", counter, ticket.id)

    while queue and (until is None or queue[0][0] <= until):
        clock.ms, _, what, args = heapq.heappop(queue)
        try:
            if what in ("arrive", "check_in"):
                if what == "arrive":
                    source = "remote" if rng.random() < 0.2 else "kiosk"
                    ticket, walk_in = service.issue(args[0], source=source), True
                else:  # placed by its slot unless late: measured by its call, not an estimate
                    ticket, walk_in = service.check_in(args[0])
                if walk_in:
                    wait = ticket.wait
                    plain = plain_wait_for(service.state, config, ticket.line, ticket.ahead)
                    shown[ticket.id] = Estimate(
                        ticket.id,
                        ticket.line,
                        ticket.ahead,
                        wait.low,
                        wait.high,
                        wait.known,
                        wait.point,
                        plain,
                    )
            elif what in ("done", "no_show"):
                at_counter, ticket_id = args
                busy[at_counter] = False  # free again, whatever the rules say next
                staff = clerk[at_counter]
                if what == "no_show":
                    service.no_show(ticket_id, staff=staff)
                elif rng.random() < TRANSFER:
                    service.transfer(ticket_id, rng.choice(lines), keep_place=True, staff=staff)
                else:
                    service.complete(ticket_id, staff=staff)
                if at_counter in on_break:  # finished the last one before the break
                    service.close_counter(at_counter, staff=staff)
            elif what == "open":
                on_break.discard(args[0])
                service.open_counter(args[0], staff=clerk[args[0]])
            elif what in ("break", "close"):
                on_break.add(args[0])
                if not busy.get(args[0]):
                    service.close_counter(args[0], staff=clerk[args[0]])
            elif what == "pause":
                service.pause_line(args[0], "Computer update", staff=manager)
            elif what == "resume":
                service.resume_line(args[0], staff=manager)
        except Rejected:
            pass  # e.g. a paused line at the kiosk: the resident comes back later or leaves
        for counter in config.counters:
            serve(counter.id)
    result.estimates = list(shown.values())
    state = service.state
    for estimate in result.estimates:
        if (
            state.tickets.get(estimate.ticket)
            and state.tickets[estimate.ticket].status is Status.EXPIRED
        ):
            estimate.waited = None
    return result
