"""Changing a content document from the editor's fields, and finding every problem in it.

Edits are written into each language's TOML text with tomlkit, so the file
keeps its comments and layout and a draft is exactly the document that will be
published. A value the checks would refuse is written as typed (a weight of
"high" is stored as the text "high"), so the draft is checked by the same code
that checks the files at start-up, and its message is the one shown.

`problems` runs a check (start-up's, or publishing's) again and again: each
time it fails, the message's key is noted and that one value is replaced by a
known-good one (the published version's), so the next run can find the next
problem. Every problem is found with the checks' own words, not a second copy
of the rules; a problem that cannot be set aside (broken TOML, a duplicate id)
ends the search.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from quiz.content.document import BASE_LOCALE, ContentDocument, TooDeep, load_toml
from quiz.content.fields import NAMES, NUMBER, Field, parent_and_name, value
from quiz.core.model import ContentError

# "<source>: <key>: <problem>", as content_file and locales word every message.
_MESSAGE = re.compile(r"^(?P<source>[^:]+): (?P<key>[A-Za-z0-9_.\[\]]+): (?P<problem>.+)$", re.S)
_MOST_PROBLEMS = 40


@dataclass(frozen=True)
class Problem:
    """One thing the checks refuse: in which language (None: all), at which key, and why."""

    locale: str | None
    key: str
    message: str


def typed(field: Field, text: str) -> Any:
    """The value to store for what was typed into `field` (as typed when it is no number)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if field.kind == NUMBER:
        cleaned = text.strip()
        for kind in (int, float):
            try:
                return kind(cleaned)
            except ValueError:
                pass
        return cleaned  # the checks say "weight must be a number, got '…'"
    if field.kind == NAMES:
        return [name.strip() for name in text.split(",")] if text.strip() else []
    return text.strip()


def apply_edits(
    document: ContentDocument,
    edits: Mapping[tuple[str, str], str],
    fields: Mapping[str, Field],
) -> ContentDocument:
    """`document` with each (locale, key) edit written in; a shared field goes to every language."""
    texts = {}
    for locale in document.locales:
        try:
            before = load_toml(document.text(locale), document.source(locale))
        except TooDeep:
            raise  # tomlkit would recurse over it: refused, with the file named
        except ContentError:
            before = {}
        # Only what changed is written: an untouched value keeps its spelling in the file.
        mine = {
            key: new
            for (where, key), text in edits.items()
            if key in fields and (where == locale or fields[key].shared)
            for new in (typed(fields[key], text),)
            if new != value(before, key) or type(new) is not type(value(before, key))
        }
        texts[locale] = _write(document.text(locale), mine) if mine else document.text(locale)
    return ContentDocument.of(texts, dict(document.sources))


def replace_text(document: ContentDocument, locale: str, text: str) -> ContentDocument:
    """`document` with one language's whole file replaced (the editor's file view)."""
    texts = dict(document.texts)
    texts[locale] = text.replace("\r\n", "\n")
    return ContentDocument.of(texts, dict(document.sources))


def problems(
    document: ContentDocument,
    check: Callable[[ContentDocument], object],
    fallback: ContentDocument,
    shared: frozenset[str] = frozenset(),
) -> list[Problem]:
    """Every problem `check` finds in `document`, in its words, with the key it names."""
    found: list[Problem] = []
    seen: set[tuple[str | None, str]] = set()
    by_source = {document.source(locale): locale for locale in document.locales}
    current = document
    for _ in range(_MOST_PROBLEMS):
        try:
            check(current)
            return found
        except ContentError as exc:
            problem = _problem(str(exc), by_source, shared)
        if (problem.locale, problem.key) in seen:
            return found  # setting it aside did not help: stop rather than loop
        seen.add((problem.locale, problem.key))
        found.append(problem)
        patched = _set_aside(current, problem, fallback)
        if patched is None:
            return found
        current = patched
    return found


def _problem(message: str, by_source: dict[str, str], shared: frozenset[str]) -> Problem:
    match = _MESSAGE.match(message)
    if match is None or match["source"] not in by_source:
        return Problem(None, "", message)
    key = match["key"]
    locale = None if key in shared else by_source[match["source"]]
    return Problem(locale, key, match["problem"])


def _set_aside(
    document: ContentDocument, problem: Problem, fallback: ContentDocument
) -> ContentDocument | None:
    """`document` with the problem's value replaced by the fallback's, or None if it can't be.

    Every language's value at that key is replaced: a translation's problem is
    often a difference from English (a list of another length), set aside only
    when both go back.
    """
    key = problem.key
    texts = dict(document.texts)
    for locale in document.locales:
        good = _fallback_value(fallback, locale, key)
        if good is None:
            return None
        try:
            texts[locale] = _write(texts[locale], {key: good})
        except (TOMLKitError, KeyError):
            return None
    return ContentDocument.of(texts, dict(document.sources))


def _fallback_value(fallback: ContentDocument, locale: str, key: str) -> Any:
    source = locale if locale in fallback.locales else BASE_LOCALE
    try:
        raw = load_toml(fallback.text(source), fallback.source(source))
    except ContentError:
        return None
    return value(raw, key) if key else None


def _write(text: str, values: Mapping[str, Any]) -> str:
    """The TOML text with each dotted key set to its value, everything else as it was."""
    doc = tomlkit.parse(text)
    for key, new in values.items():
        found = parent_and_name(doc, key)
        if found is None:
            head, _, name = key.rpartition(".")
            holder = value(doc, head) if head else doc
            if not isinstance(holder, dict):
                raise KeyError(key)  # the table itself is gone: the file view can add it
            found = (holder, name)
        parent, name = found
        parent[name] = new
    return tomlkit.dumps(doc)
