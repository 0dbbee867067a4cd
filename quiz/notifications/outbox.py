"""The outbox: staff notifications queued with the lead, and what staff see of them.

`queue_notifications` runs inside the lead's own write transaction, so a stored
lead always has its notifications and a refused one has none: one row per
channel, but one text per staff number (`sms`), and with texts on, one
escalation text per escalation number, due once STAFF_STALE_LEAD_MINUTES of
opening hours have passed (the deliverer sends it only if the lead is still new).
`queue_staff_alert` queues an alert about no lead (`lead_id` None), e.g. many
failed sign-ins for one staff account: by email only (the webhook announces
leads, `lead.created`, and is not used for alerts), in the transaction that
records the alert in the audit log. Sending is
`quiz.notifications.delivery` (run by `flask outbox deliver`, its own process).
Staff, `/healthz` and `flask outbox` read the counts here, and a failed message
goes back in the queue through `retry_failed`, the one way to retry.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from quiz.core.clock import iso, utcnow
from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead, OutboxMessage
from quiz.db.scope import spa_for_insert
from quiz.notifications.channels import ALERT_KIND
from quiz.notifications.settings import OutboxSettings, settings
from quiz.notifications.sms import ESCALATION_KIND, LEAD_KIND, UNANSWERED_KIND

log = logging.getLogger(__name__)


# --- queueing (inside the lead's transaction) -----------------------------------


def queue_notifications(session: Session, lead: Lead) -> None:
    """Add one outbox row per configured channel for a flushed lead, in its transaction.

    The rows go in with one INSERT (executemany), not as ORM objects: nothing
    in the request reads them back, and the callback is the patient's wait.
    """
    config = settings()
    if not config.channels:
        return
    # Only what staff need to find the lead; the answers stay in the database.
    common = {
        "lead_id": lead.id,
        "created_at": iso(lead.created_at),
        "staff_url": staff_link(lead.id),
    }
    rows: list[dict[str, Any]] = []
    for channel in config.channels:
        if channel == "sms":
            rows += _texts(lead, common, config)
            continue
        payload = json.dumps({"key": uuid.uuid4().hex, **common})
        rows.append(_row(lead.id, channel, payload, lead.created_at, lead.created_at))
    session.connection().execute(insert(OutboxMessage.__table__), rows)


def _row(
    lead_id: int | None, channel: str, payload: str, due: datetime, created_at: datetime
) -> dict[str, Any]:
    # The other columns take their defaults: pending, no attempt, unclaimed.
    return {
        "lead_id": lead_id,
        "channel": channel,
        "payload": payload,
        "next_attempt_at": due,
        "created_at": created_at,
    }


def queue_message(
    session: Session,
    *,
    lead_id: int | None,
    channel: str,
    payload: dict[str, Any],
    due: datetime,
    created_at: datetime,
) -> int:
    """One row for another feature's channel (quiz.texts), in the caller's transaction; its id.

    The payload gets its idempotency key here, as every outbox message does.
    """
    body = json.dumps({"key": uuid.uuid4().hex, **payload})
    statement = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)
    row = _row(lead_id, channel, body, due, created_at)
    return int(session.connection().execute(statement, row).scalar_one())


def _texts(lead: Lead, common: dict[str, Any], config: OutboxSettings) -> list[dict[str, Any]]:
    """One text per staff number now, and one escalation text per number when it falls due."""
    assert config.sms is not None
    texts = [(number, LEAD_KIND, lead.created_at) for number in config.sms.to]
    due = config.escalation.due(lead.created_at) if config.escalation else None
    if due is not None:
        texts += [(number, ESCALATION_KIND, due) for number in config.sms.escalation_to]
    rows = []
    for number, kind, when in texts:
        # The staff number is in the payload; the patient's name and phone never are.
        payload = {"key": uuid.uuid4().hex, **common, "kind": kind, "to": number}
        rows.append(_row(lead.id, "sms", json.dumps(payload), when, lead.created_at))
    return rows


def queue_unanswered_alert(
    session: Session, *, lead_id: int, text_id: int, received_at: datetime
) -> int:
    """Queue the escalation texts for a patient's text, due after the stale-lead wait.

    Sent only if nobody has texted the lead back by then (dispatch says NotNeeded
    otherwise); the wait counts opening hours, as for a lead nobody called.
    Returns how many were queued (none without escalation texts).
    """
    config = settings()
    if config.sms is None or config.escalation is None:
        return 0
    due = config.escalation.due(received_at)
    if due is None:
        return 0
    common = {"lead_id": lead_id, "created_at": iso(received_at), "staff_url": staff_link(lead_id)}
    rows = []
    for number in config.sms.escalation_to:
        payload = {"key": uuid.uuid4().hex, **common, "kind": UNANSWERED_KIND, "to": number,
                   "text_id": text_id}  # fmt: skip
        rows.append(_row(lead_id, "sms", json.dumps(payload), due, received_at))
    if rows:
        session.connection().execute(insert(OutboxMessage.__table__), rows)
    return len(rows)


def queue_staff_alert(
    session: Session, *, account_id: int | None, account: str, failures: int, window: str
) -> bool:
    """Queue the alert email about failed sign-ins for one account; False without email.

    The payload says which account (its id and email, or "" for an address that
    is no account), how many failures in which window, and links to the staff
    area only from STAFF_BASE_URL (never from the request: its Host header is
    the attacker's to choose). Never a password, never a patient.
    """
    config = settings()
    if config.email is None:
        return False
    now = utcnow()
    payload = {
        "key": uuid.uuid4().hex,
        "kind": ALERT_KIND,
        "account_id": account_id,
        "account": account,
        "failures": failures,
        "window": window,
        "created_at": iso(now),
        "staff_url": f"{config.staff_base_url}/staff/" if config.staff_base_url else "",
    }
    session.add(
        OutboxMessage(
            spa_id=spa_for_insert(),  # now: the flush may come after the caller's scope ends
            lead_id=None,
            channel="email",
            payload=json.dumps(payload),
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def staff_link(lead_id: int) -> str:
    """The lead's page in the staff area, from STAFF_BASE_URL (or, in development, the request)."""
    base = settings().staff_base_url
    if not base and has_request_context():
        base = request.url_root.rstrip("/")
    return f"{base}/staff/leads/{lead_id}"


# --- for staff, health checks and the CLI ---------------------------------------


def status_counts() -> dict[str, int]:
    """How many messages are pending, failed and delivered."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in ("pending", "failed", "delivered")}


def summary(now: datetime | None = None) -> dict[str, Any]:
    """Counts by status and how long the oldest due message has waited (seconds)."""
    now = now or datetime.now(UTC)
    oldest = db.session.execute(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
    ).scalar()
    waiting = 0 if oldest is None else max(0, int((now - oldest).total_seconds()))
    return {**status_counts(), "oldest_due_seconds": waiting}


def undelivered(
    limit: int = 200, statuses: tuple[str, ...] = ("pending", "failed")
) -> list[OutboxMessage]:
    """Messages not delivered (pending or failed, or only `statuses`), newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def retry_failed(message_ids: list[int] | None = None, session: Session | None = None) -> int:
    """Put failed messages back in the queue, due now, with fresh attempts; return how many.

    All failed messages, or the given ids. With `session` (an open write
    transaction) it runs in it, so a caller can record who asked in the same
    transaction; otherwise it opens its own.
    """
    statement = update(OutboxMessage).where(OutboxMessage.status == "failed")
    if message_ids is not None:
        statement = statement.where(OutboxMessage.id.in_(message_ids))
    statement = statement.values(
        status="pending",
        attempts=0,
        next_attempt_at=datetime.now(UTC),
        claimed_by="",
        claimed_until=None,
    )
    if session is not None:
        return session.execute(statement).rowcount
    with write_transaction() as tx:
        return tx.execute(statement).rowcount
