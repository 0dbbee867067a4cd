"""What a publish changes: one unified diff per language, over the TOML text as written.

The editor shows it before a publish is confirmed and on the history page;
`flask content diff` prints it. The diff is over the files' text, not the
parsed content, so a comment or a reordered key shows too: what is stored is
the text. An empty list means no change at all.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from quiz.content.document import BASE_LOCALE, ContentDocument, file_name

NO_CHANGE = "no change"


@dataclass(frozen=True)
class LanguageDiff:
    """One language's unified diff (`lines` end in a newline); `old_name` names the base."""

    locale: str
    old_name: str
    new_name: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.lines)


def content_diff(
    old: ContentDocument | None,
    new: ContentDocument,
    *,
    old_label: str = "published",
    new_label: str = "draft",
    context: int = 3,
) -> list[LanguageDiff]:
    """Each changed language's diff, English first; [] when nothing changed.

    Names read like `quiz.toml (version 6)` and `quiz.toml (draft)`: pass
    `old_label="version 6"`. A language only one side has is diffed against
    nothing (every line added, or removed). `old` None: nothing published yet.
    """
    locales = list(new.locales)
    locales += [locale for locale in (old.locales if old else ()) if locale not in locales]
    locales.sort(key=lambda locale: (locale != BASE_LOCALE, locale))
    diffs = []
    for locale in locales:
        before = old.text(locale) if old is not None and locale in old.locales else ""
        after = new.text(locale) if locale in new.locales else ""
        if before == after:
            continue
        old_name = f"{file_name(locale)} ({old_label})"
        new_name = f"{file_name(locale)} ({new_label})"
        lines = difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
            n=context,
        )
        diffs.append(LanguageDiff(locale, old_name, new_name, tuple(map(_ended, lines))))
    return diffs


def diff_text(diffs: list[LanguageDiff]) -> str:
    """Every language's diff as one text, or NO_CHANGE."""
    return "".join(d.text for d in diffs) if diffs else NO_CHANGE + "\n"


def _ended(line: str) -> str:
    """A last line without its newline gets one, as diff's marker says, so lines never run on."""
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
