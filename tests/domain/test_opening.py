"""Opening hours: open, closed, full for today, remote join closing early, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowserving.domain.config import WEEKDAYS, OfficeConfig, day_spans, parse_config
from nowserving.domain.errors import ConfigError, Rejected
from nowserving.domain.opening import hours_at, local_date, local_instant, next_opening, spans
from nowserving.domain.rules import check_hours
from nowserving.system import i18n
from nowserving.system.paths import sample_config
from tests.conftest import SAMPLE_ZONE, office_time

SAMPLE = sample_config().read_text(encoding="utf-8")
CALENDAR = """
[calendar]
closed = [2026-12-25]
stop_when_full = true
remote_join_closes_before = 45

[calendar.hours]
mon = "08:00-16:00"
tue = "08:00-16:00"
wed = "08:00-12:00, 13:00-16:00"
thu = "08:00-16:00"
fri = "08:00-14:00"

[calendar.lines.payments]
fri = "08:00-12:00"
"""


def office(calendar: str = CALENDAR) -> OfficeConfig:
    return parse_config(SAMPLE + calendar)


CONFIG = office()


def test_open_within_hours_closed_outside_and_on_holidays() -> None:
    assert hours_at(CONFIG, "payments", office_time("2026-11-24 09:00")).status == "open"
    assert hours_at(CONFIG, "payments", office_time("2026-11-24 07:59")).status == "closed"
    assert hours_at(CONFIG, "payments", office_time("2026-11-24 16:00")).status == "closed"
    lunch = hours_at(CONFIG, "payments", office_time("2026-11-25 12:30"))  # a Wednesday
    assert (lunch.status, lunch.opens_at) == ("closed", office_time("2026-11-25 13:00"))
    christmas = hours_at(CONFIG, "payments", office_time("2026-12-25 10:00"))  # a Friday
    assert christmas.opens_at == office_time("2026-12-28 08:00")  # Monday


def test_a_line_closes_earlier_than_the_office() -> None:
    friday = office_time("2026-11-27 12:30")
    assert hours_at(CONFIG, "payments", friday).status == "closed"
    assert hours_at(CONFIG, "permits", friday).status == "open"


def test_full_when_the_wait_runs_past_closing_and_remote_join_closes_first() -> None:
    at = office_time("2026-11-24 15:00")
    assert hours_at(CONFIG, "payments", at, wait_minutes=50).status == "open"
    full = hours_at(CONFIG, "payments", at, wait_minutes=61)
    assert (full.status, full.opens_at) == ("full", office_time("2026-11-25 08:00"))
    assert hours_at(CONFIG, "payments", at, wait_minutes=None).remote_open  # 60 min to closing
    assert hours_at(CONFIG, "payments", office_time("2026-11-24 15:14")).remote_open
    assert not hours_at(CONFIG, "payments", office_time("2026-11-24 15:16")).remote_open
    lenient = office(CALENDAR.replace("stop_when_full = true", "stop_when_full = false"))
    assert hours_at(lenient, "payments", at, wait_minutes=600).status == "open"


def test_refusals_carry_their_codes() -> None:
    for at, wait, remote, code in (
        ("2026-11-24 07:00", None, False, "line_closed"),
        ("2026-11-24 15:00", 90, False, "line_full"),
        ("2026-11-24 15:30", 5, True, "remote_closed"),
    ):
        with pytest.raises(Rejected) as refused:
            check_hours(hours_at(CONFIG, "payments", office_time(at), wait), remote=remote)
        assert refused.value.code == code
    check_hours(hours_at(CONFIG, "payments", office_time("2026-11-24 15:30"), 5))  # walk-in: ok


def test_no_calendar_means_always_open() -> None:
    plain = parse_config(SAMPLE)
    assert hours_at(plain, "payments", office_time("2026-11-29 03:00"), 10_000).status == "open"


@pytest.mark.parametrize(
    ("right", "wrong", "message"),
    [
        (
            'fri = "08:00-12:00"',
            'fri = "08:00-18:00"',
            "calendar.lines.payments.fri: '08:00-18:00' is outside",
        ),
        (
            'mon = "08:00-16:00"',
            'mon = "16:00-08:00"',
            "calendar.hours: mon: '16:00-08:00' closes before it opens",
        ),
        ("= 45", "= 9999", "calendar.remote_join_closes_before: Input should be less"),
        (
            "[calendar.lines.payments]",
            "[calendar.lines.nope]",
            "calendar.lines: there is no line 'nope'",
        ),
    ],
)
def test_mistakes_are_named_like_check_config(right: str, wrong: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(SAMPLE + CALENDAR.replace(right, wrong, 1), "office.toml")
    assert f"office.toml: {message}" in str(error.value)


def test_the_calendar_travels_with_the_office_document() -> None:
    from nowserving.domain.config import office_document, office_from_document, public_office

    copy = office_from_document(office_document(public_office(CONFIG, "kiosk")))
    assert copy.calendar == CONFIG.calendar


def test_texts_say_when_it_opens_in_each_language() -> None:
    now = office_time("2026-11-28 10:00")  # a Saturday
    closed = hours_at(CONFIG, "payments", now)
    assert i18n.hours_text("en", closed, SAMPLE_ZONE) == "Closed — opens Monday at 8:00"
    assert i18n.hours_text("es", closed, SAMPLE_ZONE) == "Cerrado — abre el lunes a las 8:00"
    assert "星期一 8:00" in i18n.hours_text("zh", closed, SAMPLE_ZONE)
    at = office_time("2026-11-24 15:00")
    full = hours_at(CONFIG, "payments", at, 90)
    assert i18n.hours_text("en", full, SAMPLE_ZONE) == (
        "Full for today. Come back tomorrow from 8:00."
    )
    remote = hours_at(CONFIG, "payments", office_time("2026-11-24 15:30"), 5)
    assert i18n.hours_text("en", remote, SAMPLE_ZONE) == ""
    assert "16:00" in i18n.hours_text("vi", remote, SAMPLE_ZONE, remote=True)
    friday = office_time("2026-12-18 15:00")  # then closed until after a week of holidays
    week = ", ".join(f"2026-12-{day}" for day in range(21, 29))
    holidays = office(CALENDAR.replace("[2026-12-25]", f"[{week}]"))
    later = hours_at(holidays, "permits", friday + 3_600_000)
    assert i18n.hours_text("en", later, SAMPLE_ZONE) == (
        "Closed — opens Tuesday 2026-12-29 at 8:00"
    )


# -- across DST days (the sample office is in America/Los_Angeles) ------------------------

DST_DAYS = [date(2026, 3, 8), date(2026, 11, 1)]  # spring forward, fall back
minutes = st.integers(0, 1440)


@st.composite
def week_hours(draw: st.DrawFn) -> dict[str, str]:
    """Random opening hours, some in the small hours where the clocks change."""
    week = {}
    for name in WEEKDAYS:
        cuts = sorted(draw(st.sets(minutes, max_size=6)))
        pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if b > a]
        spans_text = [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in pairs]
        week[name] = ", ".join(spans_text)
    return week


def _calendar(week: dict[str, str]) -> OfficeConfig:
    table = ", ".join(f'{day} = "{text}"' for day, text in week.items())
    return parse_config(SAMPLE + f"\n[calendar]\nhours = {{ {table} }}\n")


moments = st.sampled_from(DST_DAYS).flatmap(
    lambda day: st.integers(-12 * 60, 36 * 60).map(
        lambda m: (
            int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
            + (m + 8 * 60) * 60_000
        )
    )
)


@settings(max_examples=40, deadline=None)
@given(week_hours(), moments)
def test_open_exactly_when_the_wall_clock_is_inside_a_span(week: dict[str, str], at: int) -> None:
    config = _calendar(week)
    assert config.calendar is not None
    local = datetime.fromtimestamp(at / 1000, SAMPLE_ZONE)
    wall = local.hour * 60 + local.minute
    configured = day_spans(week[WEEKDAYS[local.weekday()]])
    repeated = local.fold == 1 or local.replace(fold=1).utcoffset() != local.utcoffset()
    hours = hours_at(config, "payments", at)
    if not repeated:  # in the repeated hour a time means its first occurrence (checked below)
        inside = any(start <= wall < end for start, end in configured)
        assert (hours.status == "open") == inside, (local, configured)
    if hours.status == "open":
        assert hours.closes_at is not None and hours.closes_at > at
    elif hours.opens_at is not None:
        # It opens at a configured wall time (or when the clocks jump past it), and not before.
        assert hours.opens_at > at
        opens = datetime.fromtimestamp(hours.opens_at / 1000, SAMPLE_ZONE)
        starts = [s for s, _ in day_spans(week[WEEKDAYS[opens.weekday()]])]
        wall_open = opens.hour * 60 + opens.minute
        skipped = [
            s
            for s in starts
            if s <= wall_open and local_instant(opens.date(), s, SAMPLE_ZONE) == hours.opens_at
        ]
        assert wall_open in starts or skipped, (opens, starts)
        assert hours_at(config, "payments", hours.opens_at).status == "open"
        for step in range(1, 9):  # closed in between, sampled
            between = at + (hours.opens_at - at) * step // 9
            assert hours_at(config, "payments", between).status == "closed"


@settings(max_examples=40, deadline=None)
@given(week_hours(), st.sampled_from(DST_DAYS))
def test_spans_keep_their_order_and_length_on_dst_days(week: dict[str, str], day: date) -> None:
    config = _calendar(week)
    assert config.calendar is not None
    instants = spans(config.calendar, SAMPLE_ZONE, "payments", day)
    flat = [x for span in instants for x in span]
    assert flat == sorted(flat)  # never backwards, no overlap
    configured = day_spans(week[WEEKDAYS[day.weekday()]])
    for (start, end), (a, b) in zip(instants, configured, strict=True):
        assert abs((end - start) - (b - a) * 60_000) <= 3_600_000  # at most the hour DST moves
        assert local_date(start, SAMPLE_ZONE) == day


def test_a_time_skipped_by_dst_means_the_jump() -> None:
    spring = date(2026, 3, 8)
    jump = local_instant(spring, 3 * 60, SAMPLE_ZONE)
    assert local_instant(spring, 2 * 60 + 30, SAMPLE_ZONE) == jump
    assert datetime.fromtimestamp(jump / 1000, SAMPLE_ZONE).hour == 3
    fall = date(2026, 11, 1)
    first = local_instant(fall, 90, SAMPLE_ZONE)  # 01:30 happens twice: the first one
    assert local_instant(fall, 60, SAMPLE_ZONE) < first < local_instant(fall, 120, SAMPLE_ZONE)
    assert local_instant(fall, 120, SAMPLE_ZONE) - first == 90 * 60_000
    assert CONFIG.calendar is not None
    monday = office_time("2026-03-09 08:00")
    assert next_opening(CONFIG.calendar, SAMPLE_ZONE, "payments", jump) == monday
