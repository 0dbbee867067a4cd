"""Texts to staff through the outbox, against a Twilio-compatible Messages API on loopback.

The peer (tests/support/sms_peer.py) checks the path, Basic auth and form fields
as Twilio does and answers like it. Retries are made due by handing the
deliverer a clock moved past the backoff, so no test sleeps through one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from quiz import create_app
from quiz.settings import ConfigError
from tests.support.app import base_config
from tests.support.outbox import as_utc, deliver, messages, soon, submit
from tests.support.sms_peer import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SENDER,
    STAFF_NUMBERS,
    TwilioPeer,
    sms_config,
)
from tests.support.staff import words

ONE_NUMBER = {"STAFF_SMS_TO": STAFF_NUMBERS[:1], "STAFF_ESCALATION_SMS_TO": []}


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer()  # bound, not listening: "the provider is down" until started
    yield peer
    peer.stop()


@pytest.fixture
def sms_extra() -> dict[str, Any]:
    return {}


@pytest.fixture
def app_config(twilio: TwilioPeer, sms_extra: dict[str, Any]) -> dict[str, Any]:
    return sms_config(twilio, **sms_extra)


def texts_of(app: Flask, kind: str = "lead.created") -> list[Any]:
    return [
        m for m in messages(app) if m.channel == "sms" and json.loads(m.payload)["kind"] == kind
    ]


# --- what goes out ------------------------------------------------------------------


def test_a_new_lead_texts_each_staff_number_once_through_the_messages_api(
    app: Flask, twilio: TwilioPeer
) -> None:
    twilio.start()
    [lead_id] = submit(app)
    assert deliver(app).delivered == 2
    assert sorted(t.to for t in twilio.received) == sorted(STAFF_NUMBERS)
    for text in twilio.received:
        assert text.status == 201 and text.sid.startswith("SM")
        assert text.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        scheme, _, credentials = text.headers["authorization"].partition(" ")
        assert scheme == "Basic"
        assert base64.b64decode(credentials).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
        assert text.form["From"] == SENDER and "MessagingServiceSid" not in text.form
        assert text.body == (
            f"New callback request #{lead_id} (best time: morning). "
            f"Open: https://quiz.alazzo.example/staff/leads/{lead_id}"
        )
    assert {m.status for m in texts_of(app)} == {"delivered"}


def test_repeated_deliver_runs_send_each_text_once(app: Flask, twilio: TwilioPeer) -> None:
    twilio.start()
    submit(app, count=2)
    runner = app.test_cli_runner()
    outputs = [runner.invoke(args=["outbox", "deliver"]).output for _ in range(3)]
    assert "delivered 4" in outputs[0]
    assert all("delivered 0" in out for out in outputs[1:])
    assert len(twilio.received) == 4  # two leads × two numbers, each once
    assert len({(t.to, t.body) for t in twilio.received}) == 4


@pytest.mark.parametrize(
    "sms_extra", [{"SMS_FROM": "", "SMS_MESSAGING_SERVICE_SID": "MG" + "ab" * 16}]
)
def test_a_messaging_service_sends_instead_of_a_number(app: Flask, twilio: TwilioPeer) -> None:
    twilio.start()
    submit(app)
    deliver(app)
    assert {t.form.get("MessagingServiceSid") for t in twilio.delivered} == {"MG" + "ab" * 16}
    assert all("From" not in t.form for t in twilio.delivered)


def test_a_text_carries_no_patient_details_by_default(app: Flask, twilio: TwilioPeer) -> None:
    twilio.start()
    submit(app, name="Jane Patient", email="jane@example.com")
    deliver(app)
    for text in twilio.delivered:
        body = text.body.lower()
        for private in ("jane", "patient", "8105740", "810-5740", "example.com", "brow", "cheek"):
            assert private not in body
    for row in texts_of(app):  # nor does the queue hold them
        assert set(json.loads(row.payload)) == {
            "key", "lead_id", "created_at", "staff_url", "kind", "to",
        }  # fmt: skip


@pytest.mark.parametrize("sms_extra", [{"SMS_INCLUDE_CONTACT": True}])
def test_include_contact_adds_the_first_name_and_phone(app: Flask, twilio: TwilioPeer) -> None:
    twilio.start()
    [lead_id] = submit(app, name="Jane Patient")
    deliver(app)
    assert {t.body for t in twilio.delivered} == {
        f"New callback request #{lead_id} (best time: morning): Jane +13018105740. "
        f"Open: https://quiz.alazzo.example/staff/leads/{lead_id}"
    }


# --- retries and failures -----------------------------------------------------------


@pytest.mark.parametrize("sms_extra", [ONE_NUMBER])
def test_a_500_is_retried_with_growing_waits_then_sent_once(app: Flask, twilio: TwilioPeer) -> None:
    twilio.answers = ["error", "throttled"]
    twilio.start()
    submit(app)
    first = datetime.now(UTC)
    assert deliver(app, now=first).retrying == 1
    [text] = texts_of(app)
    assert text.attempts == 1 and "HTTP 500, code 20500" in text.last_error
    assert as_utc(text.next_attempt_at) == first + timedelta(seconds=30)
    assert deliver(app, now=first + timedelta(seconds=29)).attempted == 0  # not due yet

    second = first + timedelta(seconds=30)
    assert deliver(app, now=second).retrying == 1  # 429: throttled, retried as well
    [text] = texts_of(app)
    assert "HTTP 429, code 20429" in text.last_error
    assert as_utc(text.next_attempt_at) == second + timedelta(seconds=60)

    assert deliver(app, now=second + timedelta(seconds=60)).delivered == 1
    assert [t.status for t in twilio.received] == [500, 429, 201]
    assert deliver(app, now=soon(7 * 86400)).attempted == 0
    assert len(twilio.delivered) == 1


@pytest.mark.parametrize("sms_extra", [{**ONE_NUMBER, "SMS_TIMEOUT_SECONDS": 0.5}])
def test_a_timeout_is_retried_until_recorded_once(app: Flask, twilio: TwilioPeer) -> None:
    twilio.answers = ["slow"]
    twilio.slow_seconds = 1.5
    twilio.start()
    submit(app)
    assert deliver(app).retrying == 1
    [text] = texts_of(app)
    assert "timed out" in text.last_error and text.status == "pending"
    assert deliver(app, now=soon(31)).delivered == 1
    # Both tries carried the same key, for a provider that de-duplicates with it.
    keys = {t.headers["idempotency-key"] for t in twilio.received}
    assert len(twilio.received) == 2 and keys == {json.loads(text.payload)["key"]}
    assert deliver(app, now=soon(7 * 86400)).attempted == 0


@pytest.mark.parametrize("sms_extra", [ONE_NUMBER])
def test_the_provider_down_is_retried(app: Flask, twilio: TwilioPeer) -> None:
    submit(app)  # the peer is not listening: connection refused
    assert deliver(app).retrying == 1
    assert "connection refused" in texts_of(app)[0].last_error
    twilio.start()
    assert deliver(app, now=soon(31)).delivered == 1 and len(twilio.received) == 1


@pytest.mark.parametrize("sms_extra", [{"STAFF_ESCALATION_SMS_TO": []}])
def test_an_invalid_number_fails_at_once_and_is_never_retried(
    app: Flask, twilio: TwilioPeer, admin: Any
) -> None:
    twilio.answers = ["invalid_to"]
    twilio.start()
    submit(app)
    report = deliver(app)
    # The refusal was about that text alone: the other number's text still went.
    assert report.failed == 1 and report.delivered == 1 and report.retrying == 0
    failed = [m for m in texts_of(app) if m.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 1
    assert "HTTP 400, code 21211: The 'To' number" in failed[0].last_error
    assert deliver(app, now=soon(30 * 86400)).attempted == 0
    assert len(twilio.received) == 2

    page = admin.get("/staff/outbox")
    shown = words(page)
    assert "sms" in shown and "code 21211" in shown and "Retry now" in shown


def test_a_retried_failed_text_goes_out_once_more(app: Flask, twilio: TwilioPeer) -> None:
    twilio.answers = ["invalid_to"]
    twilio.start()
    submit(app)
    deliver(app)
    [failed] = [m for m in texts_of(app) if m.status == "failed"]
    result = app.test_cli_runner().invoke(args=["outbox", "retry", str(failed.id)])
    assert "1 notification(s) queued again" in result.output
    assert deliver(app, now=soon(1)).delivered == 1
    assert sorted(t.status for t in twilio.received) == [201, 201, 400]


# --- start-up checks ----------------------------------------------------------------

PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "a-real-production-secret-0123456789",
    "TRUSTED_HOSTS": ["quiz.alazzo.example"],
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}
GOOD = {
    "STAFF_BASE_URL": "https://quiz.alazzo.example",
    "STAFF_SMS_TO": ["+13015550101"],
    "SMS_ACCOUNT_SID": ACCOUNT_SID,
    "SMS_AUTH_TOKEN": AUTH_TOKEN,
    "SMS_FROM": SENDER,
}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"STAFF_SMS_TO": ["301-555-0101"]}, "'301-555-0101' is not a phone number in E.164"),
        ({"STAFF_SMS_TO": ["+1555"]}, "STAFF_SMS_TO: '+1555' is not a phone number"),
        ({"STAFF_ESCALATION_SMS_TO": ["tomorrow"]}, "STAFF_ESCALATION_SMS_TO: 'tomorrow'"),
        ({"STAFF_BASE_URL": ""}, "STAFF_BASE_URL must be set when texts are on"),
        ({"SMS_AUTH_TOKEN": ""}, "SMS_AUTH_TOKEN must be set"),
        ({"SMS_ACCOUNT_SID": ""}, "SMS_ACCOUNT_SID must be set"),
        ({"SMS_FROM": ""}, "Set one of SMS_FROM"),
        ({"SMS_MESSAGING_SERVICE_SID": "MG" + "0" * 32}, "not both"),
        ({"SMS_FROM": "555-0199"}, "SMS_FROM: '555-0199' is not a phone number"),
        ({"SMS_API_BASE": "http://sms.example"}, "SMS_API_BASE 'http://sms.example' must use https://"),
        ({"STAFF_OPENING_HOURS": {"mon-fri": "9-18"}}, "HOURS mon-fri: '9-18' is not a range"),
        ({"STAFF_OPENING_HOURS": {"mon": "18:00-09:00"}}, "must open before it closes"),
        ({"STAFF_OPENING_HOURS": {"monday": "09:00-17:00"}}, "STAFF_OPENING_HOURS has 'monday'"),
        ({"STAFF_OPENING_HOURS": {"mon-fri": "09:00-17:00", "fri": "closed"}}, "names fri twice"),
    ],
)  # fmt: skip
def test_bad_text_settings_stop_start_up(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        create_app({**PRODUCTION, **GOOD, **settings})
    assert message in str(raised.value)


def test_good_text_settings_start_and_numbers_come_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUIZ_STAFF_SMS_TO", '["+1 (301) 555-0101", "+13015550102"]')
    monkeypatch.setenv("QUIZ_STAFF_OPENING_HOURS", '{"mon-fri": "09:00-18:00"}')
    config = {k: v for k, v in GOOD.items() if k != "STAFF_SMS_TO"}
    app = create_app({**PRODUCTION, **config})
    sms = app.extensions["quiz_outbox"].sms
    assert sms.to == ("+13015550101", "+13015550102") == sms.escalation_to
    assert app.extensions["quiz_outbox"].channels == ("sms",)


def test_texts_stay_off_without_staff_numbers(database_uri: str) -> None:
    app = create_app(base_config(database_uri, SMS_ACCOUNT_SID=ACCOUNT_SID))
    submit(app)
    assert messages(app) == []
