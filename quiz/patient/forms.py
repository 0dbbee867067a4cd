"""The callback request form: every field length-limited and validated.

The form is cookie-less, so Flask-WTF's session CSRF is off here; see
`quiz.security` for what protects it instead.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from phonenumbers import geocoder
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from quiz.core.callback import BEST_TIMES
from quiz.spas import current_details
from quiz.web.forms import TextForm, single_line, strip
from quiz.web.spa_settings import settings as spa_settings

# What a ticked checkbox sends (ours sends "yes"; "on" is the browser default).
CONSENT_VALUES = {"yes", "on", "true", "1", "y"}
MAX_NAME = 100
MAX_PHONE_INPUT = 40
MAX_EMAIL = 254


# Numbers that cost the caller (the spa) more than a call should, or that no one
# answers at a front desk: premium-rate and shared-cost lines.
COSTLY = {
    phonenumbers.PhoneNumberType.PREMIUM_RATE: _l(
        "That looks like a premium-rate number, which we can't call. "
        "Please give your own phone number."
    ),
    phonenumbers.PhoneNumberType.SHARED_COST: _l(
        "That looks like a shared-cost number, which we can't call. "
        "Please give your own phone number."
    ),
}
NON_GEOGRAPHIC = "001"  # satellite phones and global services have no country


def uncallable(number: phonenumbers.PhoneNumber, allowed_regions: list[str]) -> str:
    """Why the spa should not call this valid number, in the patient's words; "" if it may."""
    costly = COSTLY.get(phonenumbers.number_type(number))
    if costly:
        return str(costly)
    region = phonenumbers.region_code_for_number(number)
    if region == NON_GEOGRAPHIC:
        return gettext(
            "We can't call satellite or international service numbers. Please give another."
        )
    if region not in allowed_regions:
        lang = get_locale().language if get_locale() else "en"
        names = gettext(" or ").join(
            geocoder._region_display_name(r, lang) or r for r in allowed_regions
        )
        return gettext(
            "We can only call numbers in %(names)s. Please give a number there.", names=names
        )
    return ""


def phone_hint() -> str:
    """The phone field's format hint, with the spa's own number as the example."""
    example = current_details(current_app).phone_display
    return gettext("With the area code, for example %(example)s.", example=example)


def _country(region: str) -> str:
    """A region's name in English ("United States"), or its code when unknown."""
    example = phonenumbers.example_number(region)
    return (geocoder.country_name_for_number(example, "en") if example else "") or region


class CallbackForm(TextForm):
    """Name, phone, optional email, best time, consent; plus token and honeypot."""

    class Meta:
        csrf = False  # no session on the patient path; a signed token is used instead

    name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please tell us your name.")),
            Length(max=MAX_NAME, message=_l("Please keep your name under %(max)d characters.")),
            single_line,
        ],
    )
    phone = StringField(
        _l("Phone number"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please give a phone number we can call.")),
            Length(max=MAX_PHONE_INPUT, message=_l("That phone number is too long.")),
        ],
    )
    email = StringField(
        _l("Email (optional)"),
        filters=[strip],
        validators=[Length(max=MAX_EMAIL, message=_l("That email address is too long."))],
    )
    # Rendered as radio buttons from BEST_TIMES; checked in validate_best_time.
    best_time = StringField(_l("Best time to call"), default="anytime")
    # Consent must be explicit: only a ticked box's value counts, never "no" or "0".
    consent = BooleanField(
        false_values=(),
        validators=[DataRequired(_l("Please tick the box so that we may call you."))],
    )
    # The separate texting consent (PATIENT_TEXTS): optional, unticked by default;
    # like the call consent, only a ticked box's value counts.
    sms_consent = BooleanField(false_values=())
    website = StringField(_l("Leave this field empty"), filters=[strip])  # honeypot
    token = HiddenField()
    consent_shown = HiddenField()  # the consent sentence's fingerprint, as the form showed it

    # Filled by validation: the number in E.164 form, the normalised email.
    phone_e164: str = ""
    email_normalized: str = ""

    def validate_phone(self, field: StringField) -> None:
        own = spa_settings(current_app)  # the spa's regions (a chain's Canadian location)
        region = own["PHONE_DEFAULT_REGION"]
        try:
            number = phonenumbers.parse(field.data, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            example = current_details(current_app).phone_display
            raise ValidationError(
                gettext(
                    "Please enter a phone number we can call, with the area code, "
                    "for example %(example)s.",
                    example=example,
                )
            )
        allowed = own["PHONE_ALLOWED_REGIONS"] or [region]
        problem = uncallable(number, allowed)
        if problem:
            raise ValidationError(problem)
        self.phone_e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate_email(self, field: StringField) -> None:
        if not field.data:
            self.email_normalized = ""
            return
        try:
            # Syntax only: a DNS outage must never cost a lead.
            info = validate_email(field.data, check_deliverability=False)
        except EmailNotValidError:
            raise ValidationError(
                gettext("Please check the email address, or leave it empty.")
            ) from None
        self.email_normalized = info.normalized

    def validate_consent(self, field: BooleanField) -> None:
        raw = (field.raw_data or [""])[0]
        if str(raw).strip().lower() not in CONSENT_VALUES:
            raise ValidationError(gettext("Please tick the box so that we may call you."))

    def validate_sms_consent(self, field: BooleanField) -> None:
        # Optional, so never an error: anything but a ticked box's value is "not given".
        raw = (field.raw_data or [""])[0]
        field.data = str(raw).strip().lower() in CONSENT_VALUES

    def validate_best_time(self, field: StringField) -> None:
        value = (field.data or "").strip().lower()[:20]
        if value in ("", "any"):
            value = "anytime"
        if value not in BEST_TIMES:
            raise ValidationError(gettext("Please choose one of the times offered."))
        field.data = value

    @property
    def is_bot(self) -> bool:
        """True when the hidden honeypot field was filled in (people never see it)."""
        return bool(self.website.data)
