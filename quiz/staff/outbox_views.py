"""Deliveries: the new-lead notifications still pending or given up on."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from sqlalchemy import func, select

from quiz.leads import audit
from quiz.staff import bp
from quiz.staff.auth import current_staff
from quiz.staff.forms import EmptyForm
from quiz.storage.database import write_transaction
from quiz.storage.models import OutboxMessage, utcnow
from quiz.web.extensions import db


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


@bp.post("/outbox/<id:message_id>/retry")
def retry_delivery(message_id: int) -> Response:
    """Put a failed notification back in the queue, due now."""
    form = EmptyForm()
    if form.validate_on_submit():
        with write_transaction() as tx:
            message = tx.get(OutboxMessage, message_id)
            if message is None:
                abort(404)
            if message.status == "failed":
                # A retry gets a fresh set of attempts, as `flask outbox retry` gives.
                message.status = "pending"
                message.attempts = 0
                message.next_attempt_at = utcnow()
                message.claimed_by = ""
                message.claimed_until = None
                audit.record(
                    tx, "outbox_retry", staff=current_staff(), detail={"outbox_id": message_id}
                )
        flash(f"Notification #{message_id} will be tried again by the deliverer.")
    return redirect(url_for("staff.outbox"), 303)
