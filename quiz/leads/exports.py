"""The exports: the list's filtered leads as CSV (streamed) or Excel, audited. Admins only.

Each export is a POST carrying the CSRF token and the list's filters as form
fields (the list's export buttons), so a link or an image on another site
cannot start one with the staff member's cookie. A GET is 405.
"""

from __future__ import annotations

import tempfile
from datetime import datetime

from flask import Response, abort, request, send_file, stream_with_context

from quiz.db import audit
from quiz.leads.export import XLSX_MIMETYPE, csv_lines, write_xlsx
from quiz.leads.query import LeadFilter, export_snapshot, iter_leads
from quiz.staff import admin_required, bp, current_staff, has_errors, read_filter, staff_tz


def _export_filter() -> LeadFilter:
    """The filters POSTed with the export (hidden fields of the list's export form)."""
    form, where = read_filter(request.form)
    if has_errors(form):
        problems = "; ".join(
            f"{field.label.text}: {field.errors[0]}" for field in form if field.errors
        )
        abort(400, f"The export's filters are not valid ({problems}). Fix them in the list.")
    return where


def _download_name(ext: str) -> str:
    stamp = datetime.now(staff_tz()).strftime("%Y-%m-%d-%H%M")
    return f"leads-{stamp}.{ext}"


@bp.post("/export.csv")
@admin_required("export leads")
def export_csv() -> Response:
    """The filtered leads as CSV, streamed (the contract's columns, formula-safe)."""
    where = _export_filter()
    query, count = export_snapshot(where)
    audit.record_export("csv", where.describe(), count, staff=current_staff())
    body = stream_with_context(csv_lines(iter_leads(query)))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name("csv")}"'
    return response


@bp.post("/export.xlsx")
@admin_required("export leads")
def export_xlsx() -> Response:
    """The filtered leads as an Excel workbook with typed cells."""
    where = _export_filter()
    query, _count = export_snapshot(where)
    spool = tempfile.TemporaryFile()  # on disk: memory stays flat for any number of leads
    try:
        rows = write_xlsx(iter_leads(query), spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    audit.record_export("xlsx", where.describe(), rows, staff=current_staff())
    return send_file(
        spool,
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=_download_name("xlsx"),
        conditional=False,
        etag=False,
        max_age=0,
    )
