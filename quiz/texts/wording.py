"""The words of texting patients: the consent sentence and the texts, in the patient's language.

They live in the content file's [copy] (sms_consent_text, sms_consent_version,
first_text, help_text, stop_text, start_text), so a spa edits them with the
rest of its words. A version published before they existed has none of them:
the shipped file's wording in that language is used instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app

from quiz.content import current_bundle, shipped_contents
from quiz.spas import current_details
from quiz.texts.settings import TextSettings

KEYS = ("sms_consent_text", "sms_consent_version", "first_text", "help_text", "stop_text",
        "start_text")  # fmt: skip


def _shipped() -> dict[str, dict[str, str]]:
    return {locale: {k: c.copy[k] for k in KEYS} for locale, c in shipped_contents().items()}


def copy_text(key: str, locale: str) -> str:
    """One texting copy key in `locale` from the content served now, else as shipped."""
    contents = current_bundle().contents
    content = contents.get(locale) or contents["en"]
    text = content.copy.get(key)
    if text:
        return text
    shipped = _shipped()
    return (shipped.get(locale) or shipped["en"])[key]


def spa_fields() -> dict[str, str]:
    spa = current_details(current_app)
    return {"spa_name": spa.name, "spa_phone": spa.phone_display}


@dataclass(frozen=True)
class SmsConsent:
    """The texting consent as one form showed it: the sentence, its links, its version."""

    sentence: str
    version: str
    privacy_url: str
    terms_url: str

    @property
    def recorded_text(self) -> str:
        """What is stored as proof: the sentence and the addresses it linked."""
        links = [f"Privacy policy: {self.privacy_url}" if self.privacy_url else "",
                 f"SMS terms: {self.terms_url}" if self.terms_url else ""]  # fmt: skip
        return " ".join([self.sentence, *[link for link in links if link]])

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.recorded_text.encode("utf-8")).hexdigest()


def sms_consent(settings: TextSettings, locale: str) -> SmsConsent:
    sentence = copy_text("sms_consent_text", locale).format(spa_name=spa_fields()["spa_name"])
    return SmsConsent(
        sentence=sentence,
        version=copy_text("sms_consent_version", locale),
        privacy_url=settings.privacy_url,
        terms_url=settings.terms_url,
    )


def text_for(key: str, locale: str, **fields: str) -> str:
    """A text's body: the copy key in the patient's language, filled in."""
    return copy_text(key, locale).format(**spa_fields(), **fields)
