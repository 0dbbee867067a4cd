"""Pure helpers every feature uses: the clock, colour maths, best times, the quiz model, scoring.

Nothing here imports Flask or SQLAlchemy (tests/test_layout.py checks it).
"""

BASE_LOCALE = "en"  # the language the quiz's file and the interface's strings are written in
MAX_LANG = 8  # a language code's length at most (en, es, pt-br)


def language_code(value: str | None) -> str | None:
    """A `lang` value as every reader takes it: trimmed, lower case, cut short; None if blank.

    The one normaliser for the page and the render cache's key alike, so
    `lang=ES` and `lang= es ` are Spanish in both (a key that normalised
    while the page did not once cached English under Spanish's key). A value
    that names no language of the quiz gives the default language.
    """
    code = (value or "").strip().lower()[:MAX_LANG]
    return code or None


def N_(text: str) -> str:
    """Mark an interface string for `pybabel extract` (translated where it is shown)."""
    return text
