"""Texts to patients: queued in the outbox (sent once, retried, idempotency key), then sent.

Three kinds go out, each a `text_message` row in the lead's thread plus an
outbox row on the "text" channel whose payload names only that row:
- `first_text`: automatic, to a patient who ticked the texting consent, queued
  in the lead's own transaction; it waits for 8:00–21:00 where the number is
  (quiet_hours.py), checked again when it is sent;
- `reply`: typed by staff on the lead page;
- `keyword`: the one confirmation of STOP or START, or the answer to HELP.

Nothing but a STOP or START confirmation goes to an opted-out number: a text
queued before the STOP is cancelled when its turn comes. What the provider
refuses (a landline, Twilio's 21614; an invalid number, 21211) is marked
"refused" with the reason staff read in the thread, and never retried; 21610
(the number had replied STOP to this sender) also marks the number opted out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from quiz.db.engine import write_transaction
from quiz.db.models import TextMessage
from quiz.notifications import (
    DeliveryError,
    NotNeeded,
    NotYet,
    Rejected,
    queue_message,
    send_sms,
)
from quiz.texts.opt_out import opted_out_at, set_opted_out
from quiz.texts.quiet_hours import next_allowed
from quiz.texts.settings import text_settings
from quiz.texts.wording import text_for

CHANNEL = "text"
FIRST_TEXT, REPLY, KEYWORD = "first_text", "reply", "keyword"
MAX_ERROR = 300

# Provider codes staff get in plain words (Twilio's error dictionary).
REASONS = {
    21211: "not a valid phone number",
    21614: "a landline or another number that cannot get texts",
    21610: "the patient had replied STOP to this number",
    21408: "texts to this country are not enabled on the account",
}


class ReplyRefused(Exception):
    """A staff reply that may not or cannot go; the message says why, for the reply box."""


def queue_text(
    session: Session,
    *,
    lead_id: int | None,
    number: str,
    body: str,
    kind: str,
    due: datetime,
    now: datetime,
    staff_id: int | None = None,
) -> int:
    """Add the text to the thread and its outbox row, in the caller's transaction."""
    connection = session.connection()
    text_id = connection.execute(
        insert(TextMessage.__table__).returning(TextMessage.__table__.c.id),
        dict(
            created_at=now,
            lead_id=lead_id,
            direction="out",
            kind=kind,
            number=number,
            body=body,
            status="waiting",
            error="",
            staff_id=staff_id,
        ),
    ).scalar_one()
    outbox_id = queue_message(session, lead_id=lead_id, channel=CHANNEL,
                              payload={"text_id": text_id, "kind": kind}, due=due,
                              created_at=now)  # fmt: skip
    connection.execute(
        update(TextMessage.__table__)
        .where(TextMessage.__table__.c.id == text_id)
        .values(outbox_id=outbox_id)
    )
    return int(text_id)


def queue_first_text(
    session: Session, *, lead_id: int, phone: str, name: str, locale: str, now: datetime
) -> int | None:
    """The automatic first text, in the lead's transaction; None when none may go."""
    settings = text_settings()
    if settings is None or opted_out_at(session, phone) is not None:
        return None
    first_name = (name.split() or [""])[0]
    body = text_for("first_text", locale, first_name=first_name)
    due = next_allowed(phone, now, settings.time_zone)
    return queue_text(session, lead_id=lead_id, number=phone, body=body, kind=FIRST_TEXT,
                      due=due, now=now)  # fmt: skip


def queue_reply(
    session: Session, *, lead_id: int, number: str, body: str, staff_id: int, now: datetime
) -> int:
    """A staff reply, due at once; ReplyRefused (nothing stored) when it may not go."""
    settings = text_settings()
    if settings is None:
        raise ReplyRefused("Texting patients is off (PATIENT_TEXTS).")
    body = body.strip()
    if not body:
        raise ReplyRefused("Write the text first.")
    if len(body) > settings.max_length:
        raise ReplyRefused(
            f"That text is {len(body)} characters; keep it to {settings.max_length}."
        )
    stopped = opted_out_at(session, number)
    if stopped is not None:
        raise ReplyRefused(
            f"This number texted STOP on {stopped:%Y-%m-%d}: no text may go to it until "
            "the patient texts START. Call instead if they asked for a call."
        )
    return queue_text(session, lead_id=lead_id, number=number, body=body, kind=REPLY,
                      due=now, now=now, staff_id=staff_id)  # fmt: skip


def send_text(payload: dict[str, Any], now: datetime) -> None:
    """The outbox's sender for the "text" channel (see the module's doc)."""
    settings = text_settings()
    if settings is None:
        raise DeliveryError("patient texts are off (PATIENT_TEXTS): not sent")
    text_id = int(payload["text_id"])
    with write_transaction() as session:
        text = session.execute(
            select(TextMessage.number, TextMessage.body, TextMessage.kind).where(
                TextMessage.id == text_id
            )
        ).one_or_none()
        if text is None:
            raise NotNeeded("not sent: its lead was erased")
        stopped = text.kind != KEYWORD and opted_out_at(session, text.number) is not None
        if stopped:
            _mark(session, text_id, status="refused", error="not sent: the number texted STOP")
    if stopped:
        raise NotNeeded("not sent: the number texted STOP")
    if text.kind == FIRST_TEXT:
        when = next_allowed(text.number, now, settings.time_zone)
        if when > now:
            raise NotYet(when)
    try:
        sid = send_sms(settings.sms, text.number, text.body, payload["key"], settings.status_url)
    except Rejected as err:
        reason = REASONS.get(err.code or 0, "")
        with write_transaction() as session:
            _mark(session, text_id, status="refused",
                  error=f"refused: {reason} ({err})" if reason else f"refused: {err}")  # fmt: skip
            if err.code == 21610:
                set_opted_out(session, text.number, now, out=True)
        raise
    except DeliveryError as err:
        with write_transaction() as session:
            _mark(session, text_id, error=f"not sent yet, will retry: {err}")
        raise
    with write_transaction() as session:
        _mark(session, text_id, error="", provider_sid=sid or None)
        # A status callback may have come first: never step back from "delivered".
        session.execute(
            update(TextMessage)
            .where(TextMessage.id == text_id, TextMessage.status == "waiting")
            .values(status="queued")
        )


def _mark(session: Session, text_id: int, **values: Any) -> None:
    if "error" in values:
        values["error"] = values["error"][:MAX_ERROR]
    session.execute(update(TextMessage).where(TextMessage.id == text_id).values(**values))
