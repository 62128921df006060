"""One request, one effect: a kiosk's fallback ticket and the hub's twin, retried staff actions."""

from __future__ import annotations

import pytest

from nowserving.domain.events import Kind
from nowserving.domain.rules import ticket_label
from nowserving.domain.state import Status, from_snapshot, replay, to_snapshot
from tests.domain.builders import PREFIX, Log

REQUEST = "kiosk-1/4f1c0d2e9a7b"


def _issue(log: Log, ticket: str, number: int, device: str) -> None:
    log.add(
        Kind.TICKET_ISSUED,
        device=device,
        ticket=ticket,
        line="permits",
        number=number,
        label=ticket_label(PREFIX["permits"], number),
        token=f"tok-{ticket}",
        source="kiosk",
        request=REQUEST,
    )


def test_the_fallback_ticket_takes_the_phantoms_place() -> None:
    log = Log()
    first = log.issue("permits")
    _issue(log, "phantom", 2, "hub")  # committed by the hub; the answer was lost
    later = log.issue("permits")
    _issue(log, "printed", 501, "kiosk-1~a1b2c3")  # the kiosk's fallback, same request
    waiting = [t.id for t in log.state.waiting("permits")]
    assert waiting == [first, "printed", later]  # one ticket, at the time it was asked for
    assert not log.state.conflicts, "staff see nothing odd"


def test_a_phantom_already_called_becomes_the_real_ticket_called_there() -> None:
    log = Log()
    _issue(log, "phantom", 1, "hub")
    log.call("phantom", "c1")
    _issue(log, "printed", 501, "kiosk-1~a1b2c3")
    printed = log.state.tickets["printed"]
    assert "phantom" not in log.state.tickets
    assert printed.status is Status.CALLED and printed.counter == "c1"
    assert log.state.counters["c1"].current == "printed"
    assert [(c.ticket, c.label) for c in log.state.calls] == [("printed", "A-501")]
    log.add(Kind.TICKET_SERVED, ticket="phantom", line="permits")  # what the desk saw: counts
    assert printed.status is Status.SERVED and not log.state.conflicts


def test_either_order_by_clock_gives_the_same_office() -> None:
    log = Log()
    _issue(log, "printed", 501, "kiosk-1~a1b2c3")  # the kiosk's clock was behind the hub's
    _issue(log, "phantom", 1, "hub")
    log.add(Kind.TICKET_CALLED, ticket="phantom", line="permits", counter="c1")
    assert set(log.state.tickets) == {"printed"}
    assert log.state.tickets["printed"].counter == "c1"
    again = replay(log.state.day, list(reversed(log.events)))
    assert set(again.tickets) == {"printed"} and again.calls == log.state.calls


def test_another_devices_request_id_is_not_a_twin() -> None:
    log = Log()
    _issue(log, "phantom", 1, "hub")
    _issue(log, "other", 501, "kiosk-2~ffffff")  # names kiosk-1's request: not its own
    assert set(log.state.tickets) == {"phantom"}
    assert log.state.conflicts[-1].reason == "ticket issued twice for one request"


def test_a_staff_action_done_by_the_hub_and_again_offline_counts_once() -> None:
    log = Log()
    first, second = log.issue("permits"), log.issue("permits")
    line = "permits"
    log.add(Kind.TICKET_CALLED, ticket=first, line=line, counter="c1", request="desk-1/r1")
    log.add(Kind.TICKET_CALLED, ticket=second, line=line, counter="c1", request="desk-1/r1")
    assert log.state.tickets[first].status is Status.CALLED
    assert log.state.tickets[second].status is Status.WAITING  # the retry did not act twice


@pytest.mark.parametrize("how", ["transfer", "return"])
def test_the_board_never_shows_one_resident_at_two_counters(how: str) -> None:
    log = Log()
    ticket = log.issue("permits")
    log.call(ticket, "c1")
    if how == "transfer":
        log.on(Kind.TICKET_TRANSFERRED, ticket, to_line="licenses", keep_place=True)
    else:
        log.on(Kind.TICKET_NO_SHOW, ticket)
        log.on(Kind.TICKET_RETURNED, ticket)
    log.call(ticket, "c2")
    assert [c.counter for c in log.state.calls if c.ticket == ticket] == ["c2"]


def test_a_snapshot_keeps_what_folds_requests_together() -> None:
    log = Log()
    _issue(log, "phantom", 2, "hub")
    _issue(log, "printed", 501, "kiosk-1~a1b2c3")
    restored = from_snapshot(to_snapshot(log.state))
    assert restored is not None
    assert (restored.requests, restored.aliases, restored.acted) == (
        log.state.requests,
        log.state.aliases,
        log.state.acted,
    )
    assert [t.id for t in restored.waiting("permits")] == ["printed"]
