"""Opening hours and time counted in them (quiz.core.opening_hours): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiz.core.opening_hours import (
    ALWAYS_OPEN,
    OpeningHours,
    after_open_time,
    is_open,
    open_time,
    parse_opening_hours,
)

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = parse_opening_hours({"mon-fri": "09:00-18:00", "sat": "10:00-12:30, 13:00-16:00"})


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def test_the_format_reads_days_ranges_and_closed_days() -> None:
    assert WEEKDAYS.days[0] == ((540, 1080),)  # Monday
    assert WEEKDAYS.days[5] == ((600, 750), (780, 960))  # Saturday, with a lunch break
    assert WEEKDAYS.days[6] == ()  # Sunday: not named, closed
    wrapped = parse_opening_hours('{"fri-mon": "00:00-24:00"}')  # JSON text, a wrapping range
    assert [bool(d) for d in wrapped.days] == [True, False, False, False, True, True, True]
    assert parse_opening_hours(None) == ALWAYS_OPEN
    assert "sat 10:00-12:30, 13:00-16:00" in WEEKDAYS.describe()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"mon": "9-5"}, "is not a range"),
        ({"mon": "17:00-09:00"}, "open before it closes"),
        ({"mon": "09:00-24:30"}, "open before it closes"),
        ({"mon": "09:00-12:00, 11:00-13:00"}, "overlap"),
        ({"sun": "closed"}, "closed every day"),
        ({"someday": "09:00-10:00"}, "name days as mon"),
        ({"mon": 9}, "hours must be text"),
        ("not json", "JSON object"),
        (["mon"], "must map weekdays"),
    ],
)
def test_mistakes_are_refused_with_a_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_opening_hours(value)


def test_a_night_lead_waits_until_the_spa_opens() -> None:
    # Tuesday 03:00 in New York; open 09:00: 30 minutes of opening hours end at 09:30.
    arrived = local(2026, 11, 17, 3, 0)
    due = after_open_time(WEEKDAYS, NEW_YORK, arrived, timedelta(minutes=30))
    assert due == local(2026, 11, 17, 9, 30)
    assert open_time(WEEKDAYS, NEW_YORK, arrived, local(2026, 11, 17, 9, 4)) == timedelta(minutes=4)


def test_friday_evening_carries_over_the_closed_sunday() -> None:
    arrived = local(2026, 11, 20, 17, 50)  # Friday, 10 minutes before closing
    due = after_open_time(WEEKDAYS, NEW_YORK, arrived, timedelta(minutes=30))
    assert due == local(2026, 11, 21, 10, 20)  # Saturday 10:00 + the remaining 20
    # Saturday's lunch break does not count.
    span = open_time(WEEKDAYS, NEW_YORK, local(2026, 11, 21, 12, 0), local(2026, 11, 21, 13, 30))
    assert span == timedelta(minutes=60)


def test_daylight_saving_keeps_the_spas_wall_clock() -> None:
    # 2026-11-01: clocks go back an hour in New York; Monday still opens at 09:00 local.
    arrived = local(2026, 10, 31, 20, 0)  # Saturday night, after closing
    due = after_open_time(WEEKDAYS, NEW_YORK, arrived, timedelta(minutes=30))
    assert due == local(2026, 11, 2, 9, 30)
    assert due.astimezone(UTC).hour == 14  # EST, no longer EDT


def test_is_open() -> None:
    assert is_open(WEEKDAYS, NEW_YORK, local(2026, 11, 17, 9, 0))
    assert not is_open(WEEKDAYS, NEW_YORK, local(2026, 11, 17, 18, 0))
    assert not is_open(WEEKDAYS, NEW_YORK, local(2026, 11, 22, 11, 0))  # Sunday


# --- properties ----------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"])
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
WAITS = st.integers(min_value=0, max_value=20 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def schedules(draw: st.DrawFn) -> OpeningHours:
    """Any valid week: each day closed, or one to three ordered, non-overlapping spans."""
    days = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
        cuts = cuts[: len(cuts) // 2 * 2]
        days.append(tuple((a * 15, b * 15) for a, b in zip(cuts[::2], cuts[1::2], strict=True)))
    if not any(days):
        days[draw(st.integers(0, 6))] = ((9 * 60, 17 * 60),)
    return OpeningHours(tuple(days))


@settings(max_examples=150, deadline=None)
@given(hours=schedules(), zone=ZONES, start=MOMENTS, wait=WAITS)
def test_the_time_counted_up_to_the_deadline_is_the_wait(
    hours: OpeningHours, zone: str, start: datetime, wait: timedelta
) -> None:
    tz = ZoneInfo(zone)
    due = after_open_time(hours, tz, start, wait)
    assert due is not None and due >= start
    assert open_time(hours, tz, start, due) == wait


@settings(max_examples=150, deadline=None)
@given(hours=schedules(), zone=ZONES, start=MOMENTS, a=WAITS, b=WAITS)
def test_open_time_adds_up_over_consecutive_spans(
    hours: OpeningHours, zone: str, start: datetime, a: timedelta, b: timedelta
) -> None:
    tz = ZoneInfo(zone)
    middle, end = start + a, start + a + b
    whole = open_time(hours, tz, start, end)
    assert whole == open_time(hours, tz, start, middle) + open_time(hours, tz, middle, end)
    assert timedelta() <= whole <= end - start


@settings(max_examples=100, deadline=None)
@given(start=MOMENTS, wait=WAITS, zone=ZONES)
def test_always_open_counts_the_wall_clock(start: datetime, wait: timedelta, zone: str) -> None:
    tz = ZoneInfo(zone)
    assert after_open_time(ALWAYS_OPEN, tz, start, wait) == start + wait
    assert open_time(ALWAYS_OPEN, tz, start, start + wait) == wait
