from __future__ import annotations

from nowserving.estimate import estimate_wait, service_minutes


def test_nobody_ahead_is_a_short_wait() -> None:
    wait = estimate_wait(0, 2, 8)
    assert wait.low == 0 and wait.high == 4


def test_more_counters_shorten_the_wait() -> None:
    one, three = estimate_wait(9, 1, 6), estimate_wait(9, 3, 6)
    assert three.high < one.high and three.low < one.low
    assert one.low < 54 < one.high  # 9 ahead x 6 min at one counter


def test_no_counter_open_is_flagged() -> None:
    assert not estimate_wait(3, 0, 5).known
    assert estimate_wait(3, 1, 5).known


def test_service_time_starts_from_the_config_and_learns() -> None:
    assert service_minutes([], 8) == 8
    two_minutes = [120_000] * 20
    learned = service_minutes(two_minutes, 8)
    assert 2 < learned < 4  # pulled strongly toward what was observed
    assert service_minutes(two_minutes[:1], 8) > learned  # one sample moves it less
