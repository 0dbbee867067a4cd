"""Opted-out numbers: STOP applies at once to every lead with the number, START undoes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.db.models import TextOptOut
from quiz.db.scope import spa_for_insert


def opted_out_at(session: Session, number: str) -> datetime | None:
    """When the number texted STOP, if it has not texted START since; else None."""
    return session.execute(
        select(TextOptOut.opted_out_at).where(TextOptOut.number == number)
    ).scalar_one_or_none()


def set_opted_out(session: Session, number: str, now: datetime, out: bool) -> bool:
    """Record STOP (out) or START; return True when that changed anything."""
    row = session.get(TextOptOut, (spa_for_insert(), number))
    if row is None:
        if not out:
            return False
        session.add(TextOptOut(number=number, opted_out_at=now, changed_at=now))
        return True
    if (row.opted_out_at is not None) == out:
        return False
    row.opted_out_at = now if out else None
    row.changed_at = now
    return True
