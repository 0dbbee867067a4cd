"""The quiz as one document: every language's content file, exactly as written.

A published version stores this document (the TOML texts, not a parsed form),
so `flask content show` gives back the files byte for byte and a version
parses the same way as the files do at start-up. `ContentBundle` is what a
running app serves: every language's parsed content and the version it came
from, replaced as a whole by one assignment, never piece by piece.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from quiz.core import BASE_LOCALE
from quiz.core.model import Content, ContentError

# How deep a content file may nest in tables and arrays: quiz.toml goes file >
# questions > question > options > option > why, 6 levels; 12 leaves room and
# stops a hostile file thousands of levels deep before anything recurses over it.
MAX_DEPTH = 12


class TooDeep(ContentError):
    """A text nested deeper than any content file: refused before anything recurses over it."""


def load_toml(text: str, source: str) -> dict[str, Any]:
    """One language's text parsed: ContentError naming `source` if it is not TOML or too deep.

    Every reader of a content text goes through here (start-up, drafts, the
    editor, imports), so a text that would make a parser recurse out is
    refused with a message, never met as a RecursionError.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise TooDeep(f"{source}: nested more than {MAX_DEPTH} levels deep") from None
    if _depth(data) > MAX_DEPTH:  # dotted keys and [a.b.c] headers nest without recursing
        raise TooDeep(f"{source}: nested more than {MAX_DEPTH} levels deep (the quiz's file: 6)")
    return data


def _depth(data: Any) -> int:
    """How many tables and arrays deep `data` goes, counted without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def file_name(locale: str) -> str:
    """The one file-name rule: quiz.toml for English, quiz.<locale>.toml beside it."""
    return "quiz.toml" if locale == BASE_LOCALE else f"quiz.{locale}.toml"


@dataclass(frozen=True)
class ContentDocument:
    """Every language's TOML text, English first; `sources` name them in messages."""

    texts: tuple[tuple[str, str], ...]
    sources: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls, texts: Mapping[str, str], sources: Mapping[str, str] | None = None
    ) -> ContentDocument:
        if BASE_LOCALE not in texts:
            raise ContentError(f"the document has no {BASE_LOCALE!r} text (quiz.toml)")
        ordered = [(BASE_LOCALE, texts[BASE_LOCALE])]
        ordered += sorted((k, v) for k, v in texts.items() if k != BASE_LOCALE)
        return cls(tuple(ordered), tuple(sorted((sources or {}).items())))

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(locale for locale, _ in self.texts)

    def text(self, locale: str) -> str:
        return dict(self.texts)[locale]

    def source(self, locale: str) -> str:
        """What a message calls this language's text (its file, or its name in a version)."""
        return dict(self.sources).get(locale) or file_name(locale)

    def with_sources(self, sources: Mapping[str, str]) -> ContentDocument:
        return ContentDocument(self.texts, tuple(sorted(sources.items())))

    def to_json(self) -> str:
        """The stored form: {"en": "<quiz.toml's text>", "es": "<quiz.es.toml's text>"}."""
        return json.dumps(dict(self.texts), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> ContentDocument:
        try:
            texts = json.loads(data)
        except ValueError:
            raise ContentError("the stored document is not JSON") from None
        if not isinstance(texts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in texts.items()
        ):
            raise ContentError("the stored document must map each language to its TOML text")
        return cls.of(texts)


def read_document(path: str | Path) -> ContentDocument:
    """quiz.toml and every quiz.<locale>.toml beside it; ContentError naming the file."""
    path = Path(path)
    texts = {BASE_LOCALE: _read_text(path)}
    sources = {BASE_LOCALE: str(path)}
    for other in sorted(path.parent.glob(f"{path.stem}.*{path.suffix}")):
        locale = other.name[len(path.stem) + 1 : -len(path.suffix)]
        if not locale.isascii() or not locale.isalpha() or locale != locale.lower():
            raise ContentError(f"{other}: the name must be {path.stem}.<locale>{path.suffix}")
        texts[locale] = _read_text(other)
        sources[locale] = str(other)
    return ContentDocument.of(texts, sources)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}: cannot be read ({exc})") from None


@dataclass(frozen=True)
class Reviewed:
    """Who approved the medical part of what patients read, and when (the patient's line)."""

    approval_id: int
    name: str
    credential: str
    on: date


@dataclass(frozen=True)
class ContentBundle:
    """What an app serves: each language's content, the published version's id, its review.

    `version_id` is None while the app serves the files (no database yet);
    `reviewed` is None until a clinician approved this medical text.
    """

    contents: Mapping[str, Content]
    version_id: int | None = None
    reviewed: Reviewed | None = None

    @classmethod
    def of(
        cls,
        contents: Mapping[str, Content],
        version_id: int | None = None,
        reviewed: Reviewed | None = None,
    ) -> ContentBundle:
        return cls(MappingProxyType(dict(contents)), version_id, reviewed)

    @property
    def english(self) -> Content:
        return self.contents[BASE_LOCALE]

    @property
    def version(self) -> str:
        """The hash over every language and the review line (the render cache's key)."""
        if self.reviewed is None:
            return self.english.version
        return f"{self.english.version}.r{self.reviewed.approval_id}"
