"""The audit log: who did what and when. Never a patient's details.

Details are JSON with ids, filters and counts only. A search term typed into
the lead list is often a patient's name or phone number, so exports record
only that a search was applied, not what it was.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from quiz.core.clock import utcnow
from quiz.db.engine import write_transaction
from quiz.db.models import AuditLog, StaffUser
from quiz.db.scope import spa_for_insert

CLI_ACTOR = "cli"


def record(
    session: Session,
    action: str,
    *,
    staff: StaffUser | None = None,
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
    row_count: int | None = None,
    spa_id: int | None = None,
) -> AuditLog:
    """Add an audit entry to the session's transaction (the caller commits)."""
    entry = AuditLog(
        # A staff member's entries are their spa's log (a sign-in happens before any scope).
        spa_id=spa_id or (staff.spa_id if staff is not None else None) or spa_for_insert(),
        at=utcnow(),
        staff_id=staff.id if staff is not None else None,
        actor=(actor if actor is not None else (staff.email if staff else ""))[:254],
        action=action,
        detail=json.dumps(detail or {}, sort_keys=True, default=str),
        row_count=row_count,
    )
    session.add(entry)
    return entry


def record_export(
    fmt: str,
    filters: dict[str, Any],
    row_count: int,
    *,
    staff: StaffUser | None = None,
    actor: str | None = None,
) -> None:
    """Audit one export (CSV or XLSX, from the console or the CLI) in its own transaction."""
    detail: dict[str, Any] = {"format": fmt, "filters": filters}
    if actor == CLI_ACTOR:
        detail["via"] = "cli"
    with write_transaction() as tx:
        record(tx, "export", staff=staff, actor=actor, detail=detail, row_count=row_count)
