"""Publishing the quiz's content: validate as start-up does, store a version, audit it.

The API the CLI uses today and the staff editor will use: `publish` a
document based on the version the editor started from (refused with
StaleVersion if someone published meanwhile), `rollback` to an older version
(publishes a copy of it: a version is never changed), `latest` and `history`.
"""

from __future__ import annotations

from quiz.domain.content import ContentError
from quiz.domain.content_document import ContentDocument
from quiz.domain.locales import parse_document
from quiz.leads.audit import record
from quiz.storage import content_versions
from quiz.storage.content_versions import StaleVersion
from quiz.storage.database import db, write_transaction
from quiz.storage.models import ContentVersion

__all__ = ["ContentError", "StaleVersion", "history", "latest", "publish", "rollback", "stored"]


def publish(
    document: ContentDocument,
    *,
    author: str,
    note: str,
    based_on: int | None,
    languages: tuple[str, ...],
    restored_from: int | None = None,
) -> ContentVersion:
    """Check `document` exactly as start-up checks the files, then store and audit it.

    ContentError names the file (or language) and key; nothing is stored then.
    `languages` are the ones the app serves (each needs its catalog): a document
    must have exactly those.
    """
    contents = parse_document(document)
    if tuple(sorted(document.locales)) != tuple(sorted(languages)):
        raise ContentError(
            f"the document has the languages {', '.join(document.locales)}, but the quiz "
            f"serves {', '.join(languages)}: each needs its text"
        )
    content_hash = next(iter(contents.values())).version
    with write_transaction() as tx:
        row = content_versions.insert(
            tx,
            document,
            content_hash,
            author=author,
            note=note,
            based_on=based_on,
            restored_from=restored_from,
        )
        detail = {"version": row.id, "based_on": based_on, "note": row.note}
        if restored_from is not None:
            detail["restored_from"] = restored_from
        action = "content_rollback" if restored_from is not None else "content_publish"
        record(tx, action, actor=author, detail=detail)
    return row


def rollback(
    version_id: int,
    *,
    author: str,
    note: str,
    based_on: int | None,
    languages: tuple[str, ...],
) -> ContentVersion:
    """Publish a copy of version `version_id` (checked again, as any publish is)."""
    old = content_versions.get(db.session, version_id)
    if old is None:
        raise ContentError(f"there is no version {version_id}")
    document = ContentDocument.from_json(old.document)
    return publish(
        document.with_sources(_version_sources(document, version_id)),
        author=author,
        note=note,
        based_on=based_on,
        languages=languages,
        restored_from=version_id,
    )


def latest() -> ContentVersion | None:
    return content_versions.latest(db.session)


def history() -> list[ContentVersion]:
    return content_versions.history(db.session)


def stored(row: ContentVersion) -> ContentDocument:
    """A version's document, its languages named after the version in messages."""
    document = ContentDocument.from_json(row.document)
    return document.with_sources(_version_sources(document, row.id))


def _version_sources(document: ContentDocument, version_id: int) -> dict[str, str]:
    return {
        locale: f"version {version_id} ({document.source(locale)})" for locale in document.locales
    }
