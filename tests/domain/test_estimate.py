from __future__ import annotations

from nowserving.domain.estimate import (
    CounterLoad,
    correction,
    queue_schedule,
    service_minutes,
    wait_range,
)

MINUTES = {"a": 10.0, "b": 4.0}


def queue_wait(
    counters: list[CounterLoad], ahead: list[str], line: str, minutes: dict[str, float]
) -> float | None:
    """When a resident of `line` behind `ahead` is called, from the office-wide schedule."""
    waiting = [(f"t{n}", other) for n, other in enumerate(ahead)] + [("me", line)]
    plan = queue_schedule(counters, waiting, minutes)
    return plan.called_in.get("me")


def test_nobody_ahead_at_a_free_counter_is_a_short_wait() -> None:
    wait = queue_wait([CounterLoad(0, frozenset({"a"}))], [], "a", MINUTES)
    assert wait == 0
    shown = wait_range(wait, 10)
    assert shown.low == 0 and shown.high == 5 and shown.known


def test_more_counters_shorten_the_wait() -> None:
    ahead = ["a"] * 6
    one = queue_wait([CounterLoad(0, frozenset({"a"}))], ahead, "a", MINUTES)
    three = queue_wait([CounterLoad(0, frozenset({"a"}))] * 3, ahead, "a", MINUTES)
    assert one == 60 and three == 20


def test_a_shared_counter_serves_the_oldest_resident_of_either_line() -> None:
    # One counter for lines a and b: the two older b residents go before our a resident.
    shared = [CounterLoad(0, frozenset({"a", "b"}))]
    assert queue_wait(shared, ["b", "b"], "a", MINUTES) == 8
    assert queue_wait(shared, ["a", "b"], "a", MINUTES) == 14


def test_no_counter_for_the_line_is_flagged() -> None:
    assert queue_wait([CounterLoad(0, frozenset({"b"}))], ["a"], "a", MINUTES) is None
    assert queue_schedule([CounterLoad(0, frozenset({"b"}))], [], MINUTES).newcomer("a") is None
    assert not wait_range(None, 10).known


def test_a_newcomer_waits_for_everyone_already_there() -> None:
    plan = queue_schedule(
        [CounterLoad(0, frozenset({"a", "b"}))], [("x", "a"), ("y", "b")], MINUTES
    )
    assert plan.called_in == {"x": 0, "y": 10} and plan.newcomer("b") == 14


def test_the_range_brackets_the_centre_and_learns_from_the_day() -> None:
    shown = wait_range(20, 10)
    assert shown.low < 20 < shown.high
    assert wait_range(20, 10, correction([1.5] * 20)).expected > 20 * 1.3
    assert correction([]) == 1.0


def test_service_time_starts_from_the_config_and_learns() -> None:
    assert service_minutes([], 8) == 8
    two_minutes = [120_000] * 20
    learned = service_minutes(two_minutes, 8)
    assert 2 < learned < 4
    assert service_minutes(two_minutes[:1], 8) > learned
