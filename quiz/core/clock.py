"""Time as the whole app reads and writes it: aware, in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The days a filter or export may name: wide enough for any real lead, narrow
# enough that "the day after" is still a date.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (what every stored time is)."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second, or "" for None."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
