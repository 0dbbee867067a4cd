"""The lead page's texts: the thread (htmx refreshes it), the reply box, the inbox.

`GET /staff/leads/<id>/texts` is the thread alone, for htmx's polling;
`POST /staff/leads/<id>/texts` sends a reply (desk and admin) and answers
htmx with the thread and an emptied box, or a plain form with a redirect back
to the lead page. A reply that may not go (an opted-out number, an empty or
overlong text) is refused with the reason and nothing is stored.
`GET /staff/texts` (admins) lists texts from numbers no lead has.
"""

from __future__ import annotations

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for

from quiz.core.clock import utcnow
from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead
from quiz.staff import admin_required, bp, current_staff, role_required
from quiz.texts.outgoing import ReplyRefused, queue_reply
from quiz.texts.settings import text_settings
from quiz.texts.thread import REPLYING, ReplyForm, inbox, mark_read, thread_context


@bp.get("/leads/<id:lead_id>/texts")
def lead_texts(lead_id: int) -> Response:
    lead = db.get_or_404(Lead, lead_id)
    context = thread_context(lead, can_reply=_can_reply())
    if context is None:
        abort(404)
    if any(t.unread for t in context["thread"].entries):  # type: ignore[attr-defined]
        mark_read(lead_id, utcnow())  # shown now: read (no write when nothing is new)
    response = make_response(render_template("staff/_texts_thread.html", **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/leads/<id:lead_id>/texts")
@role_required("text patients", REPLYING, "ask the desk or an admin")
def reply(lead_id: int) -> Response:
    lead = db.get_or_404(Lead, lead_id)
    if text_settings() is None:
        abort(404)
    form = ReplyForm()
    body = form.body.data or ""
    error = "" if form.validate() else "The form was out of date; please send it again."
    if not error:
        try:
            now = utcnow()
            with write_transaction() as session:
                queue_reply(session, lead_id=lead.id, number=lead.phone, body=body,
                            staff_id=current_staff().id, now=now)  # fmt: skip
                fresh = session.get(Lead, lead.id, populate_existing=True)
                if fresh is not None and fresh.first_contacted_at is None:
                    fresh.first_contacted_at = now  # a text typed by staff is human contact
        except ReplyRefused as refused:
            error = str(refused)
    if "HX-Request" in request.headers:
        context = thread_context(lead, can_reply=True, error=error, draft=body if error else "")
        assert context is not None
        html = render_template("staff/_texts.html", **context)
        return make_response(html, 422 if error else 200)
    if error:
        flash(f"Text not sent: {error}")
    else:
        flash("Text queued: it goes out with the next delivery run.")
    return redirect(url_for("staff.lead", lead_id=lead.id, _anchor="texts"), 303)


def _can_reply() -> bool:
    staff = current_staff()
    return staff is not None and staff.role in REPLYING


@bp.get("/texts")
@admin_required("read texts from unknown numbers")
def text_inbox() -> str:
    return render_template("staff/texts_inbox.html", title="Texts from unknown numbers",
                           texts=inbox())  # fmt: skip
