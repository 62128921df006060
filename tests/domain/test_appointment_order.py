"""Appointments in line: placed by their slot's time, called once it has come, but never
more than `max_in_a_row` in a row at a counter while walk-ins who have waited
`fair_after_minutes` wait (rules.next_for_counter)."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Kind
from nowserving.domain.rules import decide_call_next, next_for_counter
from nowserving.domain.state import replay
from nowserving.domain.views import wait_for
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
    log.wall += config.booking.fair_after_minutes * MINUTE  # they have waited long enough
    slot = log.wall  # the slot has begun: all three booked residents are due
    booked = [log.issue("permits", appointment=slot) for _ in range(3)]
    order = [_call_next(log, config, "c1") for _ in range(6)]
    assert order == [booked[0], booked[1], walk_ins[0], booked[2], walk_ins[1], walk_ins[2]]
    assert config.booking.max_in_a_row == 2


def test_walk_ins_who_just_came_do_not_hold_due_appointments_back(config: OfficeConfig) -> None:
    """The cap counts only once the walk-in it would pass has waited `fair_after_minutes`:
    until then due appointments go on, and then the walk-in gets the next turn."""
    assert config.booking.fair_after_minutes == 30
    log = Log()
    walk_in = log.issue("permits")
    booked = [log.issue("permits", appointment=log.wall) for _ in range(4)]
    assert [_call_next(log, config, "c1") for _ in range(3)] == booked[:3]
    assert log.state.counters["c1"].booked_streak == 3  # past the cap: the walk-in is new
    log.wall += 30 * MINUTE
    assert _call_next(log, config, "c1") == walk_in  # waited long enough: their turn
    assert _call_next(log, config, "c1") == booked[3]


def test_appointments_of_one_slot_go_in_the_order_they_checked_in(config: OfficeConfig) -> None:
    log = Log()
    slot = log.wall + 2 * MINUTE
    booked = [log.issue("permits", appointment=slot) for _ in range(10)]  # permits-10 < -2
    assert [_call_next(log, config, "c1") for _ in range(10)] == booked


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


def test_a_walk_ins_wait_counts_bookings_whose_slot_comes_while_it_waits(
    config: OfficeConfig,
) -> None:
    """Bookings not checked in yet (the hub's store knows them) go first too when their
    slot comes before the walk-in's turn; later ones do not change the estimate."""
    log = Log()
    log.add(Kind.COUNTER_OPENED, counter="c1")
    for _ in range(3):
        log.issue("permits")
    walk_in = log.state.tickets[log.issue("permits")]
    alone = wait_for(log.state, config, "permits", walk_in)
    soon = [log.wall + 10 * MINUTE] * 2  # two bookings of a slot in 10 minutes
    later = [log.wall + 5 * 60 * MINUTE]
    assert wait_for(log.state, config, "permits", walk_in, booked=later) == alone
    counted = wait_for(log.state, config, "permits", walk_in, booked=soon + later)
    assert counted.expected > alone.expected + 12  # two services more (12 minutes each)
    assert wait_for(log.state, config, "permits", booked=soon).expected > counted.expected
