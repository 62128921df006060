"""Which lines' views an event may change: live updates skip the followers of the others."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from nowserving.domain.config import OfficeConfig, load_config
from nowserving.domain.events import Kind
from nowserving.domain.state import OfficeState, apply
from nowserving.domain.views import TicketView, lines_touched, linked_lines, ticket_view, wait_for
from nowserving.system.paths import sample_config
from tests.domain.builders import DAY, PREFIX, Log

CONFIG: OfficeConfig = load_config(sample_config())
LINKED = linked_lines(CONFIG)
LINES = list(PREFIX)
COUNTERS = [counter.id for counter in CONFIG.counters]


def test_lines_sharing_counters_are_linked_and_the_others_are_not() -> None:
    # Sample office: c2 serves permits and licenses, c3 licenses and payments, c4 records and ids.
    assert LINKED["permits"] == {"permits", "licenses", "payments"}
    assert LINKED["ids"] == {"ids", "records"}


def _views(state: OfficeState, at: int) -> dict[str, TicketView]:
    """Every ticket's view, its wait counted from `at` (not from the latest event's time)."""
    return {
        ticket.id: replace(
            ticket_view(state, CONFIG, ticket),
            wait=wait_for(state, CONFIG, ticket.line, ticket, now=at),
        )
        for ticket in state.tickets.values()
    }


def _random_day(rng: random.Random, events: int) -> Log:
    log = Log()
    for counter in COUNTERS:
        log.add(Kind.COUNTER_OPENED, counter=counter)
    for _ in range(events):
        tickets = list(log.state.tickets)
        choice = rng.randrange(10)
        if choice < 4 or not tickets:
            log.issue(rng.choice(LINES), priority=rng.random() < 0.3)
            continue
        ticket = rng.choice(tickets)
        if choice < 6:
            log.call(ticket, rng.choice(COUNTERS))
        elif choice == 6:
            log.on(rng.choice([Kind.TICKET_SERVED, Kind.TICKET_NO_SHOW, Kind.TICKET_LEFT]), ticket)
        elif choice == 7:
            log.on(Kind.TICKET_RETURNED, ticket)
        elif choice == 8:
            log.on(Kind.TICKET_TRANSFERRED, ticket, to_line=rng.choice(LINES), keep_place=True)
        else:
            kind = rng.choice([Kind.LINE_PAUSED, Kind.COUNTER_CLOSED, Kind.COUNTER_OPENED])
            log.add(kind, line=rng.choice(LINES), counter=rng.choice(COUNTERS), reason="")
    return log


@pytest.mark.parametrize("seed", range(4))
def test_an_event_changes_no_view_outside_the_lines_it_touches(seed: int) -> None:
    log = _random_day(random.Random(seed), 250)
    at = log.wall + 600_000  # one clock for the waits: only the events differ
    state = OfficeState(DAY)
    skipped = 0
    for event in log.events:
        touched = lines_touched(state, CONFIG, event, LINKED)
        before = _views(state, at)
        apply(state, event)
        if touched is None:
            continue
        after = _views(state, at)
        for ticket, view in before.items():
            if view.line not in touched and after[ticket].line not in touched:
                assert after[ticket] == view, (event, ticket)
                skipped += 1
    assert skipped > 100  # the rule does leave lines out (random calls link many of them)
