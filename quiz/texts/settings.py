"""Texting patients' settings, weighed together once at start-up.

PATIENT_TEXTS turns the feature on. It then needs the SMS account (the same
one staff texts use), STAFF_BASE_URL (Twilio's webhooks are signed over the
public URL, which is never taken from a request's Host), and, outside
development, the privacy policy and SMS terms the consent links: carriers'
10DLC review and the TCPA expect both. A mistake stops start-up with a
ConfigError naming the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from quiz.notifications import SmsSettings, sms_from_config
from quiz.settings import ConfigError
from quiz.settings.loading import in_development
from quiz.web.spa_settings import declare, for_spa

EXTENSION = "quiz_patient_texts"
INBOUND_PATH = "/sms/inbound"
STATUS_PATH = "/sms/status"


@dataclass(frozen=True)
class TextSettings:
    sms: SmsSettings
    base_url: str  # STAFF_BASE_URL, no trailing slash
    privacy_url: str
    terms_url: str
    max_length: int
    time_zone: str  # the spa's, for numbers with no known zone

    @property
    def inbound_url(self) -> str:
        return self.base_url + INBOUND_PATH

    @property
    def status_url(self) -> str:
        return self.base_url + STATUS_PATH


def init_app(app: Flask) -> None:
    declare(app, EXTENSION, lambda config: settings_from_config(config, in_development(config)))


def text_settings() -> TextSettings | None:
    """The current spa's texting settings, or None when its patients are not texted."""
    return for_spa(current_app, EXTENSION)


def settings_from_config(config: Mapping[str, Any], development: bool) -> TextSettings | None:
    if not config.get("PATIENT_TEXTS"):
        return None
    sms = sms_from_config(config, development, needed_by="PATIENT_TEXTS")
    assert sms is not None  # needed_by makes the account required
    base = str(config.get("STAFF_BASE_URL") or "").strip().rstrip("/")
    if not base:
        raise ConfigError(
            "STAFF_BASE_URL must be set when PATIENT_TEXTS is: Twilio's webhooks are "
            "checked against the public address, e.g. https://quiz.myspa.com"
        )
    links = {}
    for name in ("SMS_PRIVACY_URL", "SMS_TERMS_URL"):
        url = str(config.get(name) or "").strip()
        parts = urlsplit(url)
        if url and (parts.scheme not in ("https", "http") or not parts.hostname):
            raise ConfigError(f"{name} {url!r} must be an https:// address.")
        if not development and (not url or parts.scheme != "https"):
            raise ConfigError(
                f"{name} must be set to an https:// page when PATIENT_TEXTS is: the texting "
                "consent links the spa's privacy policy and SMS terms."
            )
        links[name] = url
    return TextSettings(
        sms=sms,
        base_url=base,
        privacy_url=links["SMS_PRIVACY_URL"],
        terms_url=links["SMS_TERMS_URL"],
        max_length=int(config["PATIENT_TEXT_MAX_LENGTH"]),
        time_zone=str(config.get("STAFF_TIMEZONE") or "UTC"),
    )
