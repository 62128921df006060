"""The projection's waiting index: always what a scan of the day gives, found without one."""

from __future__ import annotations

import json
import random
from collections.abc import ItemsView, Iterator, KeysView, ValuesView

from hypothesis import given, settings
from hypothesis import strategies as st

from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.events import Kind
from nowserving.domain.rules import next_for_counter
from nowserving.domain.state import (
    OfficeState,
    Status,
    Ticket,
    apply,
    from_snapshot,
    replay,
    to_snapshot,
)
from nowserving.domain.views import board_view, line_view, ticket_view
from nowserving.system.paths import sample_config
from tests.domain.builders import PREFIX, Log

CONFIG: OfficeConfig = load_config(sample_config())
LINES = list(PREFIX)
COUNTERS = [counter.id for counter in CONFIG.counters]


def _scanned(state: OfficeState, line: str) -> list[Ticket]:
    """The waiting tickets of a line the slow way: every ticket of the day, sorted."""
    found = [t for t in state.tickets.values() if t.line == line and t.status is Status.WAITING]
    return sorted(found, key=lambda t: (t.queue_key, t.id))


def _ahead_scanned(state: OfficeState, ticket: Ticket) -> int:
    if ticket.status is not Status.WAITING:
        return 0
    waiting = _scanned(state, ticket.line)
    before = [t for t in waiting if t.queue_key < ticket.queue_key]
    if ticket.priority:
        return sum(1 for t in before if t.priority)
    return len(before) + sum(1 for t in waiting if t.priority and t.queue_key > ticket.queue_key)


def _assert_index_matches_scan(state: OfficeState) -> None:
    for line in LINES:
        assert state.waiting(line) == _scanned(state, line)
        assert state.waiting_count(line) == len(_scanned(state, line))
    everyone = sorted(
        (t for t in state.tickets.values() if t.status is Status.WAITING),
        key=lambda t: (t.queue_key, t.id),
    )
    assert list(state.all_waiting()) == everyone
    for ticket in state.tickets.values():
        assert state.ahead(ticket) == _ahead_scanned(state, ticket)


def _random_event(log: Log, rng: random.Random) -> None:
    tickets = list(log.state.tickets)
    choice = rng.randrange(12)
    if choice < 4 or not tickets:
        log.issue(rng.choice(LINES), priority=rng.random() < 0.3)
        return
    ticket = rng.choice(tickets)
    if choice == 4:
        log.call(ticket, rng.choice(COUNTERS))
    elif choice == 5:
        log.on(rng.choice([Kind.TICKET_SERVED, Kind.TICKET_NO_SHOW, Kind.TICKET_LEFT]), ticket)
    elif choice == 6:
        log.on(Kind.TICKET_RETURNED, ticket)
    elif choice == 7:
        log.on(
            Kind.TICKET_TRANSFERRED,
            ticket,
            to_line=rng.choice(LINES),
            keep_place=rng.random() < 0.5,
        )
    elif choice == 8:
        log.add(Kind.LINE_REROUTED, line=rng.choice(LINES), to_line=rng.choice(LINES))
    elif choice == 9:
        log.add(Kind.LINE_REROUTE_ENDED, line=rng.choice(LINES))
    elif choice == 10:
        log.add(Kind.COUNTER_CLOSED, counter=rng.choice(COUNTERS))
    elif rng.random() < 0.1:
        log.add(Kind.DAY_ENDED)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1_000_000), st.integers(1, 120))
def test_the_index_is_what_a_scan_of_the_day_gives(seed: int, steps: int) -> None:
    rng = random.Random(seed)
    log = Log()
    for _ in range(steps):
        _random_event(log, rng)
        _assert_index_matches_scan(log.state)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1_000_000), st.integers(1, 120), st.floats(0, 1))
def test_a_snapshot_restored_then_caught_up_is_the_replayed_day(
    seed: int, steps: int, cut: float
) -> None:
    """What a hub restart does (restore the kept snapshot, apply what came after it) gives
    the state, and the index, of replaying the whole log."""
    rng = random.Random(seed)
    log = Log()
    for _ in range(steps):
        _random_event(log, rng)
    kept = int(len(log.events) * cut)
    saved = json.loads(json.dumps(to_snapshot(replay(log.state.day, log.events[:kept]))))
    restored = from_snapshot(saved)
    assert restored is not None
    for event in log.events[kept:]:
        apply(restored, event)

    assert restored == log.state
    assert list(restored.tickets) == list(log.state.tickets)  # the order codes are found in
    _assert_index_matches_scan(restored)


class _CountingTickets(dict[str, Ticket]):
    """Today's tickets, counting every walk over all of them."""

    walks = 0

    def values(self) -> ValuesView[Ticket]:
        self.walks += 1
        return super().values()

    def items(self) -> ItemsView[str, Ticket]:
        self.walks += 1
        return super().items()

    def keys(self) -> KeysView[str]:
        self.walks += 1
        return super().keys()

    def __iter__(self) -> Iterator[str]:
        self.walks += 1
        return super().__iter__()


def test_actions_and_reads_never_walk_the_whole_day() -> None:
    log = Log()
    for n in range(3000):  # a big day, nearly everyone served already
        ticket = log.issue(LINES[n % len(LINES)], priority=n % 7 == 0)
        if n > 50:
            log.call(ticket, COUNTERS[n % len(COUNTERS)])
            log.on(Kind.TICKET_SERVED, ticket)
    for counter in COUNTERS:
        log.add(Kind.COUNTER_OPENED, counter=counter)
    counting = _CountingTickets(log.state.tickets)
    log.state.tickets = counting

    newcomer = log.issue("permits")
    waiting = log.state.tickets[newcomer]
    log.call(next_for_counter(log.state, ["permits", "licenses"]).id, COUNTERS[0])  # type: ignore[union-attr]
    log.on(Kind.TICKET_TRANSFERRED, newcomer, to_line="records", keep_place=False)
    log.add(Kind.LINE_REROUTED, line="records", to_line="payments")
    board_view(log.state, CONFIG)
    ticket_view(log.state, CONFIG, waiting)
    line_view(log.state, CONFIG, "payments")

    assert counting.walks == 0, "an action or a read walked every ticket of the day"
    _assert_index_matches_scan(log.state)  # and what it answered is still right
