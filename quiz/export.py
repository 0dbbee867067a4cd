"""Lead exports: the design's columns, streamed, safe to open in a spreadsheet.

Formula injection: a spreadsheet treats a cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return as a formula (or as the start of one), so a
patient who types `=HYPERLINK(...)` as their name could run it on a staff
member's machine. Free-text cells (name, email, source and referrer URLs, utm
values, notes) are therefore prefixed with a single quote when they start with
one of those characters, as OWASP recommends.

Validated columns are written as they are, and are safe because of how they
were validated: the phone is E.164 (`+` then digits only, which a spreadsheet
reads as a number, not a formula: `+13015550100` has no operator or function
to run); dates are ISO 8601 produced by us; ids are integers; status, outcome,
concern, areas, goal and best_time are option ids from a fixed list
(lower-case letters and `_`); the consent version comes from the content file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select

from .extensions import db
from .models import Lead

COLUMNS = (
    "id",
    "created_at",
    "status",
    "name",
    "phone",
    "email",
    "best_time",
    "outcome",
    "concern",
    "areas",
    "goal",
    "consent_at",
    "consent_text_version",
    "source_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    # More columns may follow the contract's; these come after it.
    "utm_term",
    "utm_content",
    "referrer",
)
FREE_TEXT = {
    "name",
    "email",
    "source_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
BATCH = 1000


def neutralise(value: str) -> str:
    """Prefix a quote to text a spreadsheet would read as a formula."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, or empty."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def lead_row(lead: Lead) -> list[str]:
    """One lead as export cells, in COLUMNS order, free text neutralised."""
    raw = {
        "id": str(lead.id),
        "created_at": iso(lead.created_at),
        "status": lead.status,
        "name": lead.name,
        "phone": lead.phone,
        "email": lead.email,
        "best_time": lead.best_time,
        "outcome": lead.outcome,
        "concern": lead.concern,
        "areas": ";".join(lead.area_list),
        "goal": lead.goal,
        "consent_at": iso(lead.consent_at),
        "consent_text_version": lead.consent_text_version,
        "source_url": lead.source_url,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "utm_campaign": lead.utm_campaign,
        "utm_term": lead.utm_term,
        "utm_content": lead.utm_content,
        "referrer": lead.referrer,
    }
    return [neutralise(raw[c]) if c in FREE_TEXT else raw[c] for c in COLUMNS]


def leads_query(since: date | None = None, until: date | None = None) -> Select[tuple[Lead]]:
    """Leads created on or after `since` and on or before `until` (whole UTC days), oldest first."""
    query = select(Lead).order_by(Lead.id)
    if since is not None:
        query = query.where(Lead.created_at >= datetime.combine(since, time.min, UTC))
    if until is not None:
        query = query.where(
            Lead.created_at < datetime.combine(until + timedelta(days=1), time.min, UTC)
        )
    return query


def iter_leads(query: Select[tuple[Lead]]) -> Iterator[Lead]:
    """Stream leads in batches so memory does not grow with the table."""
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for lead in result.scalars():
        yield lead
        db.session.expunge(lead)  # keep the identity map from holding every row


def csv_lines(leads: Iterable[Lead]) -> Iterator[str]:
    """The CSV text, a line at a time: header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for lead in leads:
        writer.writerow(lead_row(lead))
        yield flush()
