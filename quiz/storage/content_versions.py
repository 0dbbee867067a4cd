"""Published content versions: read the latest, list them, add one (never change one).

Only storage here: validating a document and auditing a publish happen in
quiz/leads/content_publishing.py; serving the latest in quiz/web/live_content.py.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz.domain.clock import utcnow
from quiz.domain.content_document import ContentDocument
from quiz.domain.locales import parse_document
from quiz.storage.database import write_transaction
from quiz.storage.models import ContentVersion

FILE_AUTHOR = "file"  # the first version, stored from the content files
NOTE_LENGTH = 500
FIRST_NOTE = "the content files, stored at first start"


class StaleVersion(Exception):
    """Someone published since the version this change was based on."""

    def __init__(self, based_on: int | None, latest: int | None) -> None:
        self.based_on = based_on
        self.latest = latest
        super().__init__(
            f"version {latest} was published since version {based_on}, which this change "
            "is based on; start again from the latest version"
            if latest is not None
            else f"another version was published since version {based_on}; start again"
        )


def latest_id(session: Session) -> int | None:
    """The newest version's number, from the primary key's index alone (cheap to poll)."""
    return session.scalar(select(func.max(ContentVersion.id)))


def get(session: Session, version_id: int) -> ContentVersion | None:
    return session.get(ContentVersion, version_id)


def latest(session: Session) -> ContentVersion | None:
    newest = latest_id(session)
    return None if newest is None else get(session, newest)


def history(session: Session) -> list[ContentVersion]:
    """Every version, newest first."""
    return list(session.scalars(select(ContentVersion).order_by(ContentVersion.id.desc())))


def insert(
    session: Session,
    document: ContentDocument,
    content_hash: str,
    *,
    author: str,
    note: str,
    based_on: int | None,
    restored_from: int | None = None,
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
    content_hash = next(iter(parse_document(document).values())).version
    try:
        with write_transaction() as tx:
            if latest_id(tx) is None:
                insert(
                    tx, document, content_hash, author=FILE_AUTHOR, note=FIRST_NOTE, based_on=None
                )
    except StaleVersion:
        pass  # another worker stored it first: the same files, or a newer version
