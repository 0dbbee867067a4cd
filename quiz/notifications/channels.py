"""Staff notifications on the wire: the email and the signed webhook.

Each notification carries an idempotency key (the outbox message's `key`): in the
email's Message-ID and `X-Quiz-Delivery` header, in the webhook's body (`id`) and
its `X-Quiz-Delivery` and `Idempotency-Key` headers. A deliverer that dies after
sending but before recording it sends the message again once its lease runs out;
the receiver recognises the key and keeps one copy (docs/operations.md, "The
webhook and how to verify it").

An alert about no lead (many failed sign-ins for a staff account, queued by
`quiz.notifications.outbox.queue_staff_alert`) goes by email only, as
`build_alert_email`; the webhook carries leads only (`lead.created`).

The webhook is signed with HMAC-SHA256 over `"{timestamp}.{body}"` (`sign`); how a
receiver checks it is in docs/operations.md (the tests check it with their own code,
written from that page).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

SIGNATURE_HEADER = "X-Quiz-Signature"
TIMESTAMP_HEADER = "X-Quiz-Timestamp"
DELIVERY_HEADER = "X-Quiz-Delivery"
USER_AGENT = "relax-or-fill-outbox/1"
ALERT_KIND = "staff.login_alert"  # an outbox payload's "kind" for the sign-in alert


class DeliveryError(Exception):
    """The peer did not take the notification; the message says why (no patient data)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | tls | none
    username: str
    password: str
    ca_file: str
    timeout: float
    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str
    timeout: float
    include_lead_fields: bool
    ca_file: str = ""  # a PEM bundle to trust instead of the system's (a private receiver)


# --- email ----------------------------------------------------------------------


def build_email(
    settings: SmtpSettings, *, key: str, spa_name: str, lead_id: int, created_at: str, link: str
) -> EmailMessage:
    """The staff email: lead number, time and link; never the patient's answers."""
    message = _headers(settings, key, f"New callback request #{lead_id} for {spa_name}")
    message.set_content(
        f"A patient asked {spa_name} for a callback (request #{lead_id}, {created_at}).\n\n"
        f"Open it in the staff area:\n{link}\n\n"
        "This email leaves out the patient's details and answers on purpose; "
        "sign in to see them.\n"
    )
    return message


def email_for(settings: SmtpSettings, payload: Mapping[str, Any], spa_name: str) -> EmailMessage:
    """The email for an outbox payload: the staff alert, or the new lead's."""
    common = {
        "key": payload["key"],
        "spa_name": spa_name,
        "created_at": payload["created_at"],
        "link": payload["staff_url"],
    }
    if payload.get("kind") == ALERT_KIND:
        alert = {name: payload[name] for name in ("account", "failures", "window")}
        return build_alert_email(settings, **common, **alert)
    return build_email(settings, **common, lead_id=payload["lead_id"])


def build_alert_email(
    settings: SmtpSettings,
    *,
    key: str,
    spa_name: str,
    account: str,
    failures: int,
    window: str,
    created_at: str,
    link: str,
) -> EmailMessage:
    """The alert to staff: many failed sign-ins for one account; no password, no patient."""
    who = f"staff account {account}" if account else "an email address that is no staff account"
    message = _headers(settings, key, f"Many failed sign-ins for {who} at {spa_name}")
    where = f"the staff area:\n{link}\n" if link else "the staff area.\n"
    message.set_content(
        f"Many failed sign-ins for {who} from several networks; see the audit log "
        f"({failures} failures within {window}, as of {created_at}).\n\n"
        "Nobody was locked out: each network trying the account is limited, and "
        "its owner can still sign in from their own network.\n\n"
        f"The audit log is in {where}"
    )
    return message


def _headers(settings: SmtpSettings, key: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.sender.rpartition("@")[2].strip("> ") or "relax-or-fill.invalid"
    # The same Message-ID on every attempt: mail stores keep one copy per ID.
    message["Message-ID"] = f"<{key}@{domain}>"
    message[DELIVERY_HEADER] = key
    return message


def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand the message to the SMTP server (STARTTLS, TLS or plain); raise DeliveryError."""
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.username:
                client.login(settings.username, settings.password)
            refused = client.send_message(message)
    except smtplib.SMTPException as err:
        raise DeliveryError(f"SMTP: {_smtp_reason(err)}") from None
    except (OSError, ssl.SSLError) as err:
        raise DeliveryError(f"SMTP {settings.host}:{settings.port}: {os_reason(err)}") from None
    if refused:
        # Some recipients took it: sending again would duplicate it for them.
        raise PartialDelivery(
            f"SMTP refused {len(refused)} of {len(settings.recipients)} recipients"
        )


class PartialDelivery(DeliveryError):
    """Delivered to some recipients; recorded as delivered, with the refusals as its error."""


def _smtp_reason(err: smtplib.SMTPException) -> str:
    code = getattr(err, "smtp_code", None)
    return f"{type(err).__name__} {code}" if code else type(err).__name__


# --- webhook --------------------------------------------------------------------


def webhook_body(
    *, key: str, lead: Mapping[str, Any], fields: Mapping[str, Any] | None = None
) -> bytes:
    """The JSON body: event, idempotency key and the lead (its fields only when allowed)."""
    body = {
        "id": key,
        "event": "lead.created",
        "lead": {**lead, **(fields or {})},
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC of "{timestamp}.{body}"."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET or re-send it elsewhere: treat it as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def no_redirect_opener(ca_file: str) -> urllib.request.OpenerDirector:
    """No redirects; HTTPS verified against the system's CAs, or only `ca_file`'s."""
    context = ssl.create_default_context(cafile=ca_file or None)
    return urllib.request.build_opener(_NoRedirects, urllib.request.HTTPSHandler(context=context))


def send_webhook(settings: WebhookSettings, key: str, body: bytes) -> int:
    """POST the signed body; return the HTTP status or raise DeliveryError for non-2xx."""
    timestamp = int(time.time())
    request = urllib.request.Request(
        settings.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(settings.secret, timestamp, body),
            DELIVERY_HEADER: key,
            "Idempotency-Key": key,
        },
    )
    with network_errors("webhook"):
        try:
            opener = no_redirect_opener(settings.ca_file)
            with opener.open(request, timeout=settings.timeout) as response:
                response.read(4096)  # let the peer finish; the body itself is not used
                status = response.status
        except urllib.error.HTTPError as err:
            err.close()
            raise DeliveryError(f"webhook answered HTTP {err.code}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook answered HTTP {status}")
    return status


@contextmanager
def network_errors(what: str) -> Iterator[None]:
    """A refused connection, a timeout or a malformed answer as DeliveryError("what: reason").

    An HTTP error answer is the caller's to judge (retry or give up): it is
    caught inside, before this sees it.
    """
    try:
        yield
    except urllib.error.URLError as err:
        reason = err.reason if isinstance(err.reason, OSError) else OSError(str(err.reason))
        raise DeliveryError(f"{what}: {os_reason(reason)}") from None
    except (OSError, ValueError) as err:  # timeouts while reading, a malformed answer
        raise DeliveryError(f"{what}: {os_reason(err)}") from None


def os_reason(err: BaseException) -> str:
    if isinstance(err, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return text[:200]
