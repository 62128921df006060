"""What the views derive from the state for the screens (pure, no store)."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Kind
from nowserving.domain.views import board_view, transfer_concern, wait_for
from tests.domain.builders import Log


def test_a_transfer_to_a_line_no_open_counter_serves_is_flagged(config: OfficeConfig) -> None:
    log = Log()
    log.add(Kind.COUNTER_OPENED, counter="c3")  # licenses and payments
    assert transfer_concern(board_view(log.state, config), "licenses") == ""
    concern = transfer_concern(board_view(log.state, config), "records")
    assert concern.startswith("No open counter serves that line")
    # A line rerouted to a served one is served (its residents are sent on).
    log.add(Kind.LINE_REROUTED, line="records", to_line="payments")
    assert transfer_concern(board_view(log.state, config), "records") == ""
    log.add(Kind.LINE_PAUSED, line="payments", reason="Till count")
    assert "paused (Till count)" in transfer_concern(board_view(log.state, config), "records")
    log.add(Kind.COUNTER_CLOSED, counter="c3")
    assert transfer_concern(board_view(log.state, config), "licenses").startswith("No open")


def test_a_walk_ins_estimate_counts_appointments_whose_slot_comes_while_it_waits(
    config: OfficeConfig,
) -> None:
    def walk_in_wait(slot_in_minutes: int | None) -> int:
        log = Log()
        log.add(Kind.COUNTER_OPENED, counter="c1")
        for _ in range(4):
            log.issue("permits")
        if slot_in_minutes is not None:
            log.issue("permits", appointment=log.wall + slot_in_minutes * 60_000)
        ticket = log.state.tickets[log.issue("permits")]
        return wait_for(log.state, config, "permits", ticket).point

    alone = walk_in_wait(None)
    assert walk_in_wait(10) > alone  # its slot comes before this walk-in is called
    assert walk_in_wait(3 * 60) == alone  # long after: it does not hold this one up
