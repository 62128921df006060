"""Property-based tests: random days of operations keep the promises."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nowserving.domain.clock import Stamp
from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.errors import Rejected
from nowserving.domain.events import Event, Kind
from nowserving.domain.rules import office_day
from nowserving.domain.state import Status, replay
from nowserving.service.local import LocalService
from nowserving.store.eventstore import EventStore
from nowserving.system.paths import sample_config
from tests.conftest import SAMPLE_ZONE, FakeClock, office_time
from tests.domain.builders import DAY

CONFIG: OfficeConfig = load_config(sample_config())
LINES = [line.id for line in CONFIG.lines]
COUNTERS = [counter.id for counter in CONFIG.counters]

operation = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(LINES), st.booleans()),
    st.tuples(st.just("call"), st.sampled_from(COUNTERS)),
    st.tuples(st.sampled_from(["serve", "no_show", "recall"]), st.sampled_from(COUNTERS)),
    st.tuples(st.just("return"), st.integers(0, 50)),
    st.tuples(st.just("transfer"), st.integers(0, 50), st.sampled_from(LINES), st.booleans()),
    st.tuples(st.just("leave"), st.integers(0, 50)),
    st.tuples(st.sampled_from(["pause", "resume", "end_reroute"]), st.sampled_from(LINES)),
    st.tuples(st.just("reroute"), st.sampled_from(LINES), st.sampled_from(LINES)),
    st.tuples(st.just("wait"), st.integers(1, 30)),
)


def _run(service: LocalService, clock: FakeClock, op: tuple, issued: list) -> None:  # type: ignore[type-arg]
    name, *args = op
    pick = (lambda n: issued[n % len(issued)]) if issued else None
    try:
        if name == "issue":
            issued.append(service.issue(args[0], priority=args[1]))
        elif name == "call":
            service.call_next(args[0])
        elif name in ("serve", "no_show", "recall"):
            current = service.counter(args[0]).current
            if current:
                {"serve": service.complete, "no_show": service.no_show, "recall": service.recall}[
                    name
                ](current.id)
        elif name == "return" and pick:
            service.return_no_show(pick(args[0]).id)
        elif name == "transfer" and pick:
            service.transfer(pick(args[0]).id, args[1], keep_place=args[2])
        elif name == "leave" and pick:
            service.cancel(pick(args[0]).token)
        elif name == "pause":
            service.pause_line(args[0], "test")
        elif name == "resume":
            service.resume_line(args[0])
        elif name == "end_reroute":
            service.end_reroute(args[0])
        elif name == "reroute":
            service.reroute_line(args[0], args[1])
        elif name == "wait":
            clock.advance(minutes=args[0])
    except Rejected:
        pass  # the rules said no: a valid outcome, and nothing was written


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=40))
def test_random_days_keep_every_promise(ops: list) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(office_time("2026-11-24 09:00"))
        store = EventStore(Path(folder) / "office.sqlite")
        service = LocalService(store, CONFIG, "desk-1", now=clock)
        issued: list = []  # type: ignore[type-arg]
        for op in ops:
            _run(service, clock, op, issued)
        state = service.state

        # Numbers are unique per line per day, and no ticket is lost.
        labels = [t.label for t in state.tickets.values()]
        assert len(labels) == len(set(labels))
        assert {t.id for t in issued} == set(state.tickets)

        # The projection kept incrementally is the one a full replay gives.
        assert replay(state.day, store.events_for_day(state.day)).tickets == state.tickets

        # No resident is called twice without having been put back in line first.
        calls: Counter[str] = Counter()
        for event in store.events_for_day(state.day):
            if event.kind is Kind.TICKET_CALLED:
                calls[event.ticket or ""] += 1
            elif event.kind in (Kind.TICKET_RETURNED, Kind.TICKET_TRANSFERRED):
                calls[event.ticket or ""] = 0
            assert calls[event.ticket or ""] <= 1

        # Every waiting resident of an open line is eventually called.
        for line in LINES:
            if state.lines.get(line) and state.line(line).paused:
                service.resume_line(line)
            if state.line(line).reroute_to:
                service.end_reroute(line)
        while any([service.call_next(counter) for counter in COUNTERS]):
            pass
        assert not [t.label for t in service.state.tickets.values() if t.status is Status.WAITING]
        store.close()


def _concurrent_events(seed: int) -> list[Event]:
    """Events from three devices with overlapping clocks, some of them conflicting."""
    rng = random.Random(seed)
    base = office_time("2026-11-24 09:00")
    events: list[Event] = []
    tickets: list[str] = []
    for n in range(60):
        device = rng.choice(["kiosk-1", "kiosk-2", "desk-1", "desk-2"])
        stamp = Stamp(base + rng.randrange(0, 600_000), rng.randrange(3), device).encode()
        kind = rng.choice(
            [Kind.TICKET_ISSUED] * 3
            + [Kind.TICKET_CALLED, Kind.TICKET_SERVED, Kind.TICKET_LEFT, Kind.LINE_PAUSED]
        )
        line = rng.choice(LINES)
        if kind is Kind.TICKET_ISSUED or not tickets:
            ticket = f"t{n}"
            tickets.append(ticket)
            data = {"number": n, "label": f"X-{n:03d}", "token": f"tok{n}"}
            kind = Kind.TICKET_ISSUED
        else:
            ticket = rng.choice(tickets)
            data = {"counter": rng.choice(COUNTERS), "reason": "r"}
        day = None if kind is Kind.LINE_PAUSED else DAY
        events.append(Event(f"id{n}", device, n + 1, stamp, kind, day, ticket, line, None, data))
    return events


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.randoms(use_true_random=False), st.integers(1, 8))
def test_the_state_does_not_depend_on_arrival_order(
    seed: int, shuffler: random.Random, batches: int
) -> None:
    events = _concurrent_events(seed)
    expected = replay(DAY, events)
    arrival = events[:]
    shuffler.shuffle(arrival)
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "node.sqlite")
        node = LocalService(store, CONFIG, "hub", now=lambda: office_time("2026-11-24 10:00"))
        size = max(1, len(arrival) // batches)
        for start in range(0, len(arrival), size):
            with store.write():
                store.merge(arrival[start : start + size])
            node.refresh()
        assert node.state.tickets == expected.tickets
        assert node.state.lines == expected.lines
        assert node.state.conflicts == expected.conflicts
        store.close()


instants = st.lists(
    st.datetimes(min_value=datetime(2026, 3, 7, 12), max_value=datetime(2026, 3, 9, 12))
    | st.datetimes(min_value=datetime(2026, 10, 31, 12), max_value=datetime(2026, 11, 2, 12)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(instants)
def test_numbers_restart_each_local_day_across_dst(moments: list[datetime]) -> None:
    epoch_ms = sorted(int(m.replace(tzinfo=SAMPLE_ZONE).timestamp() * 1000) for m in moments)
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(epoch_ms[0])
        service = LocalService(EventStore(Path(folder) / "s.sqlite"), CONFIG, "k", now=clock)
        per_day: dict[str, list[int]] = {}
        for ms in epoch_ms:
            clock.ms = ms
            ticket = service.issue("payments")
            local = datetime.fromtimestamp(ms / 1000, SAMPLE_ZONE)
            assert ticket.day == local.date().isoformat() == office_day(ms, SAMPLE_ZONE)
            per_day.setdefault(ticket.day, []).append(int(ticket.label.split("-")[1]))
        for numbers in per_day.values():
            assert numbers == list(range(1, len(numbers) + 1))
