"""A spa's slug: the name in its addresses (/s/<slug>/quiz/) and on the command line.

Lower-case letters, digits and hyphens, 3 to 40 characters, starting and
ending with a letter or digit, no double hyphen; never a word the app's own
addresses use (a slug `staff` would make /s/staff/ look like the console) or
one an operator would read as special. Pure: no Flask, no database.
"""

from __future__ import annotations

import re

MIN_LENGTH, MAX_LENGTH = 3, 40
RESERVED = frozenset({
    "s", "staff", "quiz", "static", "embed", "sms", "healthz", "api", "admin", "default",
    "www", "login", "logout", "assets", "widget", "demo", "spa", "spas", "root", "system",
})  # fmt: skip
_SHAPE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")


class SlugError(ValueError):
    """A slug that can't be used; the message says why and what would do."""


def check_slug(slug: str) -> str:
    """The slug as given, or SlugError saying what is wrong with it."""
    if not MIN_LENGTH <= len(slug) <= MAX_LENGTH:
        raise SlugError(
            f"the slug {slug!r} has {len(slug)} characters; use {MIN_LENGTH} to {MAX_LENGTH}"
        )
    if not _SHAPE.match(slug):
        raise SlugError(
            f"the slug {slug!r} may hold only lower-case letters a-z, digits and single "
            "hyphens, and must start and end with a letter or digit (e.g. glow-downtown)"
        )
    if slug in RESERVED:
        raise SlugError(f"the slug {slug!r} is reserved by the app's own addresses; choose another")
    return slug
