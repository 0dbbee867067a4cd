"""Notification settings, checked once at start-up: SMTP, webhook, SMS and outbox timing.

A mistake here (a webhook over plain http, a missing secret, a lease shorter
than a send can take) stops the app with a ConfigError that names the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app

from quiz.core.opening_hours import Overdue
from quiz.notifications.channels import SmtpSettings, WebhookSettings
from quiz.notifications.sms import SmsSettings, sms_from_config
from quiz.settings import ConfigError
from quiz.settings.checks import is_loopback
from quiz.settings.loading import in_development
from quiz.web.spa_settings import declare, for_spa

CHANNELS = ("email", "webhook", "sms")
# OutboxSettings' fields read from the OUTBOX_* settings of the same name.
TIMING = (
    "max_attempts",
    "retry_base_seconds",
    "retry_max_seconds",
    "lease_seconds",
    "batch_size",
    "poll_seconds",
)


@dataclass(frozen=True)
class OutboxSettings:
    email: SmtpSettings | None
    webhook: WebhookSettings | None
    staff_base_url: str
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lease_seconds: float
    batch_size: int
    poll_seconds: float
    sms: SmsSettings | None = None
    escalation: Overdue | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if getattr(self, c) is not None)

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next try after `attempts` failures: doubling, capped."""
        delay = self.retry_base_seconds * 2 ** min(attempts - 1, 30)
        return timedelta(seconds=min(delay, self.retry_max_seconds))


def init_app(app: Flask) -> None:
    """Check the notification settings once at start-up (a mistake stops the app).

    Each spa's are built from its own settings (its recipients, webhook and
    texting number) the first time its work asks for them.
    """
    declare(app, "quiz_outbox", lambda config: settings_from_config(config, in_development(config)))


def settings() -> OutboxSettings:
    """The notification settings of the spa the current work is for."""
    return for_spa(current_app, "quiz_outbox")


def settings_from_config(config: Mapping[str, Any], development: bool) -> OutboxSettings:
    """Build OutboxSettings from NOTIFY_*, SMTP_*, WEBHOOK_* and OUTBOX_*; ConfigError if bad."""
    recipients = tuple(_email_list(config.get("NOTIFY_EMAIL_TO"), "NOTIFY_EMAIL_TO"))
    email = None
    if recipients:
        sender = str(config.get("NOTIFY_EMAIL_FROM") or "").strip()
        if not sender:
            raise ConfigError("NOTIFY_EMAIL_FROM must be set when NOTIFY_EMAIL_TO is.")
        _email_list([sender.rpartition("<")[2].rstrip(">")], "NOTIFY_EMAIL_FROM")
        security = config["SMTP_SECURITY"]  # one of starttls, tls, none (quiz.settings.schema)
        host = str(config.get("SMTP_HOST") or "").strip()
        if not host:
            raise ConfigError("SMTP_HOST must be set when NOTIFY_EMAIL_TO is.")
        if security == "none" and config.get("SMTP_USERNAME") and not is_loopback(host):
            raise ConfigError("SMTP_SECURITY=none would send the SMTP password in clear text.")
        email = SmtpSettings(
            host=host,
            port=config["SMTP_PORT"],
            security=security,
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            ca_file=str(config.get("SMTP_CA_FILE") or ""),
            timeout=config["SMTP_TIMEOUT_SECONDS"],
            sender=sender,
            recipients=recipients,
        )
    webhook = None
    url = str(config.get("WEBHOOK_URL") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"WEBHOOK_URL {url!r} must be an http(s) URL.")
        if parts.scheme == "http" and not development and not is_loopback(parts.hostname):
            raise ConfigError(f"WEBHOOK_URL {url!r} must use https:// outside development.")
        secret = str(config.get("WEBHOOK_SECRET") or "")
        if len(secret) < 16:
            raise ConfigError("WEBHOOK_SECRET must be set (16+ characters) when WEBHOOK_URL is.")
        webhook = WebhookSettings(
            url=url,
            secret=secret,
            timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
            include_lead_fields=bool(config.get("WEBHOOK_INCLUDE_LEAD_FIELDS")),
            ca_file=str(config.get("WEBHOOK_CA_FILE") or ""),
        )
    base = str(config.get("STAFF_BASE_URL") or "").strip().rstrip("/")
    if base and urlsplit(base).scheme not in ("http", "https"):
        raise ConfigError(f"STAFF_BASE_URL {base!r} must start with https://")
    sms = sms_from_config(config, development)
    if sms and not base:
        # A text's link is tapped on a phone, away from this server: never a request's Host.
        raise ConfigError("STAFF_BASE_URL must be set when texts are on (STAFF_SMS_TO).")
    if (email or webhook) and not base and not development:
        # Otherwise the link would be built from the request's Host header,
        # which a sender controls: a phishing link in a staff inbox.
        raise ConfigError("STAFF_BASE_URL must be set when notifications are on.")
    out = OutboxSettings(
        email=email,
        webhook=webhook,
        staff_base_url=base,
        **{name: config[f"OUTBOX_{name.upper()}"] for name in TIMING},
        sms=sms,
        escalation=Overdue.from_config(config) if sms and sms.escalation_to else None,
    )
    slowest = max([c.timeout for c in (email, webhook, sms) if c] or [0])
    if out.lease_seconds <= slowest:
        raise ConfigError(
            "OUTBOX_LEASE_SECONDS must be longer than the SMTP, webhook and SMS timeouts."
        )
    return out


def _email_list(value: Any, name: str) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",")]
    addresses = []
    for entry in value:
        try:
            addresses.append(
                validate_email(str(entry).strip(), check_deliverability=False).normalized
            )
        except EmailNotValidError:
            raise ConfigError(f"{name}: {entry!r} is not an email address.") from None
    return addresses
