"""A lead's texts as staff read them: the thread in order, unread marks, the inbox.

Reading is what clears "unread": the lead page (and each refresh of its
thread) marks the patient's texts on that lead read. The lead list asks
`unread_leads` once for the page's leads, not once a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import TextAreaField

from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead, OutboxMessage, StaffUser, TextMessage
from quiz.texts.opt_out import opted_out_at
from quiz.texts.outgoing import FIRST_TEXT, KEYWORD
from quiz.texts.settings import text_settings

KIND_LABELS = {FIRST_TEXT: "automatic first text", KEYWORD: "automatic answer", "reply": ""}
STATUS_LABELS = {
    "waiting": "waiting to send",
    "queued": "sent to the provider",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "not delivered",
    "failed": "failed",
    "refused": "not sent",
    "received": "",
}


@dataclass(frozen=True)
class ThreadEntry:
    id: int
    at: datetime
    incoming: bool
    body: str
    label: str  # who or what sent it: "Patient", a staff email, "automatic first text"
    status: str  # in words; "" for a patient's text
    error: str
    due: datetime | None  # a text still waiting: when the outbox will send it
    unread: bool


@dataclass(frozen=True)
class Thread:
    entries: tuple[ThreadEntry, ...]
    opted_out_at: datetime | None
    newest_id: int


def thread_for(lead_id: int, number: str) -> Thread:
    """The lead's texts, oldest first, with the number's opt-out."""
    rows = db.session.execute(
        select(TextMessage, StaffUser.email, OutboxMessage.next_attempt_at, OutboxMessage.status)
        .outerjoin(StaffUser, StaffUser.id == TextMessage.staff_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == TextMessage.outbox_id)
        .where(TextMessage.lead_id == lead_id)
        .order_by(TextMessage.id)
    ).all()
    entries = tuple(_entry(text, email, due, queued) for text, email, due, queued in rows)
    newest = entries[-1].id if entries else 0
    return Thread(entries, opted_out_at(db.session, number), newest)


def _entry(
    text: TextMessage, email: str | None, due: datetime | None, queued: str | None
) -> ThreadEntry:
    incoming = text.direction == "in"
    status = STATUS_LABELS.get(text.status, text.status)
    if text.status == "waiting" and queued == "failed":  # the outbox gave up retrying
        status, due = "not sent: the provider could not be reached, retries used up", None
    if incoming:
        label = "Patient"
    elif text.kind == "reply":
        label = email or "a removed account"
    else:
        label = KIND_LABELS.get(text.kind, text.kind)
    return ThreadEntry(
        id=text.id,
        at=text.created_at,
        incoming=incoming,
        body=text.body,
        label=label,
        status=status,
        error=text.error,
        due=due if text.status == "waiting" else None,
        unread=incoming and text.read_at is None,
    )


def mark_read(lead_id: int, now: datetime) -> None:
    """The patient's texts on this lead have been seen by staff."""
    with write_transaction() as session:
        session.execute(
            update(TextMessage)
            .where(
                TextMessage.lead_id == lead_id,
                TextMessage.direction == "in",
                TextMessage.read_at.is_(None),
            )
            .values(read_at=now)
        )


def unread_leads(lead_ids: Iterable[int]) -> set[int]:
    """Which of these leads have a patient's text nobody has read."""
    ids = list(lead_ids)
    if not ids:
        return set()
    found = db.session.execute(
        select(TextMessage.lead_id)
        .where(
            TextMessage.lead_id.in_(ids),
            TextMessage.direction == "in",
            TextMessage.read_at.is_(None),
        )
        .distinct()
    )
    return {row[0] for row in found}


def inbox(limit: int = 200) -> list[TextMessage]:
    """Texts from numbers no lead has, newest first (the admins' inbox)."""
    return list(
        db.session.scalars(
            select(TextMessage)
            .where(TextMessage.lead_id.is_(None), TextMessage.direction == "in")
            .order_by(TextMessage.id.desc())
            .limit(limit)
        )
    )


REPLYING = ("desk", "admin", "agency")  # the roles that text patients (clinical accounts read)
POLL_SECONDS = 5


class ReplyForm(FlaskForm):
    body = TextAreaField("Text the patient")


def thread_context(
    lead: Lead, *, can_reply: bool, error: str = "", draft: str = ""
) -> dict[str, object] | None:
    """What the lead page's texts section shows; None when patients are not texted."""
    settings = text_settings()
    if settings is None:
        return None
    return {
        "thread": thread_for(lead.id, lead.phone),
        "reply_form": ReplyForm(formdata=None, body=draft),
        "can_reply": can_reply,
        "reply_error": error,
        "max_length": settings.max_length,
        "poll_seconds": POLL_SECONDS,
        "lead": lead,
    }
