"""Which channel sends a claimed outbox message, and what of the lead it reads to do so.

The outbox row holds no patient details; what a message may show is read from
the lead when it is sent (`lead_for`), so a lead erased first is never sent:
its rows went with it. An escalation text is sent only if the lead is still
"new" and nobody has contacted it (`NotNeeded` otherwise: recorded, not sent).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from quiz.core.clock import utcnow
from quiz.db.engine import db
from quiz.db.models import Lead, TextMessage
from quiz.notifications.channels import (
    ALERT_KIND,
    DeliveryError,
    email_for,
    send_email,
    send_webhook,
    webhook_body,
)
from quiz.notifications.settings import settings
from quiz.notifications.sms import ESCALATION_KIND, UNANSWERED_KIND, send_sms, text_body
from quiz.spas import current_details

# Lead fields a webhook may carry when WEBHOOK_INCLUDE_LEAD_FIELDS is on.
LEAD_FIELDS = (
    "name", "phone", "email", "best_time", "outcome", "concern", "areas", "goal",
    "source_url", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
)  # fmt: skip
# What a text reads: the best time always, name and phone only with SMS_INCLUDE_CONTACT,
# the status and first contact to decide whether an escalation is still needed.
SMS_FIELDS = ("best_time", "name", "phone", "status", "first_contacted_at")


class NotNeeded(Exception):
    """An escalation whose lead was worked on meanwhile: recorded as cancelled, not sent."""


class NotYet(Exception):
    """Not to be sent before `when` (a patient's quiet hours): put back, no attempt counted."""

    def __init__(self, when: datetime) -> None:
        super().__init__(f"waits until {when.isoformat()}")
        self.when = when


# Channels another feature sends (quiz.texts registers "text"): the sender reads
# what it needs itself and raises DeliveryError, Rejected, NotNeeded or NotYet.
# `now` is the deliverer's clock (tests fix it).
SENDERS: dict[str, Callable[[dict[str, Any], datetime], None]] = {}


def register_sender(channel: str, sender: Callable[[dict[str, Any], datetime], None]) -> None:
    SENDERS[channel] = sender


def lead_for(session: Session, channel: str, lead_id: int | None) -> Row[Any] | None:
    """The lead's fields this channel's message needs, or None when it needs none."""
    if lead_id is None:
        return None
    config = settings()
    if channel == "sms":
        names = SMS_FIELDS
    elif channel == "webhook" and config.webhook is not None and config.webhook.include_lead_fields:
        names = LEAD_FIELDS
    else:
        return None
    columns = [getattr(Lead, name) for name in names]
    return session.execute(select(*columns).where(Lead.id == lead_id)).one_or_none()


def send(
    channel: str, payload: dict[str, Any], lead: Row[Any] | None, now: datetime | None = None
) -> None:
    """Send one message on its channel; DeliveryError (or NotNeeded) when it did not go."""
    config = settings()
    if channel in SENDERS:
        SENDERS[channel](payload, now or utcnow())
    elif channel == "email" and config.email:
        spa_name = current_details(current_app).name
        send_email(config.email, email_for(config.email, payload, spa_name))
    elif channel == "webhook" and config.webhook and payload.get("kind") != ALERT_KIND:
        fields = None
        if lead is not None:
            fields = dict(lead._mapping)
            fields["areas"] = [a for a in fields["areas"].split(";") if a]
        lead_info = {"id": payload["lead_id"], "created_at": payload["created_at"],
                     "staff_url": payload["staff_url"]}  # fmt: skip
        body = webhook_body(key=payload["key"], lead=lead_info, fields=fields)
        send_webhook(config.webhook, payload["key"], body)
    elif channel == "sms" and config.sms and lead is not None:
        fields = lead._mapping
        if payload.get("kind") == ESCALATION_KIND and (
            fields["status"] != "new" or fields["first_contacted_at"] is not None
        ):
            raise NotNeeded(f"not sent: lead #{payload['lead_id']} was worked on before it was due")
        if payload.get("kind") == UNANSWERED_KIND and _answered(payload):
            raise NotNeeded(f"not sent: the text on lead #{payload['lead_id']} was answered")
        body = text_body(payload, fields, config.sms.include_contact)
        send_sms(config.sms, payload["to"], body, payload["key"])
    else:
        raise DeliveryError(f"channel {channel!r} is not configured any more")


def _answered(payload: dict[str, Any]) -> bool:
    """True when staff texted the lead back after the patient's text this alert is about."""
    reply = db.session.execute(
        select(TextMessage.id)
        .where(
            TextMessage.lead_id == payload["lead_id"],
            TextMessage.direction == "out",
            TextMessage.kind == "reply",
            TextMessage.id > payload["text_id"],
        )
        .limit(1)
    ).first()
    db.session.rollback()  # end the read: the deliverer writes next
    return reply is not None
