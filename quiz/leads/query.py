"""Which leads: the staff list's filter, and the export's streamed, fixed query."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, func, or_, select

from quiz.db.engine import db
from quiz.db.models import Lead, TextOptOut
from quiz.leads.export import COLUMNS, JOINED

BATCH = 1000  # rows fetched at a time when streaming an export


def _day_start(day: date, tz: tzinfo = UTC) -> datetime:
    """Midnight starting `day` in `tz`, in UTC (SQLite compares the stored UTC text)."""
    return datetime.combine(day, time.min, tz).astimezone(UTC)


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own wildcards escaped."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


@dataclass(frozen=True)
class LeadFilter:
    """What the staff list shows and what the exports contain."""

    status: str = ""
    outcome: str = ""
    since: date | None = None  # whole days in `tz`, inclusive
    until: date | None = None
    search: str = ""  # name, email or phone, anywhere in the value
    tz: tzinfo = UTC  # the CLI uses UTC days; the staff console the spa's time zone

    def apply(self, query: Select[Any]) -> Select[Any]:
        """Add this filter's conditions to a query over Lead."""
        if self.status:
            query = query.where(Lead.status == self.status)
        if self.outcome:
            query = query.where(Lead.outcome == self.outcome)
        if self.since is not None:
            query = query.where(Lead.created_at >= _day_start(self.since, self.tz))
        if self.until is not None:
            end = _day_start(self.until + timedelta(days=1), self.tz)
            query = query.where(Lead.created_at < end)
        if self.search:
            text = self.search
            conditions = [
                Lead.name.ilike(_like(text), escape="\\"),
                Lead.email.ilike(_like(text), escape="\\"),
            ]
            digits = re.sub(r"\D", "", text)
            # "(301) 810-5740" finds +13018105740: phones are stored as E.164 digits.
            if len(digits) >= 3 and re.fullmatch(r"[\d\s()+.\-]+", text):
                conditions.append(Lead.phone.like(_like(digits), escape="\\"))
            query = query.where(or_(*conditions))
        return query

    def bounds(self) -> tuple[datetime, datetime]:
        """The filter's days as [start, end) instants (open ends: the widest dates)."""
        start = _day_start(self.since, self.tz) if self.since else datetime.min.replace(tzinfo=UTC)
        end = (
            _day_start(self.until + timedelta(days=1), self.tz)
            if self.until
            else datetime.max.replace(tzinfo=UTC)
        )
        return start, end

    def describe(self) -> dict[str, Any]:
        """The filter for the audit log: no search text, which may name a patient."""
        found: dict[str, Any] = {}
        for key in ("status", "outcome"):
            if getattr(self, key):
                found[key] = getattr(self, key)
        if self.since:
            found["since"] = self.since.isoformat()
        if self.until:
            found["until"] = self.until.isoformat()
        if self.since or self.until:
            found["time_zone"] = str(self.tz)
        if self.search:
            found["search"] = True
        return found

    def args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links that keep it)."""
        values = {
            "status": self.status,
            "outcome": self.outcome,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "q": self.search,
        }
        return {k: v for k, v in values.items() if v}


# Only what the export writes: plain rows load about three times faster than ORM objects.
# The opt-out is the number's (a STOP covers every lead with it), joined in by phone.
_EXPORTED = (
    *(getattr(Lead, name) for name in COLUMNS if name not in JOINED),
    TextOptOut.opted_out_at.label("sms_opted_out_at"),
)


def leads_query(
    since: date | None = None, until: date | None = None, *, where: LeadFilter | None = None
) -> Select[Any]:
    """The export rows of leads matching the filter (or created since..until), oldest first."""
    where = where or LeadFilter(since=since, until=until)
    query = select(*_EXPORTED).outerjoin(TextOptOut, TextOptOut.number == Lead.phone)
    return where.apply(query).order_by(Lead.id)


def export_snapshot(where: LeadFilter) -> tuple[Select[Any], int]:
    """The export query, fixed to the leads that exist now, and how many it will give.

    The query stops at the newest id counted, so a lead stored while the file
    streams does not make the audited row count wrong.
    """
    count, newest = db.session.execute(
        where.apply(select(func.count(Lead.id), func.max(Lead.id)))
    ).one()
    return leads_query(where=where).where(Lead.id <= (newest or 0)), int(count)


def iter_leads(query: Select[Any]) -> Iterator[Any]:
    """Stream the rows in batches so memory does not grow with the table."""
    yield from db.session.execute(query.execution_options(yield_per=BATCH))
