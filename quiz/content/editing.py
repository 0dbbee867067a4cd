"""The staff editor's drafts: one per editor, started from the latest version, published whole.

A draft is a whole content document (every language's TOML text) and the
version it was started from. Each save applies the editor's changes to the
stored draft inside one write transaction, so two tabs saving different
screens both keep their changes. Publishing goes through
`content_publishing.publish`, the same checks and audit as the command line,
and is refused (StaleVersion) when someone published since the draft's
version; the editor then shows that change and lets the editor decide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from quiz.content import drafts as content_drafts
from quiz.content import publishing as content_publishing
from quiz.content import versions as content_versions
from quiz.content.document import BASE_LOCALE, ContentDocument, TooDeep, file_name, load_toml
from quiz.content.edit import Problem, apply_edits, problems, replace_text
from quiz.content.fields import Field, every_field, shown
from quiz.content.locales import check_shape
from quiz.core.model import ContentError
from quiz.db.engine import db, write_transaction
from quiz.db.models import ContentVersion, StaffUser


@dataclass(frozen=True)
class Draft:
    document: ContentDocument
    based_on: int | None
    updated_at: datetime | None  # None: nothing changed yet (the latest version itself)

    @property
    def changed(self) -> bool:
        return self.updated_at is not None


class NoVersionYet(ContentError):
    """Nothing is published yet (a database migrated after start-up): there is nothing to edit."""


def published() -> tuple[ContentDocument, int | None]:
    """The latest version's document and number (the files' when nothing is stored yet)."""
    row = content_publishing.latest()
    if row is None:
        raise NoVersionYet(
            "no version is published yet: start the app once, or `flask content publish`"
        )
    return ContentDocument.from_json(row.document), row.id


def draft_for(staff_id: int) -> Draft:
    """The editor's draft, or the latest version when they have none."""
    row = content_drafts.get(db.session, staff_id)
    if row is None:
        document, based_on = published()
        return Draft(document, based_on, None)
    return Draft(ContentDocument.from_json(row.document), row.based_on, row.updated_at)


def save_edits(
    staff_id: int, edits: Mapping[tuple[str, str], str], fields: Mapping[str, Field]
) -> Draft:
    """Write the (locale, key) -> text edits into the editor's draft; store it."""
    with write_transaction() as tx:
        current = draft_for(staff_id)
        document = apply_edits(current.document, edits, fields)
        row = content_drafts.save(tx, staff_id, document, current.based_on)
    return Draft(document, row.based_on, row.updated_at)


class NoSuchLanguage(ContentError):
    """A file view for a language the quiz does not have."""


def save_file(staff_id: int, locale: str, text: str) -> Draft:
    """Replace one language's whole file in the editor's draft.

    A file with problems is saved and its problems listed, as field edits
    are; text that is not a quiz file at all (tables and arrays where the
    quiz has none, or nested thousands deep) is refused: ContentError.
    """
    with write_transaction() as tx:
        current = draft_for(staff_id)
        if locale not in current.document.locales:
            raise NoSuchLanguage(f"the quiz has no language {locale!r}")
        document = replace_text(current.document, locale, text)
        try:
            raw = load_toml(document.text(locale), document.source(locale))
        except TooDeep:
            raise
        except ContentError:
            raw = None  # not TOML yet: saved, and its problem listed
        if raw is not None:
            _check_shape(document, locale, raw)
        row = content_drafts.save(tx, staff_id, document, current.based_on)
    return Draft(document, row.based_on, row.updated_at)


def rebase(staff_id: int, onto: int) -> None:
    """Keep the draft as it is but publish it over version `onto` (its changes were shown)."""
    with write_transaction() as tx:
        current = draft_for(staff_id)
        content_drafts.save(tx, staff_id, current.document, onto)


def discard(staff_id: int) -> None:
    with write_transaction() as tx:
        content_drafts.remove(tx, staff_id)


def publish_draft(
    staff: StaffUser, note: str, based_on: int | None, languages: tuple[str, ...]
) -> ContentVersion:
    """Publish the editor's draft as the version after `based_on`, then drop the draft.

    `based_on` is the version the editor confirmed the diff against: if the
    draft or the latest version moved since, StaleVersion; nothing is stored.
    """
    draft = draft_for(staff.id)
    if draft.based_on != based_on:
        raise content_versions.StaleVersion(based_on, draft.based_on)
    row = content_publishing.publish(
        draft.document, author=staff.email, note=note, based_on=based_on, languages=languages
    )
    discard(staff.id)
    return row


def check(document: ContentDocument) -> None:
    """Everything a publish checks, without storing: ContentError with the first problem."""
    content_publishing.check(document, tuple(current_app.extensions["quiz_languages"]))


def problems_in(document: ContentDocument) -> list[Problem]:
    """Every problem publishing would refuse, each with its language and key."""
    fallback, _ = published()
    shared = frozenset(f.key for f in every_field(layout(fallback)) if f.shared)
    return problems(document, check, fallback, shared)


def layout(document: ContentDocument) -> dict[str, Any]:
    """The parsed English text that lays out the editor (the published one if it is broken)."""
    source = document.locales[0]
    try:
        raw = load_toml(document.text(source), document.source(source))
        _check_shape(document, source, raw)
        return raw
    except ContentError:  # the problems list says why
        return _published_raw(source)


def _published_raw(locale: str) -> dict[str, Any]:
    document = published()[0]
    if locale not in document.locales:
        locale = BASE_LOCALE
    return load_toml(document.text(locale), document.source(locale))


def _check_shape(document: ContentDocument, locale: str, raw: dict[str, Any]) -> None:
    """ContentError if `raw` has a table or an array where the published file has not."""
    base_name = f"the published {file_name(locale)}"
    check_shape(_published_raw(locale), raw, document.source(locale), base_name)


def field_values(document: ContentDocument) -> dict[str, dict[str, str]]:
    """Each field's text as the editor's inputs show it: {locale: {key: text}} ("*": shared)."""
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for locale in document.locales:
        try:
            raw = load_toml(document.text(locale), document.source(locale))
        except ContentError:
            continue  # the file view shows the text and the problem
        for field in every_field(raw):
            result["*" if field.shared else locale][field.key] = shown(raw, field)
    return result
