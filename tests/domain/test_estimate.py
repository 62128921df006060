"""The wait model: a point and a range from the sum of service times ahead."""

from __future__ import annotations

import itertools
import math

import pytest

from nowserving.domain.estimate import (
    Counter,
    ServiceTime,
    WaitRange,
    ahead_work,
    estimate,
    out_of_order_share,
    plain_wait,
    remaining,
    service_time,
    work,
)
from nowserving.system import i18n
from nowserving.system.paths import resources_dir

TEN = ServiceTime(mean=10.0, var=16.0, weight=25)  # ten minutes, well observed


def wait(ahead: int, counters: list[Counter], service: ServiceTime = TEN) -> WaitRange:
    return estimate(ahead_work(ahead, service, 0.0), counters, service)


def busy(count: int, free_in: float = 5.0) -> list[Counter]:
    return [Counter(free_in)] * count


def test_the_point_and_the_range_grow_with_the_people_ahead() -> None:
    shown = [wait(n, busy(2)) for n in range(40)]
    for before, after in itertools.pairwise(shown):
        assert after.point >= before.point and after.low >= before.low
        assert after.high >= before.high
    assert all(w.low <= w.point <= w.high for w in shown)


def test_the_range_narrows_relative_to_its_size_as_more_are_ahead() -> None:
    def relative_width(ahead: int) -> float:
        shown = wait(ahead, busy(1))
        return (shown.high - shown.low) / shown.point

    # The capacity doubt keeps a floor under it; the service times' spread shrinks like 1/√n.
    assert relative_width(2) > relative_width(8) > relative_width(30)


def test_more_counters_shorten_the_wait() -> None:
    one, three = wait(6, busy(1)), wait(6, busy(3))
    assert three.point < one.point / 2
    assert math.isclose(one.expected, 5 + 60)  # the current service, then six more


def test_nobody_ahead_and_a_counter_free_is_you_are_next() -> None:
    shown = wait(0, [Counter(0.0), Counter(7.0)])
    assert shown.next and shown.known and shown.point == 0 and shown.low == 0


def test_nobody_ahead_but_every_counter_busy_is_the_time_until_one_frees() -> None:
    shown = wait(0, [Counter(7.0), Counter(3.0)])
    assert not shown.next
    assert shown.expected == 3.0  # the soonest end of a current service
    assert shown.low <= 3 <= shown.high
    assert remaining(TEN, elapsed=4) == 6 and remaining(TEN, elapsed=30) == 2  # never 0


def test_no_counter_serving_the_line_is_flagged() -> None:
    assert not wait(3, []).known


def test_a_shared_counter_is_counted_once() -> None:
    # Line a has a counter of its own and one shared with b, where older residents wait.
    own = Counter(5.0)
    alone = wait(4, [own])
    shared_only_here = Counter(0.0, ((work(12, TEN), 1),))  # b has no other counter
    assert wait(4, [own, shared_only_here]).expected == alone.expected  # busy with b: no help
    shared_with_help = Counter(0.0, ((work(3, TEN), 2),))  # b has a counter of its own too
    helped = wait(4, [own, shared_with_help]).expected
    assert helped < alone.expected
    assert helped > wait(4, [own, Counter(0.0)]).expected  # but less than a counter of a's own


def test_an_empty_line_whose_only_counter_is_busy_elsewhere_says_so() -> None:
    # Nobody waits in a, its only counter also serves b where 6 older residents wait.
    counter = Counter(0.0, ((work(6, TEN), 1),))
    shown = wait(0, [counter])
    assert not shown.next and shown.expected == 60


def test_residents_passing_add_to_the_wait() -> None:
    in_order = estimate(ahead_work(10, TEN, 0.0), busy(1), TEN)
    passed = estimate(
        ahead_work(10, TEN, out_of_order_share(calls=95, out_of_order=20)), busy(1), TEN
    )
    assert passed.expected > in_order.expected
    assert out_of_order_share(0, 0) == 0 and out_of_order_share(10, 10) == 0.5  # bounded


@pytest.mark.parametrize("ahead", [0, 1, 5, 500, 10**6])
@pytest.mark.parametrize("free_in", [0.0, 0.001, 3.0, 1e6])
def test_no_negative_no_nan_and_bounded(ahead: int, free_in: float) -> None:
    for service in (TEN, service_time([], 0.5), service_time([0, 0, 0], 8)):
        shown = estimate(ahead_work(ahead, service, 0.3), busy(2, free_in), service)
        numbers = (shown.low, shown.high, shown.point, shown.expected)
        assert all(not math.isnan(n) and n >= 0 for n in numbers)
        assert shown.low <= shown.point <= shown.high <= 10_000


def test_service_time_starts_from_the_config_and_learns() -> None:
    prior = service_time([], 8)
    assert prior.mean == 8 and prior.var == 16
    learned = service_time([120_000] * 20, 8)  # twenty 2-minute services
    assert 2 < learned.mean < 4 and learned.weight == 25
    assert service_time([120_000], 8).mean > learned.mean
    steady = service_time([120_000] * 20, 2)
    assert steady.var < learned.var  # today's spread, once seen, replaces the prior's


def test_the_plain_formula() -> None:
    assert plain_wait(6, 10, 3) == 20
    assert plain_wait(6, 10, 0) is None


def test_the_point_comes_first_in_every_language() -> None:
    about = WaitRange(15, 25, point=20)
    assert i18n.wait_text("en", about) == "about 20 min (15–25)"
    assert i18n.wait_text("en", WaitRange(0, 1, next=True)) == "you are next"
    assert i18n.wait_text("en", WaitRange(0, 3, point=0)) == "under 3 min"
    assert i18n.wait_text("en", WaitRange(0, 0, known=False)) == i18n.text(
        "en", "common.no_counter_open"
    )
    languages = sorted(path.stem for path in (resources_dir() / "i18n").glob("*.json"))
    assert len(languages) >= 5
    for lang in languages:
        for key in ("common.minutes_about", "common.wait_next"):
            assert key in i18n.catalog(lang), f"{lang} lacks {key}"
        text = i18n.wait_text(lang, about)
        assert "20" in text and "15" in text and "25" in text, text
        assert text.index("20") < text.index("15"), f"{lang}: the point comes first"
