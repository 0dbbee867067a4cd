"""Staff forms. Every POST form carries Flask-WTF's CSRF token; GET filters do not."""

from __future__ import annotations

from datetime import date, timedelta

from wtforms import DateField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from quiz.core.model import OUTCOMES
from quiz.db.models import LEAD_STATUSES
from quiz.web.forms import TextForm, sane_day, single_line, strip

STATUS_LABELS = {
    "new": "New",
    "contacted": "Contacted",
    "booked": "Booked",
    "closed": "Closed",
    "do_not_contact": "Do not contact",
}
OUTCOME_LABELS = {"relax": "Relax", "fill": "Fill", "both": "Relax + fill", "consult": "Consult"}
MAX_NOTE = 2000
MAX_SEARCH = 100


class LoginForm(TextForm):
    """Email and password."""

    email = EmailField(
        "Email",
        filters=[strip],
        validators=[DataRequired("Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


class EmptyForm(TextForm):
    """A one-button POST (sign out, erase, retry): only the CSRF token."""


class StatusForm(TextForm):
    """A lead's new status."""

    status = SelectField(
        "Status",
        choices={s: STATUS_LABELS[s] for s in LEAD_STATUSES},
        validate_choice=True,
    )


class NoteForm(TextForm):
    """A lead's note (replaces the previous one; the history keeps every version)."""

    note = TextAreaField(
        "Note",
        filters=[strip],
        validators=[Length(max=MAX_NOTE, message=f"Keep the note under {MAX_NOTE} characters.")],
    )


class FilterForm(TextForm):
    """The lead list's filters (a GET form: bookmarkable, no CSRF needed)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices={"": "Any status", **{s: STATUS_LABELS[s] for s in LEAD_STATUSES}},
        default="",
    )
    outcome = SelectField(
        "Outcome",
        choices={"": "Any outcome", **{o: OUTCOME_LABELS[o] for o in OUTCOMES}},
        default="",
    )
    since = DateField("From", validators=[Optional(), sane_day])
    until = DateField("To", validators=[Optional(), sane_day])
    q = StringField(
        "Search",
        filters=[strip],
        validators=[
            Length(max=MAX_SEARCH, message=f"Keep the search under {MAX_SEARCH} characters."),
            single_line,
        ],
    )

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("“To” is before “From”.")


class PeriodForm(TextForm):
    """A report's period (the funnel, the speed report): From and To, both optional."""

    class Meta:
        csrf = False

    since = DateField("From", validators=[Optional(), sane_day])
    until = DateField("To", validators=[Optional(), sane_day])

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("“To” is before “From”.")

    def period(self, today: date, default_days: int) -> tuple[date, date, bool]:
        """(since, until, valid): the days asked for, or the last `default_days` to today."""
        valid = self.validate()
        until: date = (self.until.data if valid else None) or today
        since: date = (self.since.data if valid else None) or until - timedelta(
            days=default_days - 1
        )
        return min(since, until), until, valid
