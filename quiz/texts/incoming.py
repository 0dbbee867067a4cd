"""Texts from patients (Twilio's inbound webhook) and Twilio's delivery callbacks.

An inbound text is stored once per MessageSid (Twilio resends a webhook that
timed out: the second finds the first and stores nothing). It joins the
thread of the newest lead with the sender's number; a number no lead has
goes to the admins' inbox (lead_id None). STOP, START and HELP (keywords.py)
are acted on in the same transaction: STOP marks the number opted out at
once, for every lead, and queues the one confirmation it is allowed. An
ordinary text on a lead also queues the escalation for an unanswered text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz.db.engine import write_transaction
from quiz.db.models import Lead, TextMessage
from quiz.notifications import queue_unanswered_alert
from quiz.texts.keywords import keyword
from quiz.texts.opt_out import opted_out_at, set_opted_out
from quiz.texts.outgoing import KEYWORD, queue_text
from quiz.texts.wording import text_for

MAX_BODY = 1600  # Twilio's own limit for one message's text
SID = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")
# Twilio's MessageStatus values, in the order a text moves through them.
# fmt: off
STATUS_ORDER = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
                "delivered": 4, "read": 5, "undelivered": 4, "failed": 4, "canceled": 4}
# fmt: on


class BadRequest(ValueError):
    """A webhook whose fields are not Twilio's (signed, but not a message we can store)."""


@dataclass(frozen=True)
class Inbound:
    sid: str
    number: str  # the patient's, E.164
    body: str


def parse_inbound(form: dict[str, str]) -> Inbound:
    """Twilio's From, Body and MessageSid, checked; BadRequest when they are not."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not SID.match(sid):
        raise BadRequest("MessageSid is missing or not a message sid")
    try:
        parsed = phonenumbers.parse(form.get("From", ""), None)
    except phonenumbers.NumberParseException:
        raise BadRequest("From is not a phone number in E.164") from None
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    body = "".join(ch for ch in form.get("Body", "") if ch.isprintable() or ch in "\n\t")
    return Inbound(sid=sid, number=number, body=body[:MAX_BODY])


def receive(message: Inbound, now: datetime) -> bool:
    """Store an inbound text and act on it; False when this MessageSid was stored before."""
    try:
        with write_transaction() as session:
            if _seen(session, message.sid):
                return False
            _store(session, message, now)
    except IntegrityError:  # the same webhook, twice at once: the other request stored it
        return False
    return True


def _seen(session: Session, sid: str) -> bool:
    found = session.execute(select(TextMessage.id).where(TextMessage.provider_sid == sid))
    return found.first() is not None


def _store(session: Session, message: Inbound, now: datetime) -> None:
    lead = session.execute(
        select(Lead.id, Lead.locale)
        .where(Lead.phone == message.number)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(1)
    ).first()
    lead_id = lead.id if lead else None
    locale = lead.locale if lead else "en"
    word = keyword(message.body)
    # A keyword is answered automatically: kind "keyword", apart from what staff answer.
    text_id = (
        session.connection()
        .execute(
            insert(TextMessage.__table__).returning(TextMessage.__table__.c.id),
            dict(
                created_at=now,
                lead_id=lead_id,
                direction="in",
                kind="keyword" if word else "patient",
                number=message.number,
                body=message.body,
                provider_sid=message.sid,
                status="received",
                error="",
            ),
        )
        .scalar_one()
    )
    if word == "stop":
        if set_opted_out(session, message.number, now, out=True):  # one confirmation, once
            _answer(session, lead_id, message.number, "stop_text", locale, now)
        _read(session, text_id, now)  # nothing for staff to answer
    elif word == "start":
        if set_opted_out(session, message.number, now, out=False):
            _answer(session, lead_id, message.number, "start_text", locale, now)
        _read(session, text_id, now)
    elif word == "help":
        _answer(session, lead_id, message.number, "help_text", locale, now)
        _read(session, text_id, now)
    elif lead_id is not None and opted_out_at(session, message.number) is None:
        queue_unanswered_alert(session, lead_id=lead_id, text_id=text_id, received_at=now)


def _answer(
    session: Session, lead_id: int | None, number: str, key: str, locale: str, now: datetime
) -> None:
    body = text_for(key, locale)
    queue_text(session, lead_id=lead_id, number=number, body=body, kind=KEYWORD, due=now, now=now)


def _read(session: Session, text_id: int, now: datetime) -> None:
    session.execute(update(TextMessage).where(TextMessage.id == text_id).values(read_at=now))


def record_status(form: dict[str, str]) -> bool:
    """Apply one delivery callback; False for a sid we never sent (nothing changes)."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not SID.match(sid) or status not in STATUS_ORDER:
        raise BadRequest("MessageSid or MessageStatus is missing or unknown")
    code = form.get("ErrorCode") or ""
    with write_transaction() as session:
        current = session.execute(
            select(TextMessage.id, TextMessage.status).where(
                TextMessage.provider_sid == sid, TextMessage.direction == "out"
            )
        ).first()
        if current is None:
            return False
        if STATUS_ORDER[status] < STATUS_ORDER.get(current.status, -1):
            return True  # callbacks can arrive out of order: never step back
        values = {"status": status}
        if status in ("failed", "undelivered"):
            values["error"] = f"{status} (Twilio error {code})" if code.isdigit() else status
        session.execute(update(TextMessage).where(TextMessage.id == current.id).values(**values))
    return True
