"""Publishing the quiz's content: validate as start-up does, store a version, audit it.

The API the CLI uses today and the staff editor will use: `publish` a
document based on the version the editor started from (refused with
StaleVersion, carrying the versions published meanwhile, if someone published),
`rollback` to an older version (publishes a copy of it: a version is never
changed), `latest`, `history`, `published_since` and `diff`.

Every publish (CLI publish/import/rollback, the editor) runs the same checks:
the files' checks, the scoring principle over all 1,524 answer sets
(quiz/content/principle.py), and a new consent_version where the consent sentence
changed but its version did not (quiz/content/consent_bump.py).
"""

from __future__ import annotations

from quiz.content import versions as content_versions
from quiz.content.approval import ApprovalRefused, add_approval, clinician, needs_approval
from quiz.content.consent_bump import bump_consent_versions, consent_versions
from quiz.content.diff import LanguageDiff, content_diff
from quiz.content.document import ContentDocument
from quiz.content.locales import document_version, parse_document
from quiz.content.medical import medical_hash
from quiz.content.principle import PrincipleError, require_principle
from quiz.content.versions import StaleVersion
from quiz.core.clock import utcnow
from quiz.core.model import Content, ContentError
from quiz.db.audit import record
from quiz.db.engine import db, write_transaction
from quiz.db.models import ContentVersion

__all__ = [
    "ApprovalRefused",
    "ContentError",
    "PrincipleError",
    "StaleVersion",
    "check",
    "diff",
    "history",
    "latest",
    "publish",
    "published_since",
    "rollback",
    "stored",
    "version",
]


def publish(
    document: ContentDocument,
    *,
    author: str,
    note: str,
    based_on: int | None,
    languages: tuple[str, ...],
    restored_from: int | None = None,
    approved_by: str | None = None,
    via: str = "editor",
) -> ContentVersion:
    """Check `document` as start-up does and against the principle; store and audit it.

    A version whose medical part is new is stored awaiting a clinician's
    approval (quiz/content/approval.py): patients keep the live version
    until then. `approved_by` (a clinical account's email) approves it in the
    same transaction; ApprovalRefused, before anything is stored, if that
    email is not an active clinical account.

    ContentError names the file (or language) and key; PrincipleError (a
    ContentError) also carries the first answer set whose result breaks the
    article's facts; StaleVersion, the versions published since `based_on`.
    Nothing is stored then. `languages` are the ones the app serves (each needs
    its catalog): a document must have exactly those. Where a language's consent
    sentence changed since `based_on` but its consent_version did not, the
    stored text has a new consent_version (the audit entry names it).
    """
    contents = check(document, languages)
    previous = content_versions.get(db.session, based_on) if based_on is not None else None
    before = stored(previous) if previous is not None else None
    number = (based_on or 0) + 1
    bumped = bump_consent_versions(document, before, number, utcnow().date())
    if bumped is not document:
        document = bumped
        contents = parse_document(document)
    content_hash = document_version(contents)
    try:
        with write_transaction() as tx:
            approver = clinician(approved_by, tx) if approved_by is not None else None
            fingerprint = medical_hash(document)  # parses every language: once
            needed = needs_approval(tx, fingerprint)
            row = content_versions.insert(
                tx,
                document,
                content_hash,
                author=author,
                note=note,
                based_on=based_on,
                restored_from=restored_from,
                medical_hash=fingerprint,
                needs_approval=needed,
            )
            detail: dict[str, object] = {"version": row.id, "based_on": based_on, "note": row.note}
            if restored_from is not None:
                detail["restored_from"] = restored_from
            if needed:
                detail["needs_approval"] = True
            bumps = _consent_bumps(before, document)
            if bumps:
                detail["consent_version"] = bumps
            action = "content_rollback" if restored_from is not None else "content_publish"
            record(tx, action, actor=author, detail=detail)
            if approver is not None:
                add_approval(tx, row, approver, via)
    except StaleVersion as stale:
        raise StaleVersion(based_on, stale.latest, tuple(published_since(based_on))) from None
    return row


def check(document: ContentDocument, languages: tuple[str, ...]) -> dict[str, Content]:
    """Every check a publish makes before storing (the editor may run it on a draft).

    ContentError names the file and key; PrincipleError, the answer set. The
    languages share ids, weights and `treats` (parse_document refuses any
    difference), so English alone would decide; each language is checked
    anyway, explicitly, ~85 ms each: a publish is rare, a missed fact is not cheap.
    """
    contents = parse_document(document)
    if tuple(sorted(document.locales)) != tuple(sorted(languages)):
        raise ContentError(
            f"the document has the languages {', '.join(document.locales)}, but the quiz "
            f"serves {', '.join(languages)}: each needs its text"
        )
    for content in contents.values():
        require_principle(content)
    return contents


def rollback(
    version_id: int,
    *,
    author: str,
    note: str,
    based_on: int | None,
    languages: tuple[str, ...],
    approved_by: str | None = None,
    via: str = "editor",
) -> ContentVersion:
    """Publish a copy of version `version_id` (checked again, as any publish is)."""
    old = content_versions.get(db.session, version_id)
    if old is None:
        raise ContentError(f"there is no version {version_id}")
    return publish(
        stored(old),
        author=author,
        note=note,
        based_on=based_on,
        languages=languages,
        restored_from=version_id,
        approved_by=approved_by,
        via=via,
    )


def version(version_id: int) -> ContentVersion | None:
    return content_versions.get(db.session, version_id)


def latest() -> ContentVersion | None:
    return content_versions.latest(db.session)


def history() -> list[ContentVersion]:
    return content_versions.history(db.session)


def published_since(based_on: int | None) -> list[ContentVersion]:
    """The versions published after `based_on`, oldest first: "the other person's change"."""
    return content_versions.since(db.session, based_on)


def diff(old: ContentVersion | None, new: ContentDocument | ContentVersion) -> list[LanguageDiff]:
    """Per-language unified diffs from version `old` to a draft (or a version); [] for none."""
    before = stored(old) if old is not None else None
    old_label = f"version {old.id}" if old is not None else "nothing published"
    if isinstance(new, ContentVersion):
        return content_diff(before, stored(new), old_label=old_label, new_label=f"version {new.id}")
    return content_diff(before, new, old_label=old_label)


def stored(row: ContentVersion) -> ContentDocument:
    """A version's document, its languages named after the version in messages."""
    document = ContentDocument.from_json(row.document)
    return document.with_sources(_version_sources(document, row.id))


def _consent_bumps(before: ContentDocument | None, after: ContentDocument) -> dict[str, str]:
    """The languages whose consent_version differs from the base's, with the new value."""
    if before is None:
        return {}
    old = consent_versions(before)
    return {k: v for k, v in consent_versions(after).items() if v != old.get(k, v)}


def _version_sources(document: ContentDocument, version_id: int) -> dict[str, str]:
    return {
        locale: f"version {version_id} ({document.source(locale)})" for locale in document.locales
    }
