"""Storing callback requests as leads: one short write transaction each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from quiz.core.clock import utcnow
from quiz.core.scoring import Result
from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead
from quiz.db.scope import spa_for_insert
from quiz.notifications import queue_notifications
from quiz.texts import SmsConsent, queue_first_text

MAX_USER_AGENT = 400


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str  # E.164
    email: str
    best_time: str


@dataclass(frozen=True)
class Consent:
    text: str
    version: str
    ip: str
    user_agent: str
    origin: str
    locale: str = "en"  # the language the patient saw the quiz and this consent in
    # The texting consent as shown, when the patient ticked it (and texting is on).
    sms: SmsConsent | None = None

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def store_lead(
    *,
    contact: Contact,
    result: Result,
    consent: Consent,
    tracking: dict[str, str],
    referrer: str,
    nonce: str,
) -> tuple[Lead, bool]:
    """Store the lead; return (lead, created). A resent form returns the stored lead.

    The key is the form token's nonce, whatever the form's contents: one form,
    one lead. The same form sent twice (double click, refresh, retry) or sent
    again with other details (a bot replaying one token) stores nothing more.
    """
    # No look-up first: the nonce's unique constraint answers "sent before?" in
    # the insert itself, so a new lead (the usual case) costs one transaction.
    now = utcnow()
    sms = consent.sms
    values = dict(
        spa_id=spa_for_insert(),  # the spa whose quiz the patient used (quiz/db/scope.py)
        created_at=now,
        updated_at=now,
        status="new",
        name=contact.name,
        phone=contact.phone,
        email=contact.email,
        best_time=contact.best_time,
        concern=result.answers.concern,
        areas=";".join(result.answers.areas),
        goal=result.answers.goal,
        outcome=result.outcome,
        consent_at=now,
        consent_text_version=consent.version,
        consent_text_hash=consent.text_hash,
        consent_text=consent.text,
        consent_ip=_printable(consent.ip)[:45],
        consent_user_agent=_printable(consent.user_agent)[:MAX_USER_AGENT],
        consent_origin=_printable(consent.origin)[:200],
        locale=consent.locale,
        source_url=tracking.get("page", ""),
        referrer=tracking.get("ref", "") or _printable(referrer)[:2048],
        utm_source=tracking.get("utm_source", ""),
        utm_medium=tracking.get("utm_medium", ""),
        utm_campaign=tracking.get("utm_campaign", ""),
        utm_term=tracking.get("utm_term", ""),
        utm_content=tracking.get("utm_content", ""),
        form_nonce=nonce,
        sms_consent=sms is not None,
        sms_consent_at=now if sms else None,
        sms_consent_text=sms.recorded_text if sms else "",
        sms_consent_text_hash=sms.text_hash if sms else "",
        sms_consent_text_version=sms.version if sms else "",
    )
    try:
        with write_transaction() as session:
            # A plain INSERT … RETURNING id rather than the ORM's unit of work: the
            # patient waits on this, and nothing here reads the lead back.
            lead = Lead(**values)
            statement = insert(Lead.__table__).returning(Lead.__table__.c.id)
            lead.id = session.connection().execute(statement, values).scalar_one()
            queue_notifications(session, lead)  # same transaction: both or neither
            if sms is not None:  # the automatic first text, in the same transaction too
                queue_first_text(session, lead_id=lead.id, phone=contact.phone,
                                 name=contact.name, locale=consent.locale, now=now)  # fmt: skip
    except IntegrityError:
        # This form was stored already (a resend), or arrived twice at once and
        # the other request won: either way, that lead is the answer.
        existing = _by_nonce(nonce)
        if existing is None:
            raise
        return existing, False
    return lead, True


def _printable(header: str) -> str:
    """A request header's text without control characters (PostgreSQL refuses NUL)."""
    return "".join(ch for ch in header if ch.isprintable())


def _by_nonce(nonce: str) -> Lead | None:
    return db.session.execute(select(Lead).where(Lead.form_nonce == nonce)).scalar_one_or_none()
