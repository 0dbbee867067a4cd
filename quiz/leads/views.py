"""The lead pipeline: the list, a lead's page, status and notes; erasure (admins only)."""

from __future__ import annotations

import math
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quiz.content import current_bundle
from quiz.core.clock import utcnow
from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead, LeadEvent, StaffUser
from quiz.leads.erasure import erase_lead
from quiz.leads.query import LeadFilter
from quiz.speed import change_status
from quiz.staff import (
    STATUS_LABELS,
    EmptyForm,
    NoteForm,
    StatusForm,
    admin_required,
    answer_label,
    bp,
    current_staff,
    error_page,
    has_errors,
    read_filter,
    safe_next,
)
from quiz.texts import REPLYING, mark_read, thread_context, unread_leads

MAX_PAGE = 1_000_000

# --- the lead list --------------------------------------------------------------


@bp.get("/")
def leads() -> Response:
    """The lead list: newest first, filtered, searched, paginated."""
    form, where = read_filter()
    size = current_app.config["STAFF_PAGE_SIZE"]
    # Bounded: a huge page number would overflow the database's OFFSET.
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
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
        unread=unread_leads(lead.id for lead in rows),
    )
    return make_response(html, 400 if has_errors(form) else 200)


def page_url(where: LeadFilter, page: int) -> str:
    """The list URL for another page with the same filters."""
    return url_for("staff.leads", **where.args(), **({"page": page} if page > 1 else {}))


bp.add_app_template_global(page_url, "staff_page_url")


# --- one lead -------------------------------------------------------------------


@bp.get("/leads/<id:lead_id>")
def lead(lead_id: int) -> str:
    """A lead's page: answers, outcome, consent, source, notes and history."""
    found = db.get_or_404(Lead, lead_id)
    history = db.session.execute(
        select(LeadEvent, StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == LeadEvent.staff_id)
        .where(LeadEvent.lead_id == lead_id)
        .order_by(LeadEvent.at.desc(), LeadEvent.id.desc())
    ).all()
    staff = current_staff()
    texts = thread_context(found, can_reply=staff is not None and staff.role in REPLYING)
    if texts is not None and any(t.unread for t in texts["thread"].entries):  # type: ignore[attr-defined]
        mark_read(found.id, utcnow())  # the page shows them: read
    return render_template(
        "staff/lead.html",
        title=f"Lead #{found.id}",
        lead=found,
        texts=texts,
        history=history,
        now=utcnow(),
        answers=_answers_in_words(found),
        status_form=StatusForm(formdata=None, status=found.status),
        note_form=NoteForm(formdata=None, note=found.notes),
        here=request.path,
    )


def _answers_in_words(found: Lead) -> dict[str, Any]:
    outcome = current_bundle().english.outcomes.get(found.outcome)
    return {
        "concern": answer_label("concern", found.concern),
        "areas": [answer_label("area", a) for a in found.area_list],
        "goal": answer_label("goal", found.goal),
        "outcome": outcome.headline if outcome else found.outcome,
    }


def _respond_after_change(
    found: Lead, error: str = "", status: int = 200, *, saved: str = ""
) -> Response:
    """htmx gets the updated row; a plain form goes back where it came from."""
    if "HX-Request" in request.headers:
        html = render_template(
            "staff/_lead_row.html",
            lead=found,
            now=utcnow(),
            here=request.form.get("next", ""),
            row_error=error,
            row_saved=saved,
            status_form=StatusForm(formdata=None),
            note_form=NoteForm(formdata=None),
        )
        return make_response(html, status)
    if error:
        return error_page(status, error)
    return redirect(safe_next(request.form.get("next")), 303)


@bp.post("/leads/<id:lead_id>/status")
def set_status(lead_id: int) -> Response:
    """Change a lead's status and record who did it."""
    found = db.get_or_404(Lead, lead_id)
    form = StatusForm()
    if not form.validate():
        return _respond_after_change(found, "Choose one of the listed statuses.", 400)
    with write_transaction() as tx:
        found = _fresh(tx, lead_id)
        if form.status.data != found.status:
            _history(tx, found, "status", old_status=found.status, new_status=form.status.data)
            change_status(found, form.status.data, utcnow())
    if "HX-Request" not in request.headers:
        flash(f"Lead #{found.id} is now “{STATUS_LABELS[found.status]}”.")
    return _respond_after_change(found, saved="Status saved")


def _fresh(tx: Session, lead_id: int) -> Lead:
    """The lead as it is now, inside the write transaction (404 if it was just erased)."""
    found = tx.get(Lead, lead_id, populate_existing=True)
    if found is None:
        abort(404)
    return found


def _history(tx: Session, lead: Lead, kind: str, **details: str) -> None:
    """Add a line to the lead's history: what changed, who, when."""
    tx.add(
        LeadEvent(lead_id=lead.id, at=utcnow(), staff_id=current_staff().id, kind=kind, **details)
    )


@bp.post("/leads/<id:lead_id>/note")
def set_note(lead_id: int) -> Response:
    """Replace a lead's note; the history keeps each version with who wrote it."""
    found = db.get_or_404(Lead, lead_id)
    form = NoteForm()
    if not form.validate():
        return _respond_after_change(found, form.note.errors[0], 422)
    with write_transaction() as tx:
        found = _fresh(tx, lead_id)
        text = form.note.data or ""
        if text != found.notes:
            _history(tx, found, "note", text=text)
            found.notes = text
    if "HX-Request" not in request.headers:
        flash(f"Note saved on lead #{found.id}.")
    return _respond_after_change(found, saved="Note saved")


@bp.route("/leads/<id:lead_id>/erase", methods=["GET", "POST"])
@admin_required("erase leads")
def erase(lead_id: int) -> Response | str:
    """Ask to confirm, then erase the lead and everything queued about it."""
    found = db.get_or_404(Lead, lead_id)
    form = EmptyForm()
    if form.validate_on_submit():
        erase_lead(lead_id, staff=current_staff())
        flash(f"Lead #{lead_id} was erased, with its history and queued notifications.")
        return redirect(url_for("staff.leads"), 303)
    return render_template(
        "staff/erase.html", title=f"Erase lead #{found.id}", lead=found, form=form
    )
