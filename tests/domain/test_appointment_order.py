"""Appointments in line: placed by their slot's time, called once it has come, but never
more than `max_in_a_row` in a row at a counter while walk-ins wait (rules.next_for_counter)."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Kind
from nowserving.domain.rules import decide_call_next, next_for_counter
from nowserving.domain.state import replay
from tests.domain.builders import DAY, Log

MINUTE = 60_000


def _call_next(log: Log, config: OfficeConfig, counter: str) -> str:
    """Call the next resident to `counter` as the service does, and serve them."""
    draft = decide_call_next(log.state, config, counter, now=log.wall)
    assert draft is not None and draft.ticket is not None
    log.add(draft.kind, ticket=draft.ticket, line=draft.line, **draft.data)
    log.on(Kind.TICKET_SERVED, draft.ticket)
    return draft.ticket


def test_a_due_appointment_goes_before_walk_ins_but_at_most_twice_in_a_row(
    config: OfficeConfig,
) -> None:
    log = Log()
    walk_ins = [log.issue("permits") for _ in range(3)]
    slot = log.wall  # the slot has begun: all three booked residents are due
    booked = [log.issue("permits", appointment=slot) for _ in range(3)]
    order = [_call_next(log, config, "c1") for _ in range(6)]
    assert order == [booked[0], booked[1], walk_ins[0], booked[2], walk_ins[1], walk_ins[2]]
    assert config.booking.max_in_a_row == 2


def test_an_early_appointment_waits_for_its_slot_unless_nobody_else_waits(
    config: OfficeConfig,
) -> None:
    log = Log()
    early = log.issue("permits", appointment=log.wall + 30 * MINUTE)
    walk_in = log.issue("permits")
    assert _call_next(log, config, "c1") == walk_in  # its slot has not come yet
    assert _call_next(log, config, "c1") == early  # nobody else waits: served early


def test_without_walk_ins_appointments_have_no_limit(config: OfficeConfig) -> None:
    log = Log()
    booked = [log.issue("permits", appointment=log.wall) for _ in range(4)]
    assert [_call_next(log, config, "c1") for _ in range(4)] == booked
    assert log.state.counters["c1"].booked_streak == 0


def test_people_ahead_count_due_appointments_not_later_ones() -> None:
    log = Log()
    first = log.issue("permits")
    due = log.issue("permits", appointment=log.wall - 5 * MINUTE)
    later = log.issue("permits", appointment=log.wall + 60 * MINUTE)
    walk_in = log.issue("permits")
    state = log.state
    assert state.ahead(state.tickets[due]) == 0  # first of the appointments
    assert state.ahead(state.tickets[later]) == 1
    assert state.ahead(state.tickets[first]) == 1  # the due appointment goes first
    assert state.ahead(state.tickets[walk_in]) == 2
    assert state.newcomer_ahead("permits", priority=False) == 3
    assert next_for_counter(state, ["permits"], now=log.wall) is state.tickets[due]


def test_the_order_survives_a_replay_and_a_late_move(config: OfficeConfig) -> None:
    log = Log()
    log.issue("permits")
    booked = log.issue("permits", appointment=log.wall)
    log.issue("permits")
    log.on(Kind.TICKET_LATE, booked, places=1)  # moves back among appointments only
    again = replay(DAY, log.events)
    assert [t.id for t in again.waiting("permits")] == [t.id for t in log.state.waiting("permits")]
    assert again.tickets[booked].slot == log.state.tickets[booked].slot is not None
