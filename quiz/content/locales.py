"""The quiz in every language: one content file per locale, checked against English.

`quiz.toml` is English; a file beside it named `quiz.<locale>.toml` (for
example `quiz.es.toml`) adds a language. Each must have exactly the English
file's keys, option ids, weights and `{placeholders}`, only the words differ:
scoring, URLs and exports stay language-neutral. A missing or extra key stops
start-up with a message naming the file and the key.
"""

from __future__ import annotations

import hashlib
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from quiz.content.document import BASE_LOCALE, ContentDocument, load_toml, read_document
from quiz.content.file import DEFAULT_CONTENT, parse_content
from quiz.core.model import Content, ContentError

# Values that are identifiers, not words: the same in every language.
ID_KEYS = ("id", "treats", "treatment", "products")


def parse_document(document: ContentDocument) -> dict[str, Content]:
    """Check and parse every language of a document, as start-up does with the files."""
    docs = {
        locale: (
            document.source(locale),
            load_toml(document.text(locale), document.source(locale)),
        )
        for locale in document.locales
    }
    base_raw = docs[BASE_LOCALE][1]
    base_name = Path(docs[BASE_LOCALE][0]).name
    # One version for all: a page in any language is re-rendered when any file changes.
    version = combined_version({k: raw for k, (_, raw) in docs.items()})
    # English first, whole: a translation is then compared with a file that is right,
    # so a problem in English is reported in English, not as a difference in Spanish.
    base = parse_content(base_raw, docs[BASE_LOCALE][0], version)
    for locale, (source, raw) in docs.items():
        if locale != BASE_LOCALE:
            check_parity(base_raw, raw, source, base_name)
    return {
        locale: base if locale == BASE_LOCALE else parse_content(raw, source, version)
        for locale, (source, raw) in docs.items()
    }


@lru_cache(maxsize=1)
def shipped_contents() -> dict[str, Content]:
    """The quiz as shipped in quiz/content/data, every language, parsed once.

    What a published version lacks falls back to (texting copy added later).
    """
    return parse_document(read_document(DEFAULT_CONTENT))


def document_version(contents: dict[str, Content]) -> str:
    """The version every language of one parsed document shares (the render cache's key)."""
    return contents[BASE_LOCALE].version


def combined_version(raws: dict[str, dict[str, Any]]) -> str:
    """A short hash over every language's document."""
    digest = hashlib.sha256()
    for locale in sorted(raws):
        digest.update(locale.encode() + repr(_canonical(raws[locale])).encode())
    return digest.hexdigest()[:16]


def check_shape(base: Any, other: Any, source: str, base_name: str, key: str = "") -> None:
    """Refuse a text whose tables and arrays are not where `base` has them (and the reverse).

    A draft may lack keys or have wrong words (its problems are listed), but
    `questions = "hello"` or `copy = 5` is not a quiz file at all: the editor
    could not lay it out. Keys `base` lacks are left to the content checks.
    """
    if _kind(base) != _kind(other):
        where = key or "the file"
        raise ContentError(
            f"{source}: {where}: must be {_kind(base)}, as in {base_name}, not {_kind(other)}"
        )
    if isinstance(base, dict):
        for name in base.keys() & other.keys():
            check_shape(base[name], other[name], source, base_name, _join(key, name))
    elif isinstance(base, list) and base:
        by_id = {b.get("id"): b for b in base if isinstance(b, dict)}
        for i, entry in enumerate(other):
            model = by_id.get(entry.get("id"), base[0]) if isinstance(entry, dict) else base[0]
            check_shape(model, entry, source, base_name, f"{key}[{i}]")


def _kind(value: Any) -> str:
    # Only tables, arrays and single values: a weight written as text is a
    # problem the checks list (the editor stores it so), not another shape.
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a single value"


def check_parity(base: Any, other: Any, source: str, base_name: str, key: str = "") -> None:
    """Refuse a translation whose structure, ids, numbers or placeholders differ from English."""

    def fail(problem: str) -> ContentError:
        return ContentError(f"{source}: {key or 'the file'}: {problem}")

    if isinstance(base, dict):
        if not isinstance(other, dict):
            raise fail("must be a table, as in " + base_name)
        for name in base:
            if name not in other:
                raise ContentError(f"{source}: {_join(key, name)}: missing ({base_name} has it)")
        for name in other:
            if name not in base:
                raise ContentError(f"{source}: {_join(key, name)}: extra key (not in {base_name})")
        for name in base:
            check_parity(base[name], other[name], source, base_name, _join(key, name))
    elif isinstance(base, list):
        if not isinstance(other, list) or len(other) != len(base):
            raise fail(f"must have {len(base)} entries, as in {base_name}")
        for i, (b, o) in enumerate(zip(base, other, strict=True)):
            entry = f"{key}.{b['id']}" if isinstance(b, dict) and "id" in b else f"{key}[{i}]"
            if isinstance(b, dict) and isinstance(o, dict) and b.get("id") != o.get("id"):
                raise fail(f"entry {i + 1} must have id {b.get('id')!r}, as in {base_name}")
            if key.rsplit(".", 1)[-1] in ID_KEYS and b != o:
                raise fail(f"must be {base!r}, as in {base_name}: ids are never translated")
            check_parity(b, o, source, base_name, entry)
    elif isinstance(base, str):
        if not isinstance(other, str):
            raise fail("must be text, as in " + base_name)
        if key.rsplit(".", 1)[-1] in ID_KEYS and base != other:
            raise fail(f"must be {base!r}, as in {base_name}: ids are never translated")
        if _placeholders(base) != _placeholders(other):
            wanted = ", ".join(sorted(_placeholders(base))) or "none"
            raise fail(f"placeholders must be the same as in {base_name} ({wanted})")
    elif base != other:
        raise fail(f"must be {base!r}, as in {base_name}: weights are the same in every language")


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unmatched brace>"}


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value
