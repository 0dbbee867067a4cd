"""Notification settings, checked once at start-up: SMTP, webhook and outbox timing.

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

from quiz.notifications.channels import SmtpSettings, WebhookSettings
from quiz.settings.loading import ConfigError, is_development

CHANNELS = ("email", "webhook")


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

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if getattr(self, c) is not None)

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next try after `attempts` failures: doubling, capped."""
        delay = self.retry_base_seconds * 2 ** min(attempts - 1, 30)
        return timedelta(seconds=min(delay, self.retry_max_seconds))


def init_app(app: Flask) -> None:
    """Check the notification settings once at start-up (a mistake stops the app)."""
    app.extensions["quiz_outbox"] = settings_from_config(app.config, is_development(app))


def settings() -> OutboxSettings:
    return current_app.extensions["quiz_outbox"]


def settings_from_config(config: Mapping[str, Any], development: bool) -> OutboxSettings:
    """Build OutboxSettings from NOTIFY_*, SMTP_*, WEBHOOK_* and OUTBOX_*; ConfigError if bad."""
    recipients = tuple(_email_list(config.get("NOTIFY_EMAIL_TO"), "NOTIFY_EMAIL_TO"))
    email = None
    if recipients:
        sender = str(config.get("NOTIFY_EMAIL_FROM") or "").strip()
        if not sender:
            raise ConfigError("NOTIFY_EMAIL_FROM must be set when NOTIFY_EMAIL_TO is.")
        _email_list([sender.rpartition("<")[2].rstrip(">")], "NOTIFY_EMAIL_FROM")
        security = str(config.get("SMTP_SECURITY") or "starttls").lower()
        if security not in ("starttls", "tls", "none"):
            raise ConfigError(f"SMTP_SECURITY must be starttls, tls or none, got {security!r}.")
        host = str(config.get("SMTP_HOST") or "").strip()
        if not host:
            raise ConfigError("SMTP_HOST must be set when NOTIFY_EMAIL_TO is.")
        if security == "none" and config.get("SMTP_USERNAME") and not _is_loopback(host):
            raise ConfigError("SMTP_SECURITY=none would send the SMTP password in clear text.")
        email = SmtpSettings(
            host=host,
            port=_number(config, "SMTP_PORT", int, 1, 65535),
            security=security,
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            ca_file=str(config.get("SMTP_CA_FILE") or ""),
            timeout=_number(config, "SMTP_TIMEOUT_SECONDS", float, 0.1, 300),
            sender=sender,
            recipients=recipients,
        )
    webhook = None
    url = str(config.get("WEBHOOK_URL") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"WEBHOOK_URL {url!r} must be an http(s) URL.")
        if parts.scheme == "http" and not development and not _is_loopback(parts.hostname):
            raise ConfigError(f"WEBHOOK_URL {url!r} must use https:// outside development.")
        secret = str(config.get("WEBHOOK_SECRET") or "")
        if len(secret) < 16:
            raise ConfigError("WEBHOOK_SECRET must be set (16+ characters) when WEBHOOK_URL is.")
        webhook = WebhookSettings(
            url=url,
            secret=secret,
            timeout=_number(config, "WEBHOOK_TIMEOUT_SECONDS", float, 0.1, 300),
            include_lead_fields=bool(config.get("WEBHOOK_INCLUDE_LEAD_FIELDS")),
            ca_file=str(config.get("WEBHOOK_CA_FILE") or ""),
        )
    base = str(config.get("STAFF_BASE_URL") or "").strip().rstrip("/")
    if base and urlsplit(base).scheme not in ("http", "https"):
        raise ConfigError(f"STAFF_BASE_URL {base!r} must start with https://")
    if (email or webhook) and not base and not development:
        # Otherwise the link would be built from the request's Host header,
        # which a sender controls: a phishing link in a staff inbox.
        raise ConfigError("STAFF_BASE_URL must be set when notifications are on.")
    out = OutboxSettings(
        email=email,
        webhook=webhook,
        staff_base_url=base,
        max_attempts=_number(config, "OUTBOX_MAX_ATTEMPTS", int, 1, 1000),
        retry_base_seconds=_number(config, "OUTBOX_RETRY_BASE_SECONDS", float, 1, 86400),
        retry_max_seconds=_number(config, "OUTBOX_RETRY_MAX_SECONDS", float, 1, 7 * 86400),
        lease_seconds=_number(config, "OUTBOX_LEASE_SECONDS", float, 1, 86400),
        batch_size=_number(config, "OUTBOX_BATCH_SIZE", int, 1, 1000),
        poll_seconds=_number(config, "OUTBOX_POLL_SECONDS", float, 0.05, 3600),
    )
    slowest = max([c.timeout for c in (email, webhook) if c] or [0])
    if out.lease_seconds <= slowest:
        raise ConfigError("OUTBOX_LEASE_SECONDS must be longer than the SMTP and webhook timeouts.")
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


def _number(config: Mapping[str, Any], name: str, kind: type, low: float, high: float) -> Any:
    try:
        value = kind(config.get(name))
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {config.get(name)!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value!r}.")
    return value


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
