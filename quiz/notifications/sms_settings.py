"""The SMS channel's settings, weighed together at start-up, and the escalation's timing.

Texts are on when STAFF_SMS_TO names a number (each was checked to be E.164 by
quiz.settings.texts). Then the account, exactly one sender and a sane API base
are required, or the app stops with a ConfigError naming the setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from quiz.core.opening_hours import OpeningHours, after_open_time, parse_opening_hours
from quiz.notifications.sms import SmsSettings
from quiz.settings import ConfigError
from quiz.settings.texts import e164_numbers

_SID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


@dataclass(frozen=True)
class Escalation:
    """When a lead still "new" is escalated: after `wait` of opening hours."""

    hours: OpeningHours
    tz: ZoneInfo
    wait: timedelta

    def due(self, created_at: datetime) -> datetime | None:
        """The moment the escalation text is due for a lead created then (None: never)."""
        return after_open_time(self.hours, self.tz, created_at, self.wait)


def escalation_from_config(config: Mapping[str, Any]) -> Escalation:
    return Escalation(
        hours=parse_opening_hours(config.get("STAFF_OPENING_HOURS")),
        tz=ZoneInfo(config["STAFF_TIMEZONE"]),
        wait=timedelta(minutes=config["STAFF_STALE_LEAD_MINUTES"]),
    )


def sms_from_config(config: Mapping[str, Any], development: bool) -> SmsSettings | None:
    """The SMS channel, or None when STAFF_SMS_TO is empty; ConfigError if it can't work."""
    to = tuple(config.get("STAFF_SMS_TO") or ())
    if not to:
        return None
    sid = str(config.get("SMS_ACCOUNT_SID") or "").strip()
    token = str(config.get("SMS_AUTH_TOKEN") or "").strip()
    if not _SID.match(sid):
        raise ConfigError("SMS_ACCOUNT_SID must be set (e.g. AC…) when STAFF_SMS_TO is.")
    if not token:
        raise ConfigError("SMS_AUTH_TOKEN must be set when STAFF_SMS_TO is.")
    sender = str(config.get("SMS_FROM") or "").strip()
    service = str(config.get("SMS_MESSAGING_SERVICE_SID") or "").strip()
    if bool(sender) == bool(service):
        raise ConfigError(
            "Set one of SMS_FROM (the sending number) or SMS_MESSAGING_SERVICE_SID "
            "when STAFF_SMS_TO is set, not both."
        )
    if sender and not _ALPHANUMERIC_SENDER.match(sender):
        sender = e164_numbers([sender], "SMS_FROM")[0]
    if service and not _SID.match(service):
        raise ConfigError(f"SMS_MESSAGING_SERVICE_SID {service!r} is not a service SID (MG…).")
    base = str(config.get("SMS_API_BASE") or "").strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(f"SMS_API_BASE {base!r} must be an https:// URL.")
    loopback = parts.hostname in ("localhost", "::1") or parts.hostname.startswith("127.")
    if parts.scheme == "http" and not development and not loopback:
        # The auth token travels in every request's Basic auth header.
        raise ConfigError(f"SMS_API_BASE {base!r} must use https:// outside development.")
    escalation_to = config.get("STAFF_ESCALATION_SMS_TO")
    return SmsSettings(
        api_base=base,
        account_sid=sid,
        auth_token=token,
        sender=sender,
        messaging_service_sid=service,
        timeout=config["SMS_TIMEOUT_SECONDS"],
        to=to,
        escalation_to=to if escalation_to is None else tuple(escalation_to),
        include_contact=bool(config.get("SMS_INCLUDE_CONTACT")),
        ca_file=str(config.get("SMS_CA_FILE") or ""),
    )
