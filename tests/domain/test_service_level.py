"""Service levels: met, about to breach, breached, from waits alone and from a day's state."""

from __future__ import annotations

from nowserving.domain.config import OfficeConfig, ServiceLevel
from nowserving.domain.service_level import Level, assess, check_line
from nowserving.service.local import LocalService
from tests.conftest import FakeClock

TARGET = ServiceLevel(within_minutes=20, percent=90)  # horizon: 5 minutes


def test_met_at_risk_and_breached() -> None:
    nine_in_time = [5.0] * 9
    assert assess(TARGET, nine_in_time, [3.0]).level is Level.MET
    assert assess(TARGET, [], []).level is Level.MET  # nobody yet: nothing missed
    # One waiting 16 minutes passes 20 within the horizon: 9 of 10 still holds 90 %.
    assert assess(TARGET, nine_in_time, [16.0]).level is Level.MET
    # Two passing soon would make it 9 of 11: about to breach, not breached yet.
    at_risk = assess(TARGET, nine_in_time, [16.0, 19.5])
    assert (at_risk.level, at_risk.soon_late, at_risk.achieved) == (Level.AT_RISK, 2, 100.0)
    # Waiting past the target counts as late already.
    breached = assess(TARGET, nine_in_time, [21.0, 25.0])
    assert (breached.level, breached.late) == (Level.BREACHED, 2)
    assert assess(TARGET, [25.0, 5.0], []).level is Level.BREACHED
    assert "about to miss" in at_risk.sentence(TARGET, "Permits")
    assert assess(TARGET, nine_in_time, []).sentence(TARGET, "Permits") == ""


def test_a_line_checked_from_the_day_state(
    service: LocalService, config: OfficeConfig, clock: FakeClock
) -> None:
    lines = [
        line.model_copy(update={"service_level": TARGET}) if line.id == "permits" else line
        for line in config.lines
    ]
    with_target = config.model_copy(update={"lines": lines})
    service.open_counter("c1", staff="maria")
    service.issue("permits")
    clock.advance(minutes=17)  # within 5 minutes of the target: 0 of 1 would be in time
    check = check_line(service.state, with_target, "permits", clock())
    assert check is not None and check.level is Level.AT_RISK
    clock.advance(minutes=4)
    check = check_line(service.state, with_target, "permits", clock())
    assert check is not None and check.level is Level.BREACHED
    assert check_line(service.state, with_target, "records", clock()) is None  # no target
