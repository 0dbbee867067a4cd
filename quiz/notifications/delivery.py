"""Delivering the outbox: what is due is sent, once, with retries.

`deliver_due` (run by `flask outbox deliver`, a separate process) sends what is due:

- claim: a short transaction marks a batch as leased to this deliverer
  (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so deliverers never wait on each
  other; on SQLite the write transaction itself is exclusive, which is as safe);
- before each send the lease is renewed, and only if this deliverer still holds
  it: one message is never in flight from two deliverers at once;
- after each send the result is recorded at once: delivered, or a retry with
  exponential backoff, or "failed" after OUTBOX_MAX_ATTEMPTS (staff see those);
- a deliverer killed between sending and recording leaves a lease that runs
  out; the message is sent again with the same idempotency key, which the
  receiver uses to keep one copy (see quiz.notify).

A message with no lead (`lead_id` None) is a staff alert (payload kind
`staff.login_alert`): it is sent as the plain alert email (`channels.email_for`).

What each channel sends is `quiz.notifications.dispatch`. A text the provider
refuses outright (`sms.Rejected`, a 4xx such as an invalid number) fails at
once, without retries, and does not stop the run's other texts; an escalation
no longer needed (the lead was worked on) is recorded as "cancelled", unsent.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.exc import OperationalError

from quiz.core.clock import iso
from quiz.db.engine import write_transaction
from quiz.db.models import OutboxMessage
from quiz.db.scope import ALL_SPAS, spa_scope
from quiz.notifications.channels import DeliveryError, PartialDelivery
from quiz.notifications.dispatch import NotNeeded, NotYet, lead_for, send
from quiz.notifications.settings import settings
from quiz.notifications.sms import Rejected

log = logging.getLogger(__name__)

MAX_ERROR = 1000


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0  # escalations not needed any more (the lead was worked on)
    deferred: int = 0  # put back until their time (a patient's quiet hours)
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


def worker_name() -> str:
    """This deliverer's name in `claimed_by`: host, pid and a random tag."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def deliver_due(
    *,
    worker: str | None = None,
    now: datetime | None = None,
    max_messages: int | None = None,
) -> DeliveryReport:
    """Claim and send every due message (or up to max_messages); return what happened.

    `now` fixes the clock (tests); otherwise the wall clock is read at each step.
    Every spa's messages, oldest first: the run is install-wide, and each
    message is sent in its own spa's scope (deliver_one).
    """
    with spa_scope(ALL_SPAS):
        return _deliver_due(worker=worker, now=now, max_messages=max_messages)


def _deliver_due(
    *, worker: str | None, now: datetime | None, max_messages: int | None
) -> DeliveryReport:
    config = settings()
    worker = worker or worker_name()
    clock: Callable[[], datetime] = (lambda: now) if now else (lambda: datetime.now(UTC))
    started = clock()
    report = DeliveryReport()
    down: set[str] = set()  # a channel that failed is not tried again in this run
    while max_messages is None or _handled(report) < max_messages:
        wanted = config.batch_size
        if max_messages is not None:
            wanted = min(wanted, max_messages - _handled(report))
        batch = claim(worker, started, clock, wanted, exclude=down)
        if not batch:
            break
        for position, (message_id, channel) in enumerate(batch):
            if channel in down:
                release([m for m, c in batch[position:] if c == channel], worker)
                continue
            outcome = deliver_one(message_id, worker, clock)
            if outcome in ("retrying", "failed"):
                down.add(channel)
            elif outcome == "rejected":  # this message was wrong, not the channel
                outcome = "failed"
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _handled(report: DeliveryReport) -> int:
    return report.attempted + report.skipped + report.cancelled + report.deferred


def claim(
    worker: str,
    due_by: datetime,
    clock: Callable[[], datetime],
    limit: int,
    *,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[tuple[int, str]]:
    """Lease up to `limit` due messages to `worker`; return their (id, channel)."""
    now = clock()
    query = (
        select(OutboxMessage.id, OutboxMessage.channel)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= due_by,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        # PostgreSQL: rows another deliverer is claiming right now are skipped,
        # not waited for. SQLite has no row locks (SQLAlchemy leaves this out);
        # its BEGIN IMMEDIATE makes the whole claim exclusive instead.
        .with_for_update(skip_locked=True)
    )
    if exclude:
        query = query.where(OutboxMessage.channel.not_in(sorted(exclude)))
    with write_transaction() as session:
        rows = [(r.id, r.channel) for r in session.execute(query)]
        if rows:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r[0] for r in rows]))
                .values(claimed_by=worker, claimed_until=now + _lease())
            )
    return rows


def release(message_ids: list[int], worker: str) -> None:
    """Give back leases without an attempt (their channel is down for this run)."""
    if not message_ids:
        return
    with write_transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids), OutboxMessage.claimed_by == worker)
            .values(claimed_by="", claimed_until=None)
        )


def deliver_one(message_id: int, worker: str, clock: Callable[[], datetime]) -> str:
    """Send one claimed message and record the result.

    Returns delivered, retrying, failed, rejected (failed at once), cancelled, deferred
    (not before a later time: put back with no attempt counted) or skipped.
    """
    job = _renew_and_load(message_id, worker, clock)
    if job is None:
        return "skipped"  # another deliverer took it over, or it is done already
    message, lead = job
    with spa_scope(message.spa_id):  # what the sending reads and writes is that spa's
        return _send_and_record(message_id, message, lead, clock)


def _send_and_record(
    message_id: int, message: Row[Any], lead: Row[Any] | None, clock: Callable[[], datetime]
) -> str:
    attempts = message.attempts + 1  # this one included
    payload = json.loads(message.payload)
    try:
        send(message.channel, payload, lead, clock())
    except NotNeeded as err:
        _record(message_id, clock, delivered=False, attempts=attempts - 1, error=str(err),
                cancelled=True)  # fmt: skip
        return "cancelled"
    except NotYet as err:
        _record(message_id, clock, delivered=False, attempts=attempts - 1, deferred=err.when)
        return "deferred"
    except Rejected as err:
        _record(message_id, clock, delivered=False, attempts=attempts, error=str(err), final=True)
        log.warning("outbox message %s (lead %s, %s) refused, not retried: %s",
                    message_id, message.lead_id, message.channel, err)  # fmt: skip
        return "rejected"
    except PartialDelivery as err:
        _record(message_id, clock, delivered=True, attempts=attempts, error=str(err))
        log.warning("outbox message %s (lead %s): %s", message_id, message.lead_id, err)
        return "delivered"
    except DeliveryError as err:
        final = attempts >= settings().max_attempts
        _record(message_id, clock, delivered=False, attempts=attempts, error=str(err), final=final)
        log.warning(
            "outbox message %s (lead %s, %s) attempt %s failed: %s",
            message_id, message.lead_id, message.channel, attempts, err,
        )  # fmt: skip
        return "failed" if final else "retrying"
    _record(message_id, clock, delivered=True, attempts=attempts)
    log.info("outbox message %s (lead %s, %s) delivered", message_id, message.lead_id,
             message.channel)  # fmt: skip
    return "delivered"


def _renew_and_load(
    message_id: int, worker: str, clock: Callable[[], datetime]
) -> tuple[Row[Any], Row[Any] | None] | None:
    with write_transaction() as session:
        renewed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.claimed_by == worker,
                OutboxMessage.status == "pending",
            )
            .values(claimed_until=clock() + _lease())
        )
        if renewed.rowcount != 1:
            return None
        # Plain rows, not ORM objects: the session's identity map may hold an old copy.
        message = session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.payload,
                OutboxMessage.attempts,
                OutboxMessage.lead_id,
                OutboxMessage.spa_id,
            ).where(OutboxMessage.id == message_id)
        ).one()
        lead = lead_for(session, message.channel, message.lead_id)
    return message, lead


def _record(
    message_id: int,
    clock: Callable[[], datetime],
    *,
    delivered: bool,
    attempts: int,
    error: str = "",
    final: bool = False,
    cancelled: bool = False,
    deferred: datetime | None = None,
) -> None:
    """Record one attempt (the `attempts`-th) and release the lease."""
    now = clock()
    values: dict[str, Any] = {
        "attempts": OutboxMessage.attempts + (0 if cancelled or deferred else 1),
        "claimed_by": "",
        "claimed_until": None,
    }
    if error:
        values["last_error"] = f"{iso(now)} {error}"[:MAX_ERROR]
    if delivered:
        values.update(status="delivered", delivered_at=now)
    elif cancelled:
        values["status"] = "cancelled"
    elif deferred is not None:
        values["next_attempt_at"] = deferred  # still pending: claimed again when it is due
    else:
        values["status"] = "failed" if final else "pending"
        values["next_attempt_at"] = now + settings().backoff(attempts)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
        .values(**values)
    )
    # The send happened: try hard to record it, or it will be sent again later
    # (harmless for a receiver that de-duplicates, but noisy).
    for pause in (0.5, 1.0, 2.0, None):
        try:
            with write_transaction() as session:
                session.execute(statement)
            return
        except OperationalError:
            if pause is None:
                raise
            time.sleep(pause)


def _lease() -> timedelta:
    return timedelta(seconds=settings().lease_seconds)
