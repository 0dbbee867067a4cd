"""A changed consent sentence gets a new `consent_version`, so no lead's proof is ambiguous.

Each lead stores `copy.consent_version` with the exact text it showed and its
SHA-256. If an editor changes the sentence but forgets the version, two texts
would share one version; publishing rewrites it instead. The new value is

    "<UTC date of the publish>-v<the new version's number>"      (English)
    "<UTC date of the publish>-v<the new version's number>-<lang>"  (other languages)

for example "2026-12-03-v7" and "2026-12-03-v7-es": unique, since version
numbers are. Only that one value changes; tomlkit keeps the file's comments and
layout, so the stored text is the editor's text with one line changed.

The texting consent (`sms_consent_text`, `sms_consent_version`) is bumped the
same way, on its own: a file without it (stored before it existed) is left alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import tomlkit

from quiz.content.document import BASE_LOCALE, ContentDocument, load_toml

CALL = ("consent_text", "consent_version")
TEXTING = ("sms_consent_text", "sms_consent_version")


def consent_of(text: str, keys: tuple[str, str] = CALL) -> tuple[str, str]:
    """(sentence, version) of one language's TOML, stripped as the app reads them."""
    copy: Any = load_toml(text, "").get("copy", {})
    if not isinstance(copy, dict):
        return "", ""
    return _text(copy.get(keys[0])), _text(copy.get(keys[1]))


def consent_versions(document: ContentDocument) -> dict[str, str]:
    """Each language's consent_version (to say which ones a publish bumped)."""
    return {locale: consent_of(text)[1] for locale, text in document.texts}


def new_consent_version(locale: str, version_number: int, today: date) -> str:
    """The value a bump writes: the date and version number, plus the language if not English."""
    value = f"{today.isoformat()}-v{version_number}"
    return value if locale == BASE_LOCALE else f"{value}-{locale}"


def bump_consent_versions(
    new: ContentDocument, old: ContentDocument | None, version_number: int, today: date
) -> ContentDocument:
    """`new` with consent_version rewritten where the sentence changed since `old` but not it.

    `old` is the version `new` is based on (None for the first: nothing to
    compare); a language `old` lacks is new, and keeps its own version.
    `version_number` is the number `new` will be published as; `today` is UTC.
    """
    if old is None:
        return new
    texts = dict(new.texts)
    for locale in new.locales:
        if locale not in old.locales:
            continue
        for keys in (CALL, TEXTING):
            was_text, was_version = consent_of(old.text(locale), keys)
            now_text, now_version = consent_of(texts[locale], keys)
            if now_text != was_text and now_version == was_version and now_version:
                texts[locale] = _set_consent_version(
                    texts[locale], new_consent_version(locale, version_number, today), keys[1]
                )
    if texts == dict(new.texts):
        return new
    return ContentDocument(tuple((locale, texts[locale]) for locale in new.locales), new.sources)


def _set_consent_version(text: str, value: str, key: str = CALL[1]) -> str:
    document = tomlkit.parse(text)
    copy: Any = document["copy"]
    copy[key] = value
    return tomlkit.dumps(document)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
