"""Published content versions: read the latest, list them, add one (never change one).

A version whose medical part was new when published (`needs_approval`) is
live only once a clinical account approved it (a ContentApproval row); the
approvals are added beside the versions, which stay unchanged.

Only storage here: validating a document and auditing a publish happen in
quiz/content/publishing.py; serving the latest in quiz/content/live.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz.content.document import ContentDocument
from quiz.content.locales import document_version, parse_document
from quiz.content.medical import medical_hash
from quiz.core.clock import iso, utcnow
from quiz.db.engine import write_transaction
from quiz.db.models import ContentApproval, ContentVersion
from quiz.db.scope import spa_for_insert, spa_scope

FILE_AUTHOR = "file"  # the first version, stored from the content files
NOTE_LENGTH = 500
FIRST_NOTE = "the content files, stored at first start"


class StaleVersion(Exception):
    """Someone published since the version this change was based on.

    `published` holds the versions stored since (oldest first) when the
    publisher looked them up (quiz/content/publishing does), so the
    editor can show the other person's change: number, author, time, note.
    """

    def __init__(
        self,
        based_on: int | None,
        latest: int | None,
        published: tuple[ContentVersion, ...] = (),
    ) -> None:
        self.based_on = based_on
        self.published = published
        self.latest = published[-1].id if published else latest
        if self.latest is not None:
            message = f"version {self.latest} was published since version {based_on}, which "
            message += "this change is based on"
            if published:
                message += " (" + "; ".join(map(_describe, published)) + ")"
            message += "; start again from the latest version"
        else:
            message = f"another version was published since version {based_on}; start again"
        super().__init__(message)


def _describe(version: ContentVersion) -> str:
    said = f"version {version.id} by {version.author} at {iso(version.published_at)}"
    return f"{said}: “{version.note}”" if version.note else said


def latest_id(session: Session) -> int | None:
    """The newest version's number, from the primary key's index alone (cheap to poll)."""
    return session.scalar(select(func.max(ContentVersion.id)))


def _patients_may_see() -> Any:
    """A version patients may see: it needed no approval, or it has one."""
    approved = exists().where(
        ContentApproval.version_id == ContentVersion.id,
        ContentApproval.spa_id == ContentVersion.spa_id,
    )
    return or_(ContentVersion.needs_approval.is_(False), approved)


def live_id(session: Session) -> int | None:
    """The newest version patients may see (the current spa's)."""
    return session.scalar(select(func.max(ContentVersion.id)).where(_patients_may_see()))


def approval_stamp(session: Session) -> int | None:
    """The newest approval's id (cheap to poll: a new one may change the reviewed line)."""
    return session.scalar(select(func.max(ContentApproval.id)))


def live_ids_by_spa(session: Session) -> dict[int, int]:
    """Each spa's live_id in one query (run install-wide: the live switch polls every spa)."""
    query = select(ContentVersion.spa_id, func.max(ContentVersion.id)).where(_patients_may_see())
    return {spa: newest for spa, newest in session.execute(query.group_by(ContentVersion.spa_id))}


def approval_stamps_by_spa(session: Session) -> dict[int, int]:
    """Each spa's approval_stamp in one query."""
    query = select(ContentApproval.spa_id, func.max(ContentApproval.id))
    return {spa: stamp for spa, stamp in session.execute(query.group_by(ContentApproval.spa_id))}


def approval_for(session: Session, medical_hash: str) -> ContentApproval | None:
    """The newest approval of this medical part, whichever version carried it."""
    query = select(ContentApproval).where(ContentApproval.medical_hash == medical_hash)
    return session.scalar(query.order_by(ContentApproval.id.desc()).limit(1))


def approvals(session: Session) -> list[ContentApproval]:
    """Every approval, oldest first."""
    return list(session.scalars(select(ContentApproval).order_by(ContentApproval.id)))


def get(session: Session, version_id: int) -> ContentVersion | None:
    return session.get(ContentVersion, (spa_for_insert(), version_id))


def latest(session: Session) -> ContentVersion | None:
    newest = latest_id(session)
    return None if newest is None else get(session, newest)


def history(session: Session) -> list[ContentVersion]:
    """Every version, newest first."""
    return list(session.scalars(select(ContentVersion).order_by(ContentVersion.id.desc())))


def since(session: Session, based_on: int | None) -> list[ContentVersion]:
    """The versions published after `based_on` (every one for None), oldest first."""
    query = select(ContentVersion).where(ContentVersion.id > (based_on or 0))
    return list(session.scalars(query.order_by(ContentVersion.id)))


def insert(
    session: Session,
    document: ContentDocument,
    content_hash: str,
    *,
    author: str,
    note: str,
    based_on: int | None,
    restored_from: int | None = None,
    medical_hash: str = "",
    needs_approval: bool = False,
) -> ContentVersion:
    """Add the version after `based_on` in the caller's write transaction; StaleVersion if taken."""
    newest = latest_id(session)
    if newest != based_on:
        raise StaleVersion(based_on, newest)
    row = ContentVersion(
        id=(based_on or 0) + 1,
        published_at=utcnow(),
        author=author[:254],
        note=note[:NOTE_LENGTH],
        based_on=based_on,
        restored_from=restored_from,
        content_hash=content_hash,
        document=document.to_json(),
        medical_hash=medical_hash,
        needs_approval=needs_approval,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # PostgreSQL: a concurrent publisher from the same base committed first.
        raise StaleVersion(based_on, None) from None
    return row


def store_first(document: ContentDocument) -> None:
    """Store the files as version 1 unless a version exists; safe when workers race."""
    content_hash = document_version(parse_document(document))
    try:
        with write_transaction() as tx:
            if latest_id(tx) is None:
                insert(
                    tx,
                    document,
                    content_hash,
                    author=FILE_AUTHOR,
                    note=FIRST_NOTE,
                    based_on=None,
                    medical_hash=medical_hash(document),
                )
    except StaleVersion:
        pass  # another worker stored it first: the same files, or a newer version


def copy_live(session: Session, source_spa: int, target_spa: int, note: str) -> bool:
    """Give a new spa the source spa's live content as its version 1 (a snapshot's copy).

    In the caller's write transaction. Live at once, like the files stored at
    first start: it is text another spa serves. Its clinical approvals are not
    copied: the new spa's own clinician signs before "Reviewed by" shows.
    False when the source has no version yet (the spa starts from the files).
    """
    with spa_scope(source_spa):
        newest = live_id(session)
        row = None if newest is None else get(session, newest)
    if row is None:
        return False
    with spa_scope(target_spa):
        session.add(ContentVersion(
            spa_id=target_spa, id=1, published_at=utcnow(), author=FILE_AUTHOR,
            note=note[:NOTE_LENGTH], based_on=None, content_hash=row.content_hash,
            document=row.document, medical_hash=row.medical_hash, needs_approval=False,
        ))  # fmt: skip
        session.flush()
    return True
