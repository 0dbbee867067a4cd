"""When an automatic text may go: 8:00 to 21:00 where the patient's number is.

The number's own time zones come from phonenumbers' area-code data (the
accepted proxy for where a mobile is). With several zones the text waits for
the one whose morning comes last, and never goes past 21:00 in the one whose
evening comes first: it goes only when it is 8:00–21:00 in every zone. Zones
too far apart to share any window (a toll-free number) use the one whose
morning comes last alone. A
number with no known zone uses the spa's own (STAFF_TIMEZONE). Pure: no
Flask, no database; `now` is always given, so tests set the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

EARLIEST = time(8, 0)
LATEST = time(21, 0)  # the first moment that is too late
DAYS_AHEAD = 3


@lru_cache(maxsize=4096)
def zones_for(number: str, fallback: str) -> tuple[ZoneInfo, ...]:
    """The number's time zones (E.164 in), else the fallback zone alone."""
    names: tuple[str, ...] = ()
    try:
        names = tuple(number_zones.time_zones_for_number(phonenumbers.parse(number)))
    except phonenumbers.NumberParseException:
        pass
    zones = []
    for name in names:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):  # "Etc/Unknown" and the like
            continue
    return tuple(zones) or (ZoneInfo(fallback),)


def allowed(at: datetime, zones: tuple[ZoneInfo, ...]) -> bool:
    """True when `at` is between 8:00 and 21:00 in every one of the zones."""
    return all(EARLIEST <= at.astimezone(zone).time() < LATEST for zone in zones)


def next_allowed(number: str, now: datetime, fallback: str = "UTC") -> datetime:
    """`now` if a text may go now, else the first moment after it that one may (UTC)."""
    zones = zones_for(number, fallback)
    if allowed(now, zones):
        return now.astimezone(UTC)
    # The answer is some zone's 8:00 (a window opens there, the last one to open).
    mornings = []
    for zone in zones:
        local = now.astimezone(zone)
        for days in range(DAYS_AHEAD + 1):
            day = local.date() + timedelta(days=days)
            morning = datetime.combine(day, EARLIEST, tzinfo=zone)
            if morning > now:
                mornings.append(morning.astimezone(UTC))
    for morning in sorted(mornings):
        if allowed(morning, zones):
            return morning
    # Zones too far apart to share a window (a toll-free number spans Guam to
    # Newfoundland): the zone whose morning comes last, alone.
    return next_allowed_in(_latest_morning(zones, now), now)


def _latest_morning(zones: tuple[ZoneInfo, ...], now: datetime) -> ZoneInfo:
    return min(zones, key=lambda zone: now.astimezone(zone).utcoffset() or timedelta(0))


def next_allowed_in(zone: ZoneInfo, now: datetime) -> datetime:
    """`now` if it is 8:00–21:00 in `zone`, else that zone's next 8:00 (UTC)."""
    if allowed(now, (zone,)):
        return now.astimezone(UTC)
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=0 if local.time() < EARLIEST else 1)
    return datetime.combine(day, EARLIEST, tzinfo=zone).astimezone(UTC)
