"""What the views derive from the state for the screens (pure, no store)."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig
from nowserving.domain.events import Kind
from nowserving.domain.views import board_view, transfer_concern
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
