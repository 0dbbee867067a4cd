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

The Excel export writes the same rows as typed cells: ids as numbers, times
as dates, everything else as text cells (`write_string`), which a spreadsheet
shows and never evaluates. Text cells keep the patient's exact words, so no
quote is added there. Both exports honour the same `LeadFilter` as the staff
lead list; the CLI export uses it with dates only.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import IO, Any

from sqlalchemy import Select, func, or_, select

from quiz.storage.models import Lead
from quiz.web.extensions import db

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


def lead_values(lead: Any) -> dict[str, Any]:
    """One lead's export values, typed: id an int, times datetimes, the rest text.

    `lead` is a Lead or a row of `leads_query` (the same attribute names).
    """
    return {
        "id": lead.id,
        "created_at": lead.created_at,
        "status": lead.status,
        "name": lead.name,
        "phone": lead.phone,
        "email": lead.email,
        "best_time": lead.best_time,
        "outcome": lead.outcome,
        "concern": lead.concern,
        "areas": ";".join(a for a in lead.areas.split(";") if a),
        "goal": lead.goal,
        "consent_at": lead.consent_at,
        "consent_text_version": lead.consent_text_version,
        "source_url": lead.source_url,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "utm_campaign": lead.utm_campaign,
        "utm_term": lead.utm_term,
        "utm_content": lead.utm_content,
        "referrer": lead.referrer,
    }


def lead_row(lead: Any) -> list[str]:
    """One lead as CSV cells, in COLUMNS order, free text neutralised."""
    raw = lead_values(lead)
    cells = []
    for column in COLUMNS:
        value = raw[column]
        if isinstance(value, datetime):
            value = iso(value)
        value = "" if value is None else str(value)
        cells.append(neutralise(value) if column in FREE_TEXT else value)
    return cells


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
_EXPORTED = tuple(getattr(Lead, name) for name in COLUMNS)


def leads_query(
    since: date | None = None, until: date | None = None, *, where: LeadFilter | None = None
) -> Select[Any]:
    """The export rows of leads matching the filter (or created since..until), oldest first."""
    where = where or LeadFilter(since=since, until=until)
    return where.apply(select(*_EXPORTED)).order_by(Lead.id)


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


def csv_lines(leads: Iterable[Any]) -> Iterator[str]:
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


# --- Excel --------------------------------------------------------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_WIDTHS = {"name": 24, "email": 28, "created_at": 20, "consent_at": 20, "source_url": 40}


def write_xlsx(leads: Iterable[Any], target: str | IO[bytes]) -> int:
    """Write the leads as an .xlsx workbook with typed cells; return the row count.

    XlsxWriter's constant-memory mode writes each row to disk as it goes, so
    memory stays flat however many leads there are.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            # Never turn text into formulas, links or numbers: text stays text.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    sheet = workbook.add_worksheet("Leads")
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    warning = workbook.add_format({"bold": True, "font_color": "#9c0006", "bg_color": "#ffc7ce"})
    for col, name in enumerate(COLUMNS):
        sheet.set_column(col, col, _WIDTHS.get(name, 14))
        sheet.write_string(0, col, name, bold)
    sheet.freeze_panes(1, 0)
    rows = 0
    for rows, lead in enumerate(leads, start=1):
        values = lead_values(lead)
        for col, name in enumerate(COLUMNS):
            value = values[name]
            if name == "id":
                sheet.write_number(rows, col, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(rows, col, _utc(value), when)
            elif value:
                fmt = warning if name == "status" and value == "do_not_contact" else None
                sheet.write_string(rows, col, str(value), fmt)
    sheet.autofilter(0, 0, max(rows, 1), len(COLUMNS) - 1)
    workbook.close()
    return rows


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # SQLite gives naive datetimes, stored as UTC
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
