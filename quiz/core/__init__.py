"""Pure helpers every feature uses: the clock, colour maths, best times, the quiz model, scoring.

Nothing here imports Flask or SQLAlchemy (tests/test_layout.py checks it).
"""

BASE_LOCALE = "en"  # the language the quiz's file and the interface's strings are written in


def N_(text: str) -> str:
    """Mark an interface string for `pybabel extract` (translated where it is shown)."""
    return text
