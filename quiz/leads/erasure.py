"""Erasure and retention: remove a lead and everything queued about it.

Deleting a lead cascades to its history (LeadEvent) and its queued
notifications (OutboxMessage) through the foreign keys (ON DELETE CASCADE;
SQLite enforces them because every connection turns `foreign_keys` on). The
audit entry names the lead's id only.

On SQLite the erasing connection also turns `secure_delete` on, so the freed
pages are overwritten with zeros instead of keeping the patient's details in
the file, and a checkpoint then clears the write-ahead log of the old pages.
On PostgreSQL the dead rows disappear at the next VACUUM (autovacuum).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, text

from quiz.core.clock import utcnow
from quiz.db import audit
from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead, StaffUser

PURGE_BATCH = 500  # short transactions: callbacks keep being stored during a purge


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    erased: int


def _secure_delete_on() -> None:
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("PRAGMA secure_delete = ON"))


def _checkpoint() -> None:
    """Best effort: move the WAL into the file and truncate it (SQLite only)."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def erase_lead(lead_id: int, *, staff: StaffUser | None, actor: str | None = None) -> bool:
    """Delete one lead with its history and outbox rows; audit it. False if it was gone."""
    with write_transaction() as session:
        _secure_delete_on()
        gone = session.execute(delete(Lead).where(Lead.id == lead_id)).rowcount
        if gone:
            audit.record(
                session, "erase", staff=staff, actor=actor, detail={"lead_id": lead_id}, row_count=1
            )
    if gone:
        _checkpoint()
        current_app.logger.info("lead %s erased", lead_id)
    return bool(gone)


def purge_older_than(days: int, *, actor: str, now: datetime | None = None) -> PurgeResult:
    """Erase every lead created more than `days` days ago, in short batches; audit once."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    erased = 0
    while True:
        with write_transaction() as session:
            _secure_delete_on()
            ids = list(
                session.execute(
                    select(Lead.id).where(Lead.created_at < cutoff).limit(PURGE_BATCH)
                ).scalars()
            )
            if ids:
                erased += session.execute(delete(Lead).where(Lead.id.in_(ids))).rowcount
            else:
                audit.record(
                    session,
                    "purge",
                    actor=actor,
                    detail={"older_than_days": days, "cutoff": cutoff.isoformat()},
                    row_count=erased,
                )
        if not ids:
            break
    if erased:
        _checkpoint()
    return PurgeResult(cutoff=cutoff, erased=erased)
