"""Lead exports: the design's columns, streamed, safe to open in a spreadsheet.

Formula injection: a spreadsheet treats a cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return as a formula (or as the start of one), and
some also `;` or `|` (DDE), so a patient who types `=HYPERLINK(...)` as their
name could run it on a staff member's machine. Every text cell is therefore
prefixed with a single quote when it starts with one of those characters, as
OWASP recommends, whatever column it is in and wherever its value came from:
a column that is validated today (the consent version comes from the
content file, which staff edit) is not trusted to stay so.

One shape is left as it is: `+` followed by digits only, the E.164 phone
(`+13015550100` has no operator or function to run, and staff need it
dialable). Dates are ISO 8601 produced by us and ids are integers.

The Excel export writes the same rows as typed cells: ids as numbers, times
as dates, everything else as text cells (`write_string`), which a spreadsheet
shows and never evaluates. Text cells keep the patient's exact words, so no
quote is added there. Both exports honour the same `LeadFilter` as the staff
lead list; the CLI export uses it with dates only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from quiz.core.clock import iso

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
    # Appended in design.md's order, never inserted:
    "locale",  # the language the patient used (en, es)
    "first_contacted_at",  # ISO 8601 UTC; empty until staff move the lead out of "new"
    "sms_consent",  # yes / no: the separate texting consent (PATIENT_TEXTS)
    "sms_opted_out_at",  # ISO 8601 UTC when the number texted STOP; empty if it may be texted
)
# Columns not on the lead itself: the export query joins them in (leads/query.py).
JOINED = ("sms_opted_out_at",)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", ";", "|")


def neutralise(value: str) -> str:
    """Prefix a quote to text a spreadsheet would read as a formula (a +digits number stays)."""
    if value.startswith(FORMULA_STARTS) and not _is_plus_number(value):
        return "'" + value
    return value


def _is_plus_number(value: str) -> bool:
    return len(value) > 1 and value[0] == "+" and value[1:].isascii() and value[1:].isdigit()


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
        "first_contacted_at": lead.first_contacted_at,
        "locale": lead.locale,
        "sms_consent": "yes" if lead.sms_consent else "no",
        "sms_opted_out_at": lead.sms_opted_out_at,
    }


def lead_row(lead: Any) -> list[str]:
    """One lead as CSV cells, in COLUMNS order, every text cell neutralised."""
    raw = lead_values(lead)
    cells = []
    for column in COLUMNS:
        value = raw[column]
        if isinstance(value, datetime):
            cells.append(iso(value))
        elif isinstance(value, int):
            cells.append(str(value))
        else:
            cells.append(neutralise("" if value is None else str(value)))
    return cells


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
_WIDTHS = {"name": 24, "email": 28, "created_at": 20, "consent_at": 20, "source_url": 40,
           "first_contacted_at": 20, "sms_opted_out_at": 20}  # fmt: skip


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
    """Naive UTC, as Excel wants it (stored times are aware UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None)
