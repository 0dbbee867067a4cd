"""The spa's own details, from configuration, checked once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import phonenumbers

from quiz.core.model import OUTCOMES
from quiz.settings import ConfigError

# What the "Book online" link tells the spa's booking system about where the patient came from.
BOOKING_UTM_SOURCE = "relax-or-fill"
MAX_ADDRESS = 200


@dataclass(frozen=True)
class Spa:
    name: str
    phone_e164: str
    phone_display: str
    callback_window: str
    # Outcome -> the "Book online" link for it, with utm_source and utm_content; may be empty.
    booking_links: Mapping[str, str] = field(default_factory=dict)
    address: str = ""  # one line, or "" for none

    @property
    def tel_href(self) -> str:
        return f"tel:{self.phone_e164}"

    def booking_url(self, outcome: str) -> str:
        """The booking page for this outcome ("" when none is configured)."""
        return self.booking_links.get(outcome, "")


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
    address = " ".join(str(config.get("SPA_ADDRESS") or "").split())
    if len(address) > MAX_ADDRESS or not address.isprintable():
        raise ConfigError(f"SPA_ADDRESS must be one line of up to {MAX_ADDRESS} characters.")
    return Spa(
        address=address,
        name=name,
        phone_e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phone_display=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        callback_window=str(config.get("SPA_CALLBACK_WINDOW") or "soon"),
        booking_links=booking_links(config.get("SPA_BOOKING_URL"), config.get("SPA_BOOKING_URLS")),
    )


def booking_links(default: Any, per_outcome: Any) -> dict[str, str]:
    """Each outcome's booking link: SPA_BOOKING_URLS[outcome], else SPA_BOOKING_URL.

    Booking systems (Boulevard, Vagaro, Zenoti, Mindbody …) link straight to a
    service, so a spa can send "relax" to its neuromodulator booking and "fill"
    to its filler consultation. Each link gets utm_source=relax-or-fill and the
    outcome as utm_content, so the spa's booking reports show where it came from.
    """
    fallback = _booking_url(default, "SPA_BOOKING_URL")
    if per_outcome in (None, ""):
        per_outcome = {}
    if not isinstance(per_outcome, Mapping):
        raise ConfigError(
            'SPA_BOOKING_URLS must map outcomes to URLs, e.g. {"relax": "https://…", '
            f'"fill": "https://…"}}, got {per_outcome!r}'
        )
    for key in per_outcome:
        if key not in OUTCOMES:
            raise ConfigError(f"SPA_BOOKING_URLS has {key!r}; its keys are {', '.join(OUTCOMES)}.")
    links = {}
    for outcome in OUTCOMES:
        url = _booking_url(per_outcome.get(outcome), f"SPA_BOOKING_URLS[{outcome!r}]") or fallback
        if url:
            links[outcome] = _with_utm(url, outcome)
    return links


def _booking_url(value: Any, name: str) -> str:
    url = str(value or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not url.isprintable():
        raise ConfigError(f"{name} {url!r} must be a web address starting with https://")
    return url


def _with_utm(url: str, outcome: str) -> str:
    """`url` with utm_source and utm_content set (replacing any there), the rest kept."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("utm_source", "utm_content")
    ]
    query += [("utm_source", BOOKING_UTM_SOURCE), ("utm_content", outcome)]
    return urlunsplit(parts._replace(query=urlencode(query)))
