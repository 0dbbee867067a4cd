"""The spa's own details, from configuration, checked once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from .settings import ConfigError


@dataclass(frozen=True)
class Spa:
    name: str
    phone_e164: str
    phone_display: str
    booking_url: str
    callback_window: str
    website: str

    @property
    def tel_href(self) -> str:
        return f"tel:{self.phone_e164}"


def spa_from_config(config: dict[str, Any]) -> Spa:
    """Build the Spa from SPA_* settings; raise ConfigError naming a bad one."""
    name = str(config.get("SPA_NAME") or "").strip()
    if not name:
        raise ConfigError("SPA_NAME must be set to the spa's name.")
    raw_phone = str(config.get("SPA_PHONE") or "")
    try:
        number = phonenumbers.parse(raw_phone, config.get("PHONE_DEFAULT_REGION", "US"))
        valid = phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise ConfigError(f"SPA_PHONE {raw_phone!r} is not a valid phone number.")
    booking = str(config.get("SPA_BOOKING_URL") or "").strip()
    if booking and urlsplit(booking).scheme not in ("http", "https"):
        raise ConfigError(f"SPA_BOOKING_URL {booking!r} must start with https://")
    return Spa(
        name=name,
        phone_e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phone_display=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        booking_url=booking,
        callback_window=str(config.get("SPA_CALLBACK_WINDOW") or "soon"),
        website=str(config.get("SPA_WEBSITE") or ""),
    )
