"""What every form here shares: text fields only, no control characters, sane dates.

Flask-WTF's FlaskForm also reads uploaded files and JSON bodies into the form,
so a "name" sent as a file would reach a text validator as a file object and
crash it. Our forms only ever take text, so they read `request.form` and
nothing else: a field sent as a file is simply missing, and gets the usual
"please fill this in" message.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from babel import support
from flask import request
from flask_babel import get_locale, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from wtforms import Field
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError

from quiz.core.clock import FIRST_DAY, LAST_DAY

# C0 controls but tab, newline and carriage return (which a note may hold), and DEL.
# PostgreSQL refuses NUL outright; the others are never typed by a person.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = lazy_gettext("Please remove the unusual characters from this field.")


def strip(value: str | None) -> str | None:
    """Field filter: surrounding white space off (a pasted name often carries some)."""
    return value.strip() if isinstance(value, str) else value


def single_line(_form: FlaskForm, field: Field) -> None:
    """Validator for one-line fields (a name, a search): nothing a keyboard doesn't type.

    TextForm already refuses control characters in every field; a one-line field
    also refuses line breaks, tabs and invisible format characters.
    """
    if field.data and not field.data.isprintable():
        raise ValidationError(CONTROL_MESSAGE)


class TextForm(FlaskForm):
    """A FlaskForm that reads text fields only and refuses control characters in them."""

    class Meta:
        def wrap_formdata(self, form: FlaskForm, formdata: Any) -> Any:
            if formdata is _Auto:
                return request.form if _is_submitted() else None
            return formdata

        def get_translations(self, form: FlaskForm) -> Any:
            # WTForms' own messages in the page's language. Flask-WTF reads the
            # catalog from disk on every request; it never changes while we run.
            return _wtforms_messages(str(get_locale()))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and _CONTROL.search(field.data):
                if CONTROL_MESSAGE not in field.errors:
                    field.errors = [*field.errors, CONTROL_MESSAGE]
                valid = False
        return valid


@lru_cache(maxsize=16)
def _wtforms_messages(locale: str) -> support.Translations:
    """WTForms' catalog for a language (the supported few, so the cache stays small)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def sane_day(_form: FlaskForm, field: Field) -> None:
    """Refuse a date outside FIRST_DAY..LAST_DAY (year 0001 or 9999 is a typo)."""
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(f"Choose a date between {FIRST_DAY:%Y} and {LAST_DAY:%Y}.")
