"""Staff notifications through the outbox, against a real SMTP server and a real webhook receiver.

Every peer runs on loopback. "Down" means a refused connection on the port the
peer later answers on. Retries are made due by handing `deliver_due` a clock
moved past the backoff, so no test sleeps through one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import Lead
from quiz.notifications import delivery
from quiz.notifications.settings import settings
from quiz.settings import ConfigError
from tests.support.app import base_config, leads
from tests.support.outbox import (
    SECRET,
    STAFF,
    as_utc,
    deliver,
    messages,
    notify_config,
    soon,
    submit,
)
from tests.support.patient import valid_callback
from tests.support.peers import (
    DELIVERY_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SmtpPeer,
    WebhookPeer,
    server_tls,
    signature_verifies,
)


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    peer = SmtpPeer()  # bound, not listening: "the mail server is down" until started
    yield peer
    peer.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookPeer]:
    peer = WebhookPeer(SECRET)
    yield peer
    peer.stop()


@pytest.fixture
def app_config(smtp: SmtpPeer, webhook: WebhookPeer) -> dict[str, Any]:
    return notify_config(smtp, webhook)


# --- queueing ---------------------------------------------------------------------


def test_a_stored_lead_queues_one_notification_per_channel(app: Flask) -> None:
    [lead_id] = submit(app)
    rows = messages(app)
    assert sorted(m.channel for m in rows) == ["email", "webhook"]
    for row in rows:
        assert row.lead_id == lead_id and row.status == "pending" and row.attempts == 0
        payload = json.loads(row.payload)
        assert payload["staff_url"] == f"https://quiz.alazzo.example/staff/leads/{lead_id}"
        assert len(payload["key"]) == 32
        # No patient details or answers wait in the queue.
        assert set(payload) == {"key", "lead_id", "created_at", "staff_url"}
    assert rows[0].payload != rows[1].payload  # each notification has its own key


def test_a_refused_or_resent_callback_queues_nothing_more(app: Flask) -> None:
    client = app.test_client(use_cookies=False)
    refused = client.post("/quiz/callback", data=valid_callback(client, consent=None))
    assert refused.status_code == 422
    assert messages(app) == []
    data = valid_callback(client)
    assert client.post("/quiz/callback", data=data).status_code == 200
    assert client.post("/quiz/callback", data=data).status_code == 200  # double click
    assert len(leads(app)) == 1 and len(messages(app)) == 2


@pytest.mark.parametrize("app_config", [{}])
def test_without_channels_nothing_is_queued(app: Flask) -> None:
    submit(app)
    assert len(leads(app)) == 1 and messages(app) == []


def test_erasing_a_lead_erases_its_notifications(app: Flask) -> None:
    [lead_id] = submit(app)
    with app.app_context():
        db.session.execute(delete(Lead).where(Lead.id == lead_id))
        db.session.commit()
    assert messages(app) == []


# --- email --------------------------------------------------------------------------


def test_staff_email_carries_the_link_but_not_the_patient(app: Flask, smtp: SmtpPeer) -> None:
    smtp.start()
    [lead_id] = submit(app, name="Jane Patient", email="jane@example.com")
    report = deliver(app)
    assert report.delivered == 1  # the email (the webhook is down: retrying)
    [mail] = smtp.messages
    assert mail["To"] == STAFF and mail["Subject"].startswith(f"New callback request #{lead_id}")
    text = mail.get_content()
    assert f"https://quiz.alazzo.example/staff/leads/{lead_id}" in text
    for private in ("Jane", "jane@example.com", "8105740", "between", "cheeks", "prevent"):
        assert private not in text
    key = json.loads(next(m for m in messages(app) if m.channel == "email").payload)["key"]
    assert mail["Message-ID"] == f"<{key}@alazzo.example>"


def test_mail_server_down_then_back_gets_each_email_once(app: Flask, smtp: SmtpPeer) -> None:
    lead_ids = submit(app, 2)
    assert len(leads(app)) == 2  # stored at once, whatever the mail server does

    # Each run tries a dead channel once and leaves the rest for the next run.
    runs = [deliver(app) for _ in range(3)]
    assert [r.retrying for r in runs] == [2, 2, 0] and sum(r.delivered for r in runs) == 0
    emails = [m for m in messages(app) if m.channel == "email"]
    assert [m.attempts for m in emails] == [1, 1]
    assert all("connection refused" in m.last_error for m in emails)
    assert all(m.status == "pending" for m in emails)

    smtp.start()
    later = soon(31)
    while deliver(app, now=later).attempted:  # a run stops a channel at its first failure
        pass
    assert sorted(smtp.by_message_id().values()) == [1, 1]
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert [f"#{i} " in s for i, s in zip(lead_ids, subjects, strict=True)] == [True, True]
    assert {m.status for m in messages(app) if m.channel == "email"} == {"delivered"}
    deliver(app, now=soon(3600))  # (the webhook, still down, is tried again)
    assert len(smtp.messages) == 2


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_over_starttls_and_tls(
    tmp_path: Path, database_uri: str, smtp: SmtpPeer, security: str
) -> None:
    context, cert = server_tls(tmp_path)
    if security == "tls":
        smtp.start(tls=context)
    else:
        smtp.start(starttls=context)
    config = notify_config(smtp, None, SMTP_SECURITY=security, SMTP_CA_FILE=str(cert))
    app = create_app(base_config(database_uri, **config))
    submit(app)
    assert deliver(app).delivered == 1
    assert len(smtp.messages) == 1


def test_email_is_not_sent_to_a_server_with_an_untrusted_certificate(
    tmp_path: Path, database_uri: str, smtp: SmtpPeer
) -> None:
    context, _cert = server_tls(tmp_path)
    smtp.start(starttls=context)
    app = create_app(
        base_config(database_uri, **notify_config(smtp, None, SMTP_SECURITY="starttls"))
    )
    submit(app)
    assert deliver(app).retrying == 1
    assert smtp.messages == []
    assert "certificate" in messages(app)[0].last_error.lower()


# --- webhook ------------------------------------------------------------------------


def test_webhook_is_signed_and_carries_no_patient_details(app: Flask, webhook: WebhookPeer) -> None:
    webhook.start()
    [lead_id] = submit(app, name="Jane Patient")
    deliver(app)
    [receipt] = webhook.receipts
    assert receipt.signed and receipt.status == 200  # as docs/operations.md says to check
    body = json.loads(receipt.body)
    assert body["id"] == receipt.key and body["event"] == "lead.created"
    assert receipt.header(DELIVERY_HEADER) == receipt.header(IDEMPOTENCY_HEADER) == receipt.key
    assert body["lead"]["id"] == lead_id
    assert body["lead"]["staff_url"].endswith(f"/staff/leads/{lead_id}")
    assert set(body["lead"]) == {"id", "created_at", "staff_url"}
    assert b"Jane" not in receipt.body and b"+1301" not in receipt.body


def test_a_receiver_can_tell_a_forged_or_replayed_webhook(app: Flask, webhook: WebhookPeer) -> None:
    """The signature binds the body, the time of sending and the secret (docs/operations.md)."""
    webhook.start()
    submit(app)
    before = int(time.time())
    deliver(app)
    after = time.time()
    [receipt] = webhook.receipts
    body, sent_at = receipt.body, int(receipt.header(TIMESTAMP_HEADER))
    assert before <= sent_at <= after  # stamped when sent: what makes a replay look old
    signed = {TIMESTAMP_HEADER: str(sent_at), SIGNATURE_HEADER: receipt.header(SIGNATURE_HEADER)}
    assert signature_verifies(SECRET, signed, body, now=sent_at + 10)
    forged_body = body.replace(b'"lead.created"', b'"lead.deleted"')
    assert not signature_verifies(SECRET, signed, forged_body, now=sent_at)
    assert not signature_verifies("another-secret-0123456789", signed, body, now=sent_at)
    moved = {**signed, TIMESTAMP_HEADER: str(sent_at + 1)}
    assert not signature_verifies(SECRET, moved, body, now=sent_at)
    assert not signature_verifies(SECRET, signed, body, now=sent_at + 301)  # replayed later


def test_webhook_includes_lead_fields_only_when_allowed(
    database_uri: str, webhook: WebhookPeer
) -> None:
    webhook.start()
    config = notify_config(None, webhook, WEBHOOK_INCLUDE_LEAD_FIELDS=True)
    app = create_app(base_config(database_uri, **config))
    submit(app, name="Jane Patient", email="jane@example.com")
    deliver(app)
    lead = json.loads(webhook.receipts[0].body)["lead"]
    assert lead["name"] == "Jane Patient" and lead["phone"] == "+13018105740"
    assert lead["email"] == "jane@example.com" and lead["areas"] == ["between_brows", "cheeks"]
    assert lead["outcome"] == "both" and lead["goal"] == "prevent"
    assert "consent_ip" not in lead


def test_webhook_answering_500_is_retried_with_growing_waits_then_arrives_once(
    app: Flask, webhook: WebhookPeer
) -> None:
    webhook.answers = ["error", "error"]
    webhook.start()
    submit(app)
    # Each run gets its clock from the test, so the waits are exact however slow the machine.
    first = datetime.now(UTC)
    deliver(app, now=first)
    hook = next(m for m in messages(app) if m.channel == "webhook")
    assert hook.attempts == 1 and "HTTP 500" in hook.last_error
    assert as_utc(hook.next_attempt_at) == first + timedelta(seconds=30)
    assert deliver(app, now=first + timedelta(seconds=29)).attempted == 0  # not due yet

    second = first + timedelta(seconds=30)
    deliver(app, now=second)
    hook = next(m for m in messages(app) if m.channel == "webhook")
    assert hook.attempts == 2 and as_utc(hook.next_attempt_at) == second + timedelta(seconds=60)
    assert deliver(app, now=second + timedelta(seconds=59)).attempted == 0

    deliver(app, now=second + timedelta(seconds=60))
    hook = next(m for m in messages(app) if m.channel == "webhook")
    assert hook.status == "delivered" and hook.attempts == 3
    assert "HTTP 500" in hook.last_error  # kept, so staff can see what happened
    assert list(webhook.keys_received().values()) == [3]  # one key, three tries
    assert len(webhook.accepted) == 1  # ... arrived once


def test_webhook_timing_out_is_retried_and_arrives_once(
    database_uri: str, webhook: WebhookPeer
) -> None:
    webhook.answers = ["slow"]
    webhook.slow_seconds = 1.5
    webhook.start()
    config = notify_config(None, webhook, WEBHOOK_TIMEOUT_SECONDS=0.5)
    app = create_app(base_config(database_uri, **config))
    submit(app)
    assert deliver(app).retrying == 1
    [hook] = messages(app)
    assert "timed out" in hook.last_error and hook.status == "pending"
    assert deliver(app, now=soon(31)).delivered == 1
    # The receiver did get the slow request: the key is how it keeps one copy.
    assert list(webhook.keys_received().values()) == [2]
    assert len(webhook.accepted) == 1
    assert deliver(app, now=soon(3600)).attempted == 0


def test_a_redirecting_webhook_is_a_failure_not_followed(app: Flask, webhook: WebhookPeer) -> None:
    webhook.answers = ["redirect"]
    webhook.start()
    submit(app)
    deliver(app)
    hook = next(m for m in messages(app) if m.channel == "webhook")
    assert hook.status == "pending" and "HTTP 307" in hook.last_error
    assert len(webhook.receipts) == 1  # the POST was not re-sent to the new location


@pytest.fixture
def https_webhook(tmp_path: Path) -> Iterator[tuple[WebhookPeer, Path]]:
    """A receiver serving HTTPS with a self-signed certificate (for 127.0.0.1), and the cert."""
    context, cert = server_tls(tmp_path)
    peer = WebhookPeer(SECRET, tls=context).start()
    yield peer, cert
    peer.stop()


def test_webhook_over_https_to_a_receiver_trusted_through_webhook_ca_file(
    database_uri: str, https_webhook: tuple[WebhookPeer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver, cert = https_webhook
    assert receiver.url.startswith("https://127.0.0.1:")
    monkeypatch.setenv("QUIZ_WEBHOOK_CA_FILE", str(cert))  # as an operator sets it
    app = create_app(base_config(database_uri, **notify_config(None, receiver)))
    [lead_id] = submit(app)
    assert deliver(app).delivered == 1
    [receipt] = receiver.receipts
    assert receipt.signed and receipt.status == 200
    assert json.loads(receipt.body)["lead"]["id"] == lead_id
    assert [m.status for m in messages(app)] == ["delivered"]


def test_webhook_to_a_self_signed_receiver_is_refused_without_webhook_ca_file(
    database_uri: str, https_webhook: tuple[WebhookPeer, Path]
) -> None:
    receiver, _cert = https_webhook
    app = create_app(base_config(database_uri, **notify_config(None, receiver)))
    submit(app)
    assert deliver(app).retrying == 1
    [hook] = messages(app)
    assert hook.status == "pending" and hook.attempts == 1
    assert "certificate verify failed" in hook.last_error  # the system's CAs don't know it
    assert receiver.receipts == []  # nothing was sent to a receiver that could not be verified


def test_gives_up_after_the_last_attempt_and_staff_can_retry(
    database_uri: str, webhook: WebhookPeer
) -> None:
    config = notify_config(None, webhook, OUTBOX_MAX_ATTEMPTS=2)
    app = create_app(base_config(database_uri, **config))
    submit(app)
    deliver(app)
    report = deliver(app, now=soon(31))
    assert report.failed == 1
    [hook] = messages(app)
    assert hook.status == "failed" and hook.attempts == 2
    assert deliver(app, now=soon(86400)).attempted == 0  # failed for good: no more tries

    runner = app.test_cli_runner()
    status = runner.invoke(args=["outbox", "status"])
    assert "failed 1" in status.output and f"failed #{hook.id} lead {hook.lead_id}" in status.output
    assert "connection refused" in status.output

    webhook.start()
    retried = runner.invoke(args=["outbox", "retry", "--all-failed"])
    assert "1 notification(s) queued again" in retried.output
    delivered = runner.invoke(args=["outbox", "deliver"])
    assert "delivered 1" in delivered.output, delivered.output
    assert len(webhook.accepted) == 1 and messages(app)[0].status == "delivered"


def test_a_channel_that_fails_is_not_hammered_in_the_same_run(
    app: Flask, webhook: WebhookPeer, smtp: SmtpPeer
) -> None:
    smtp.start()
    submit(app, 5)
    report = deliver(app)
    # Every email went out; the dead webhook was tried once, not five times.
    assert report.delivered == 5 and report.retrying == 1
    hooks = [m for m in messages(app) if m.channel == "webhook"]
    assert sorted(m.attempts for m in hooks) == [0, 0, 0, 0, 1]
    assert all(m.claimed_by == "" for m in hooks)


# --- several deliverers, leases -------------------------------------------------------


def test_several_deliverers_at_once_send_each_message_once(
    database_uri: str, webhook: WebhookPeer
) -> None:
    webhook.start()
    config = notify_config(None, webhook, OUTBOX_BATCH_SIZE=3)
    app = create_app(base_config(database_uri, **config))
    submit(app, 30)
    reports: list[delivery.DeliveryReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(deliver(app))
        except BaseException as err:  # reported below, with the other threads' results
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r.delivered for r in reports) == 30
    # No crash here, so no resend either: every key arrived exactly once, raw.
    assert sorted(set(webhook.keys_received().values())) == [1]
    assert len(webhook.receipts) == 30
    assert {m.status for m in messages(app)} == {"delivered"}


def test_a_dead_deliverers_claim_is_respected_until_its_lease_ends(
    app: Flask, smtp: SmtpPeer
) -> None:
    smtp.start()
    submit(app)
    now = datetime.now(UTC)
    with app.app_context():
        claimed = delivery.claim("dead-worker", now, lambda: now, 10)
        db.session.remove()
    assert len(claimed) == 2
    assert deliver(app, now=now + timedelta(seconds=60)).attempted == 0  # lease 120 s
    report = deliver(app, now=now + timedelta(seconds=121))
    assert report.delivered == 1 and len(smtp.messages) == 1


# --- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"WEBHOOK_URL": "https://crm.example/hook"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "ftp://crm.example/hook", "WEBHOOK_SECRET": SECRET}, "http(s) URL"),
        ({"WEBHOOK_URL": "http://crm.example/hook", "WEBHOOK_SECRET": SECRET}, "https://"),
        ({"NOTIFY_EMAIL_TO": ["desk@spa.example"]}, "NOTIFY_EMAIL_FROM"),
        ({"NOTIFY_EMAIL_TO": "not an address", "NOTIFY_EMAIL_FROM": "q@spa.example"}, "not an"),
        (
            {
                "NOTIFY_EMAIL_TO": "a@spa.example",
                "NOTIFY_EMAIL_FROM": "q@spa.example",
                "SMTP_SECURITY": "ssl",
            },
            "SMTP_SECURITY",
        ),  # fmt: skip
        (
            {
                "NOTIFY_EMAIL_TO": "a@spa.example",
                "NOTIFY_EMAIL_FROM": "q@spa.example",
                "SMTP_SECURITY": "none",
                "SMTP_HOST": "mail.example",
                "SMTP_USERNAME": "u",
            },
            "clear text",
        ),  # fmt: skip
        ({"OUTBOX_MAX_ATTEMPTS": "many"}, "OUTBOX_MAX_ATTEMPTS must be a number"),
        (
            {
                "OUTBOX_LEASE_SECONDS": 5,
                "WEBHOOK_URL": "https://c.example/h",
                "WEBHOOK_SECRET": SECRET,
                "STAFF_BASE_URL": "https://q.example",
            },
            "LEASE",
        ),  # fmt: skip
    ],
)
def test_bad_notification_settings_stop_start_up(settings: dict, message: str) -> None:
    config = {
        "SECRET_KEY": "a-real-production-secret-0123456789",
        "ENV": "production",
        "TRUSTED_HOSTS": ["quiz.alazzo.example"],
        **settings,
    }
    config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_app(config)


def test_production_notifications_need_the_staff_base_url() -> None:
    config = {
        "ENV": "production",
        "SECRET_KEY": "a-real-production-secret-0123456789",
        "TRUSTED_HOSTS": ["quiz.alazzo.example"],
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "WEBHOOK_URL": "https://crm.example/hook",
        "WEBHOOK_SECRET": SECRET,
    }
    with pytest.raises(ConfigError, match="STAFF_BASE_URL"):
        create_app(config)
    create_app({**config, "STAFF_BASE_URL": "https://quiz.myspa.example"})


def test_email_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZ_NOTIFY_EMAIL_TO", '["desk@spa.example", "Owner@Spa.example"]')
    monkeypatch.setenv("QUIZ_NOTIFY_EMAIL_FROM", "quiz@spa.example")
    app = create_app(base_config("sqlite://"))
    with app.app_context():
        assert settings().email.recipients == ("desk@spa.example", "Owner@spa.example")
        assert settings().channels == ("email",)
