"""Deliveries (admins): the new-lead notifications still pending or given up on."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for

from quiz.core.clock import utcnow
from quiz.db import audit
from quiz.db.engine import write_transaction
from quiz.db.models import OutboxMessage
from quiz.notifications import outbox as notifications
from quiz.staff import EmptyForm, admin_required, bp, current_staff


@bp.get("/outbox")
@admin_required("see deliveries")
def outbox() -> str:
    """Notifications not yet delivered: pending and failed, newest first."""
    return render_template(
        "staff/outbox.html",
        title="Deliveries",
        messages=notifications.undelivered(),
        counts=notifications.status_counts(),
        now=utcnow(),
        form=EmptyForm(formdata=None),
    )


@bp.post("/outbox/<id:message_id>/retry")
@admin_required("retry deliveries")
def retry_delivery(message_id: int) -> Response:
    """Put a failed notification back in the queue, due now, with fresh attempts."""
    form = EmptyForm()
    if form.validate_on_submit():
        with write_transaction() as tx:
            if tx.get(OutboxMessage, message_id) is None:
                abort(404)
            if notifications.retry_failed([message_id], session=tx):
                audit.record(
                    tx, "outbox_retry", staff=current_staff(), detail={"outbox_id": message_id}
                )
        flash(f"Notification #{message_id} will be tried again by the deliverer.")
    return redirect(url_for("staff.outbox"), 303)
