"""The spa's opening hours, and time counted only while the spa is open.

Pure Python (no Flask): the escalation text, the "Not called yet" flag and the
speed report all ask the same two questions, answered here once:

- `open_time(hours, tz, start, end)`: how much of the span start..end fell in
  opening hours;
- `after_open_time(hours, tz, start, wait)`: the moment when `wait` of opening
  hours will have passed since `start` (a lead at 3 a.m. plus 30 minutes is
  30 minutes after the spa opens).

The format (QUIZ_STAFF_OPENING_HOURS) is a mapping of weekdays, or ranges of
weekdays, to the hours open that day in the spa's time zone:

    {"mon-fri": "09:00-18:00", "sat": "10:00-12:30, 13:00-16:00"}

Days not named are closed; "closed" says so explicitly; "00:00-24:00" is the
whole day. A range may not run past midnight (write it as two days' ranges).
Unset means open every day, all day (`ALWAYS_OPEN`).

Times are local wall-clock times, so a shift to or from daylight saving time
moves the opening in UTC the way the spa's clocks move.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
DAY_MINUTES = 24 * 60
# after_open_time gives up (None) past this horizon: a schedule open a minute a
# week would otherwise take a very long walk to a large wait.
HORIZON_DAYS = 3660
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Span = tuple[int, int]  # minutes after local midnight: [open, close)


@dataclass(frozen=True)
class OpeningHours:
    """Open spans for each weekday, Monday first, in minutes after local midnight."""

    days: tuple[tuple[Span, ...], ...]

    def describe(self) -> str:
        """The hours in the configuration's own format, e.g. for the staff pages."""
        if self == ALWAYS_OPEN:
            return "every day, all day"
        parts = []
        for name, spans in zip(DAYS, self.days, strict=True):
            text = ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in spans) or "closed"
            parts.append(f"{name} {text}")
        return "; ".join(parts)


ALWAYS_OPEN = OpeningHours((((0, DAY_MINUTES),),) * 7)


def parse_opening_hours(value: Any) -> OpeningHours:
    """Read the configured hours (a mapping, or its JSON text); ValueError says what is wrong."""
    if value is None or value == "" or value == {}:
        return ALWAYS_OPEN
    if isinstance(value, OpeningHours):
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(
                'must be a JSON object such as {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}'
            ) from None
    if not isinstance(value, Mapping):
        raise ValueError('must map weekdays to hours, e.g. {"mon-fri": "09:00-18:00"}')
    days: list[tuple[Span, ...] | None] = [None] * 7
    for key, hours in value.items():
        spans = _spans(str(key), hours)
        for index in _weekdays(str(key)):
            if days[index] is not None:
                raise ValueError(f"names {DAYS[index]} twice (in {key!r})")
            days[index] = spans
    result = OpeningHours(tuple(d or () for d in days))
    if not any(result.days):
        raise ValueError("is closed every day; leave it unset for open all the time")
    return result


def _weekdays(key: str) -> list[int]:
    first, _, last = key.strip().lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"has {key!r}; name days as mon, tue, … sun, or a range such as mon-fri")
    start, end = DAYS.index(first), DAYS.index(last or first)
    return [(start + i) % 7 for i in range((end - start) % 7 + 1)]  # fri-mon wraps


def _spans(key: str, hours: Any) -> tuple[Span, ...]:
    if not isinstance(hours, str):
        raise ValueError(f'{key}: hours must be text such as "09:00-18:00", got {hours!r}')
    if hours.strip().lower() == "closed":
        return ()
    spans = []
    for part in hours.split(","):
        found = _RANGE.match(part)
        if not found:
            raise ValueError(f'{key}: {part.strip()!r} is not a range such as "09:00-18:00"')
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or end > DAY_MINUTES or start >= end:
            raise ValueError(
                f"{key}: {part.strip()!r} must open before it closes, within one day "
                "(00:00 to 24:00; split a night across two days)"
            )
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ValueError(f"{key}: the ranges in {hours!r} overlap")
    return tuple(spans)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- time counted in opening hours ----------------------------------------------


def periods(
    hours: OpeningHours, tz: tzinfo, start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open periods (UTC, in order) from the local day before `start` on, without end."""
    if not any(hours.days):
        return  # never open: no period at all (parse_opening_hours refuses this)
    day = start.astimezone(tz).date() - timedelta(days=1)
    while True:
        for a, b in hours.days[day.weekday()]:
            opens, closes = _at(day, a, tz), _at(day, b, tz)
            if closes > opens:  # a range swallowed by a daylight-saving jump is no range
                yield opens, closes
        day += timedelta(days=1)


def _at(day: date, minutes: int, tz: tzinfo) -> datetime:
    """Local `day` at `minutes` after midnight (24:00 is the next midnight), in UTC."""
    moment = datetime.combine(day + timedelta(days=minutes // DAY_MINUTES), time(), tzinfo=tz)
    local = moment.replace(hour=(minutes % DAY_MINUTES) // 60, minute=minutes % 60)
    return local.astimezone(UTC)


def open_time(hours: OpeningHours, tz: tzinfo, start: datetime, end: datetime) -> timedelta:
    """How much of start..end fell within opening hours (zero if end is not after start)."""
    total = timedelta()
    if end <= start:
        return total
    for opens, closes in periods(hours, tz, start):
        if opens >= end:
            break
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta():
            total += overlap
    return total


def after_open_time(
    hours: OpeningHours, tz: tzinfo, start: datetime, wait: timedelta
) -> datetime | None:
    """When `wait` of opening hours will have passed since `start` (None beyond the horizon)."""
    remaining = wait
    horizon = start + timedelta(days=HORIZON_DAYS)
    for opens, closes in periods(hours, tz, start):
        if opens > horizon:
            return None
        if closes <= start:
            continue
        begin = max(opens, start)
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    return None  # pragma: no cover - periods() never ends


def is_open(hours: OpeningHours, tz: tzinfo, moment: datetime) -> bool:
    """True while the spa is open at `moment`."""
    local = moment.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in hours.days[local.weekday()])


@dataclass(frozen=True)
class Overdue:
    """The one overdue rule: a lead still "new" after `wait` of opening hours since it came.

    The lead list marks such a lead and the escalation text chases it; both
    read this (STAFF_STALE_LEAD_MINUTES in STAFF_OPENING_HOURS, STAFF_TIMEZONE),
    built once at start-up rather than for every row.
    """

    hours: OpeningHours
    tz: tzinfo
    wait: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Overdue:
        return cls(
            hours=parse_opening_hours(config.get("STAFF_OPENING_HOURS")),
            tz=ZoneInfo(config["STAFF_TIMEZONE"]),
            wait=timedelta(minutes=config["STAFF_STALE_LEAD_MINUTES"]),
        )

    def due(self, created_at: datetime) -> datetime | None:
        """The moment a lead created then becomes overdue (None: beyond the horizon)."""
        return after_open_time(self.hours, self.tz, created_at, self.wait)

    def past(self, created_at: datetime, now: datetime) -> bool:
        due = self.due(created_at)
        return due is not None and now > due
