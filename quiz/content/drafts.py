"""Each editor's draft of the content: one row per staff account, replaced as a whole.

Only storage here; what a draft may hold and how it is checked and published
is quiz/content/editing.py.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from quiz.content.document import ContentDocument
from quiz.core.clock import utcnow
from quiz.db.models import ContentDraft
from quiz.db.scope import spa_for_insert


def get(session: Session, staff_id: int) -> ContentDraft | None:
    return session.get(ContentDraft, (spa_for_insert(), staff_id))


def save(
    session: Session, staff_id: int, document: ContentDocument, based_on: int | None
) -> ContentDraft:
    """Store `document` as the staff member's draft (in the caller's write transaction)."""
    row = get(session, staff_id)
    if row is None:
        row = ContentDraft(staff_id=staff_id)
        session.add(row)
    row.based_on = based_on
    row.document = document.to_json()
    row.updated_at = utcnow()
    session.flush()
    return row


def remove(session: Session, staff_id: int) -> None:
    session.execute(delete(ContentDraft).where(ContentDraft.staff_id == staff_id))
