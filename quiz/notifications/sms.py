"""Texts to staff over Twilio's Messages API (or a provider that speaks it).

`POST {base}/2010-04-01/Accounts/{sid}/Messages.json` with HTTP Basic auth
(SID:token) and the form fields To, From (or MessagingServiceSid) and Body;
Twilio answers 201 with the message's `sid`, or an error as JSON with its own
`code` and `message` (e.g. 400, code 21211: the To number is not valid).

A small client over urllib rather than Twilio's library: it is one request,
the webhook channel already has the careful parts (no redirects, a CA bundle,
timeouts as DeliveryError), and the library would bring requests, aiohttp and
PyJWT and still need its error classes mapped onto "retry" and "give up".
Pointing it at a test peer means overriding its per-domain base URLs; here it is
SMS_API_BASE, which also serves Twilio-compatible providers.

Which failures are retried: 429, 5xx, timeouts and refused or broken
connections (DeliveryError, with the outbox's backoff). Any other 4xx is the
request itself being wrong (a bad number, a bad sender, bad credentials):
`Rejected`, failed at once and never retried; the provider's code and message
are the last error staff see on the Deliveries page.

Its settings are weighed together at start-up (`sms_from_config`): texts are
on when STAFF_SMS_TO names a number (each checked to be E.164 by
quiz.settings.texts); then the account, exactly one sender and a sane API
base are required, or the app stops with a ConfigError naming the setting.
When the escalation text is due is the one overdue rule, quiz.core.opening_hours.Overdue.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from quiz.core.callback import BEST_TIMES
from quiz.notifications.channels import (
    USER_AGENT,
    DeliveryError,
    network_errors,
    no_redirect_opener,
)
from quiz.settings import ConfigError
from quiz.settings.checks import is_loopback
from quiz.settings.texts import e164_numbers

LEAD_KIND = "lead.created"
ESCALATION_KIND = "lead.escalation"
UNANSWERED_KIND = "text.unanswered"  # a patient's text nobody answered within the wait
MAX_PROVIDER_TEXT = 300  # of the provider's error message kept as the last error


class Rejected(DeliveryError):
    """The provider refused the request itself (a 4xx other than 429): never retried.

    `code` is the provider's own error code when it gave one (Twilio's 21614: the
    number is a landline; 21610: the number replied STOP to this sender).
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SmsSettings:
    api_base: str
    account_sid: str
    auth_token: str
    sender: str  # an E.164 number, or "" when a messaging service sends
    messaging_service_sid: str
    timeout: float
    to: tuple[str, ...]
    escalation_to: tuple[str, ...]
    include_contact: bool
    ca_file: str = ""

    @property
    def url(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.api_base}/2010-04-01/Accounts/{sid}/Messages.json"


def text_body(payload: Mapping[str, Any], lead: Mapping[str, Any], include_contact: bool) -> str:
    """The text: the request's number, best time and staff link; contact details only if asked.

    `lead` holds the lead's best_time, name and phone as stored now.
    """
    best = BEST_TIMES.get(lead["best_time"], lead["best_time"]).split(" (")[0].lower()
    lead_id = payload["lead_id"]
    if payload.get("kind") == UNANSWERED_KIND:
        return f"Unanswered text on callback request #{lead_id}. Open: {payload['staff_url']}"
    if payload.get("kind") == ESCALATION_KIND:
        head = f"Still not called: callback request #{lead_id} (best time: {best})"
    else:
        head = f"New callback request #{lead_id} (best time: {best})"
    if include_contact:
        first_name = (lead["name"].split() or [""])[0]
        head += f": {first_name} {lead['phone']}"
    return f"{head}. Open: {payload['staff_url']}"


def send_sms(settings: SmsSettings, to: str, body: str, key: str, status_callback: str = "") -> str:
    """Send one text; return the provider's message sid, or raise DeliveryError / Rejected.

    `key` (the outbox message's) goes as `Idempotency-Key`: a provider that honours
    it keeps one text when a retry follows a timeout. Twilio's Messages API has no
    such key, so after a timeout (the provider may have sent it) the retry can
    bring a second copy: a duplicate text rather than a lead nobody hears of.
    """
    fields = {"To": to, "Body": body}
    if status_callback:  # Twilio then posts queued, sent, delivered or failed there
        fields["StatusCallback"] = status_callback
    if settings.messaging_service_sid:
        fields["MessagingServiceSid"] = settings.messaging_service_sid
    else:
        fields["From"] = settings.sender
    credentials = f"{settings.account_sid}:{settings.auth_token}".encode()
    request = urllib.request.Request(
        settings.url,
        data=urllib.parse.urlencode(fields).encode("ascii"),  # UTF-8 text, percent-encoded
        method="POST",
        headers={
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": key,
        },
    )
    with network_errors("SMS"):
        try:
            opener = no_redirect_opener(settings.ca_file)
            with opener.open(request, timeout=settings.timeout) as response:
                answer = response.read(65536)
                status = response.status
        except urllib.error.HTTPError as err:
            with err:
                raw = err.read(65536)
            detail = _provider_error(raw)
            if err.code == 429 or err.code >= 500 or err.code in (408, 409):
                raise DeliveryError(f"SMS: provider answered HTTP {err.code}{detail}") from None
            raise Rejected(
                f"SMS: provider refused it, HTTP {err.code}{detail}", _provider_code(raw)
            ) from None
    if not 200 <= status < 300:  # a 3xx not followed
        raise DeliveryError(f"SMS: provider answered HTTP {status}")
    try:
        return str(json.loads(answer).get("sid", ""))
    except (ValueError, AttributeError):
        return ""  # taken (2xx) but no JSON: still delivered, never sent again


def _provider_code(raw: bytes) -> int | None:
    try:
        code = json.loads(raw).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _provider_error(raw: bytes) -> str:
    """ ", code 21211: The 'To' number … is not valid." from a Twilio error body, or ""."""
    try:
        found = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(found, dict):
        return ""
    code = found.get("code")
    message = str(found.get("message") or "")[:MAX_PROVIDER_TEXT]
    text = f", code {code}" if code is not None else ""
    return f"{text}: {message}" if message else text


_SID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


def sms_from_config(
    config: Mapping[str, Any], development: bool, *, needed_by: str = ""
) -> SmsSettings | None:
    """The SMS channel, or None when STAFF_SMS_TO is empty; ConfigError if it can't work.

    `needed_by` names another setting that needs the account (PATIENT_TEXTS):
    then the account is required even without staff numbers.
    """
    to = tuple(config.get("STAFF_SMS_TO") or ())
    if not to and not needed_by:
        return None
    needed_by = "STAFF_SMS_TO" if to else needed_by
    sid = str(config.get("SMS_ACCOUNT_SID") or "").strip()
    token = str(config.get("SMS_AUTH_TOKEN") or "").strip()
    if not _SID.match(sid):
        raise ConfigError(f"SMS_ACCOUNT_SID must be set (e.g. AC…) when {needed_by} is.")
    if not token:
        raise ConfigError(f"SMS_AUTH_TOKEN must be set when {needed_by} is.")
    sender = str(config.get("SMS_FROM") or "").strip()
    service = str(config.get("SMS_MESSAGING_SERVICE_SID") or "").strip()
    if bool(sender) == bool(service):
        raise ConfigError(
            "Set one of SMS_FROM (the sending number) or SMS_MESSAGING_SERVICE_SID "
            f"when {needed_by} is set, not both."
        )
    if sender and not _ALPHANUMERIC_SENDER.match(sender):
        sender = e164_numbers([sender], "SMS_FROM")[0]
    if service and not _SID.match(service):
        raise ConfigError(f"SMS_MESSAGING_SERVICE_SID {service!r} is not a service SID (MG…).")
    base = str(config.get("SMS_API_BASE") or "").strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(f"SMS_API_BASE {base!r} must be an https:// URL.")
    if parts.scheme == "http" and not development and not is_loopback(parts.hostname):
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
