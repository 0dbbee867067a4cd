"""The lead pipeline: the list, a lead's page, status and notes, exports, erasure."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, tzinfo
from typing import Any

import phonenumbers
from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from ..database import write_transaction
from ..export import (
    XLSX_MIMETYPE,
    LeadFilter,
    csv_lines,
    export_snapshot,
    iso,
    iter_leads,
    write_xlsx,
)
from ..extensions import db
from ..forms import BEST_TIMES
from ..models import Lead, LeadEvent, OutboxMessage, StaffUser, utcnow
from . import audit, bp
from .auth import _safe_next, current_staff
from .forms import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    EmptyForm,
    FilterForm,
    NoteForm,
    StatusForm,
)

MESSAGES = {
    400: "That request wasn't quite right.",
    403: "You can't do that.",
    404: "There is nothing here: the lead may have been erased.",
    405: "That isn't something this page can do.",
    429: "Too many failed sign-ins. Please wait a few minutes and try again.",
}


# --- helpers shared by the staff templates --------------------------------------


def staff_tz() -> tzinfo:
    """The spa's time zone for showing times and reading date filters."""
    return current_app.extensions["staff_tz"]


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.app_template_filter("staff_age")
def staff_age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, the way the front desk says it: "12 min ago", "3 h ago"."""
    seconds = ((now or utcnow()) - aware(moment)).total_seconds()
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min ago" if hours < 3 else f"{hours} h ago"
    return f"{hours // 24} days ago"


@bp.app_template_filter("staff_time")
def staff_time(moment: datetime | None) -> str:
    """A time in the spa's zone, e.g. "2026-11-20 09:30 EST"."""
    if moment is None:
        return ""
    return aware(moment).astimezone(staff_tz()).strftime("%Y-%m-%d %H:%M %Z")


def is_stale(lead: Lead, now: datetime) -> bool:
    """A "new" lead nobody has called for longer than the configured threshold."""
    limit = current_app.config["STAFF_STALE_LEAD_MINUTES"] * 60
    return lead.status == "new" and (now - aware(lead.created_at)).total_seconds() > limit


@bp.app_template_filter("staff_iso")
def staff_iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC, for <time datetime>."""
    return iso(aware(moment) if moment else None)


@bp.app_template_filter("staff_phone")
def staff_phone(e164: str) -> str:
    """A stored E.164 number the way the front desk dials it: national in the spa's region."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = current_app.config.get("PHONE_DEFAULT_REGION", "US")
    local = phonenumbers.region_code_for_number(number) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if local
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def answer_label(question: str, option_id: str) -> str:
    """An answer in the words the patient chose it by."""
    option = current_app.extensions["quiz_content"].question(question).option(option_id)
    return option.label if option else option_id


def best_time_label(value: str) -> str:
    return BEST_TIMES.get(value, value)


@bp.context_processor
def staff_globals() -> dict[str, Any]:
    # Blueprint-only: the patient's pages never pay for these.
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "is_stale": is_stale,
        "answer_label": answer_label,
        "best_time_label": best_time_label,
    }


@bp.after_request
def no_store(response: Response) -> Response:
    """Staff pages show patients' details: never cache them anywhere."""
    response.cache_control.no_store = True
    response.cache_control.private = True
    response.headers["Pragma"] = "no-cache"
    return response


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError) -> Response:
    """A form without a valid CSRF token: reload for htmx, a calm page otherwise."""
    if "HX-Request" in request.headers:
        response = make_response("This page was open too long. Reloading…", 400)
        response.headers["HX-Refresh"] = "true"
        return response
    message = "This form expired or didn't come from this site. Go back, reload and try again."
    return _error_page(400, message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Staff errors in the staff layout."""
    code = exc.code or 500
    message = MESSAGES.get(code) or exc.name
    if code == 400 and exc.description and exc.description != type(exc).description:
        message = exc.description
    return _error_page(code, message)


def _error_page(code: int, message: str) -> Response:
    template = "staff/login.html" if code == 429 else "staff/error.html"
    from .forms import LoginForm

    html = render_template(
        template, title="Sorry", message=message, error=message, form=LoginForm(formdata=None)
    )
    return make_response(html, code)


# --- the lead list --------------------------------------------------------------


def read_filter() -> tuple[FilterForm, LeadFilter]:
    """The list's filters from the query string; invalid fields are reported and ignored."""
    form = FilterForm(request.args)
    form.validate()
    where = LeadFilter(
        status=form.status.data if not form.status.errors else "",
        outcome=form.outcome.data if not form.outcome.errors else "",
        since=form.since.data if not form.since.errors else None,
        until=form.until.data if not (form.until.errors or form.since.errors) else None,
        search=(form.q.data or "") if not form.q.errors else "",
        tz=staff_tz(),
    )
    return form, where


def _has_errors(form: FilterForm) -> bool:
    return any(field.errors for field in form)


@bp.get("/")
def leads() -> Response:
    """The lead list: newest first, filtered, searched, paginated."""
    form, where = read_filter()
    size = current_app.config["STAFF_PAGE_SIZE"]
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.execute(where.apply(select(func.count(Lead.id)))).scalar_one()
    rows = list(
        db.session.execute(
            where.apply(select(Lead))
            .order_by(Lead.created_at.desc(), Lead.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        ).scalars()
    )
    pages = max(math.ceil(total / size), 1)
    html = render_template(
        "staff/leads.html",
        title="Leads",
        form=form,
        where=where,
        leads=rows,
        total=total,
        page=page,
        pages=pages,
        now=utcnow(),
        here=request.full_path.rstrip("?"),
        status_form=StatusForm(formdata=None),
        note_form=NoteForm(formdata=None),
    )
    return make_response(html, 400 if _has_errors(form) else 200)


def page_url(where: LeadFilter, page: int) -> str:
    """The list URL for another page with the same filters."""
    return url_for("staff.leads", **where.args(), **({"page": page} if page > 1 else {}))


bp.add_app_template_global(page_url, "staff_page_url")


# --- one lead -------------------------------------------------------------------


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> str:
    """A lead's page: answers, outcome, consent, source, notes and history."""
    found = db.get_or_404(Lead, lead_id)
    history = db.session.execute(
        select(LeadEvent, StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == LeadEvent.staff_id)
        .where(LeadEvent.lead_id == lead_id)
        .order_by(LeadEvent.at.desc(), LeadEvent.id.desc())
    ).all()
    return render_template(
        "staff/lead.html",
        title=f"Lead #{found.id}",
        lead=found,
        history=history,
        now=utcnow(),
        answers=_answers_in_words(found),
        status_form=StatusForm(formdata=None, status=found.status),
        note_form=NoteForm(formdata=None, note=found.notes),
        here=request.path,
    )


def _answers_in_words(found: Lead) -> dict[str, Any]:
    outcome = current_app.extensions["quiz_content"].outcomes.get(found.outcome)
    return {
        "concern": answer_label("concern", found.concern),
        "areas": [answer_label("area", a) for a in found.area_list],
        "goal": answer_label("goal", found.goal),
        "outcome": outcome.headline if outcome else found.outcome,
    }


def _respond_after_change(found: Lead, error: str = "", status: int = 200) -> Response:
    """htmx gets the updated row; a plain form goes back where it came from."""
    if "HX-Request" in request.headers:
        html = render_template(
            "staff/_lead_row.html",
            lead=found,
            now=utcnow(),
            here=request.form.get("next", ""),
            row_error=error,
            status_form=StatusForm(formdata=None),
            note_form=NoteForm(formdata=None),
        )
        return make_response(html, status)
    if error:
        return _error_page(status, error)
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/leads/<int:lead_id>/status")
def set_status(lead_id: int) -> Response:
    """Change a lead's status and record who did it."""
    found = db.get_or_404(Lead, lead_id)
    form = StatusForm()
    if not form.validate():
        return _respond_after_change(found, "Choose one of the listed statuses.", 400)
    with write_transaction() as tx:
        found = tx.get(Lead, lead_id, populate_existing=True)
        if found is None:
            abort(404)
        if form.status.data != found.status:
            tx.add(
                LeadEvent(
                    lead_id=found.id,
                    at=utcnow(),
                    staff_id=current_staff().id,
                    kind="status",
                    old_status=found.status,
                    new_status=form.status.data,
                )
            )
            found.status = form.status.data
    if "HX-Request" not in request.headers:
        flash(f"Lead #{found.id} is now “{STATUS_LABELS[found.status]}”.")
    return _respond_after_change(found)


@bp.post("/leads/<int:lead_id>/note")
def set_note(lead_id: int) -> Response:
    """Replace a lead's note; the history keeps each version with who wrote it."""
    found = db.get_or_404(Lead, lead_id)
    form = NoteForm()
    if not form.validate():
        return _respond_after_change(found, form.note.errors[0], 422)
    with write_transaction() as tx:
        found = tx.get(Lead, lead_id, populate_existing=True)
        if found is None:
            abort(404)
        text = form.note.data or ""
        if text != found.notes:
            tx.add(
                LeadEvent(
                    lead_id=found.id,
                    at=utcnow(),
                    staff_id=current_staff().id,
                    kind="note",
                    text=text,
                )
            )
            found.notes = text
    if "HX-Request" not in request.headers:
        flash(f"Note saved on lead #{found.id}.")
    return _respond_after_change(found)


@bp.route("/leads/<int:lead_id>/erase", methods=["GET", "POST"])
def erase(lead_id: int) -> Response | str:
    """Ask to confirm, then erase the lead and everything queued about it."""
    from .erasure import erase_lead

    found = db.get_or_404(Lead, lead_id)
    form = EmptyForm()
    if form.validate_on_submit():
        erase_lead(lead_id, staff=current_staff())
        flash(f"Lead #{lead_id} was erased, with its history and queued notifications.")
        return redirect(url_for("staff.leads"), 303)
    return render_template(
        "staff/erase.html", title=f"Erase lead #{found.id}", lead=found, form=form
    )


# --- exports --------------------------------------------------------------------


def _export_filter() -> LeadFilter:
    form, where = read_filter()
    if _has_errors(form):
        problems = "; ".join(
            f"{field.label.text}: {field.errors[0]}" for field in form if field.errors
        )
        abort(400, f"The export's filters are not valid ({problems}). Fix them in the list.")
    return where


def _download_name(ext: str) -> str:
    stamp = datetime.now(staff_tz()).strftime("%Y-%m-%d-%H%M")
    return f"leads-{stamp}.{ext}"


@bp.get("/export.csv")
def export_csv() -> Response:
    """The filtered leads as CSV, streamed (design §4 columns, formula-safe)."""
    where = _export_filter()
    query, count = export_snapshot(where)
    with write_transaction() as tx:
        audit.record(
            tx,
            "export",
            staff=current_staff(),
            detail={"format": "csv", "filters": where.describe()},
            row_count=count,
        )
    body = stream_with_context(csv_lines(iter_leads(query)))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name("csv")}"'
    return response


@bp.get("/export.xlsx")
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
    with write_transaction() as tx:
        audit.record(
            tx,
            "export",
            staff=current_staff(),
            detail={"format": "xlsx", "filters": where.describe()},
            row_count=rows,
        )
    return send_file(
        spool,
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=_download_name("xlsx"),
        conditional=False,
        etag=False,
        max_age=0,
    )


# --- deliveries -----------------------------------------------------------------


@bp.get("/outbox")
def outbox() -> str:
    """Notifications not yet delivered: pending and failed, newest first."""
    rows = list(
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(("pending", "failed")))
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(200)
        ).scalars()
    )
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "staff/outbox.html",
        title="Deliveries",
        messages=rows,
        counts=counts,
        now=utcnow(),
        form=EmptyForm(formdata=None),
    )


@bp.post("/outbox/<int:message_id>/retry")
def retry_delivery(message_id: int) -> Response:
    """Put a failed notification back in the queue, due now."""
    form = EmptyForm()
    if form.validate_on_submit():
        with write_transaction() as tx:
            message = tx.get(OutboxMessage, message_id)
            if message is None:
                abort(404)
            if message.status == "failed":
                message.status = "pending"
                message.next_attempt_at = utcnow()
                message.claimed_by = ""
                message.claimed_until = None
                audit.record(
                    tx, "outbox_retry", staff=current_staff(), detail={"outbox_id": message_id}
                )
        flash(f"Notification #{message_id} will be tried again by the deliverer.")
    return redirect(url_for("staff.outbox"), 303)
