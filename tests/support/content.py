"""The content files read the way start-up reads them, for tests (the app itself never needs this).

`load_locales` is every language's parsed content from quiz.toml and its
siblings; `load_content` the English one. Both go through read_document and
parse_document, exactly the app's own path, so a message a test expects is
the message an operator would see.
"""

from __future__ import annotations

from pathlib import Path

from quiz.content.document import read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.locales import parse_document
from quiz.core import BASE_LOCALE
from quiz.core.model import Content


def load_locales(path: str | Path = DEFAULT_CONTENT) -> dict[str, Content]:
    """Every language's content, English first; ContentError naming file and key."""
    return parse_document(read_document(path))


def load_content(path: str | Path = DEFAULT_CONTENT) -> Content:
    """The English content of `path` (and its siblings, which must parse too)."""
    return load_locales(path)[BASE_LOCALE]
