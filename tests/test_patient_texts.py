"""Texting patients back: the consent kit, the first text, Twilio's webhooks, STOP/START/HELP.

Everything goes through a real SQLite file (or PostgreSQL) and the Twilio
peer in tests/support/sms_peer.py, in both directions: the app's texts go to
the peer's Messages API; the peer posts signed inbound texts and delivery
callbacks to the app. Time is injected where quiet hours matter (the lead's
clock, and the deliverer's `now`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from quiz import create_app
from quiz.content.consent_bump import bump_consent_versions, consent_of
from quiz.content.document import load_toml, read_document
from quiz.content.fields import screens
from quiz.content.file import DEFAULT_CONTENT
from quiz.db.engine import db
from quiz.db.models import Lead, OutboxMessage, TextMessage, TextOptOut
from quiz.db.scope import DEFAULT_SPA_ID
from quiz.settings import ConfigError
from quiz.texts.incoming import MAX_BODY
from quiz.texts.settings import settings_from_config
from tests.support.app import base_config, leads
from tests.support.outbox import deliver, messages, submit
from tests.support.patient import callback_page, valid_callback
from tests.support.sms_peer import (
    PUBLIC_BASE,
    TwilioPeer,
    message_sid,
    texts_config,
    tomorrow_midday,
)

PATIENT = "+13018105740"  # (301) 810-5740, New York's time zone: the form's default number
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def app_config(twilio: TwilioPeer) -> dict[str, Any]:
    return texts_config(twilio)


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return app.test_client(use_cookies=False)


def thread(app: Flask, number: str = PATIENT) -> list[TextMessage]:
    with app.app_context():
        rows = db.session.scalars(
            select(TextMessage).where(TextMessage.number == number).order_by(TextMessage.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def text_rows(app: Flask) -> list[OutboxMessage]:
    return [m for m in messages(app) if m.channel == "text"]


def opted_out(app: Flask, number: str = PATIENT) -> datetime | None:
    with app.app_context():
        row = db.session.get(TextOptOut, (DEFAULT_SPA_ID, number))
        return row.opted_out_at if row else None


# --- the consent kit ---------------------------------------------------------------


def test_the_form_has_a_separate_unticked_texting_consent_with_its_links(web: FlaskClient) -> None:
    page = callback_page(web)
    box = re.search(r'<input type="checkbox" name="sms_consent"[^>]*>', page)
    assert box and "checked" not in box.group(0) and "required" not in box.group(0)
    sentence = re.search(r'<label for="sms_consent">([^<]+)</label>', page).group(1)  # type: ignore[union-attr]
    assert "Alazzo Med Spa" in sentence and "automated technology" in sentence
    assert (
        "Msg &amp; data rates may apply; message frequency varies; reply HELP for help, "
        "STOP to opt out" in sentence
    )
    assert 'href="https://alazzo.example/privacy"' in page
    assert 'href="https://alazzo.example/sms-terms"' in page


def test_the_form_is_sent_without_the_texting_consent_and_no_text_goes(app: Flask) -> None:
    [lead_id] = submit(app)
    [lead] = leads(app)
    assert lead.id == lead_id and lead.sms_consent is False and lead.sms_consent_text == ""
    assert text_rows(app) == [] and thread(app) == []


@pytest.mark.parametrize("value", ["no", "0", "false", ""])
def test_only_a_ticked_box_counts_as_texting_consent(app: Flask, value: str) -> None:
    submit(app, sms_consent=value)
    [lead] = leads(app)
    assert lead.sms_consent is False and text_rows(app) == []


def test_the_texting_consent_is_recorded_like_the_call_consent(app: Flask) -> None:
    submit(app, sms_consent="yes")
    [lead] = leads(app)
    assert lead.sms_consent is True and lead.sms_consent_at is not None
    assert "automated technology" in lead.sms_consent_text
    assert lead.sms_consent_text.endswith(
        "Privacy policy: https://alazzo.example/privacy SMS terms: https://alazzo.example/sms-terms"
    )
    assert len(lead.sms_consent_text_hash) == 64 and lead.sms_consent_text_version == "2026-12-07"
    # The address, origin and language are the call consent's: the same request.
    assert lead.consent_ip and lead.locale == "en"


def test_a_spanish_patient_sees_and_records_the_spanish_texting_consent(
    app: Flask, web: FlaskClient
) -> None:
    query = "concern=expression&area=between_brows&goal=prevent&lang=es"
    page = callback_page(web, query)
    assert "tecnología automatizada" in page and "Condiciones de los SMS" in page
    data = valid_callback(web, query, sms_consent="yes", name="Ana López")
    assert web.post("/quiz/callback?lang=es", data=data).status_code == 200
    [lead] = leads(app)
    assert lead.sms_consent_text_version == "2026-12-07-es"
    assert "tecnología automatizada" in lead.sms_consent_text
    deliver(app, now=tomorrow_midday())  # past any quiet hours
    [text] = thread(app)
    assert text.body.startswith("Hola, Ana: le escribe Alazzo Med Spa.")


def test_the_exports_gain_the_texting_consent_and_the_opt_out(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, runner: Any
) -> None:
    submit(app, sms_consent="yes")
    submit(app, phone="(301) 810-5741")
    twilio.inbound(web, PATIENT, "STOP")
    result = runner.invoke(args=["leads", "export"])
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert header[-2:] == ["sms_consent", "sms_opted_out_at"]
    cells = {row[header.index("phone")]: row[-2:] for row in rows}
    assert cells["+13018105741"] == ["no", ""]
    assert cells[PATIENT][0] == "yes" and cells[PATIENT][1].endswith("Z")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SMS_PRIVACY_URL": ""}, "SMS_PRIVACY_URL must be set"),
        ({"SMS_TERMS_URL": ""}, "SMS_TERMS_URL must be set"),
        ({"SMS_TERMS_URL": "http://alazzo.example/terms"}, "SMS_TERMS_URL must be set"),
        ({"SMS_ACCOUNT_SID": ""}, "SMS_ACCOUNT_SID must be set (e.g. AC…) when PATIENT_TEXTS is"),
        ({"STAFF_BASE_URL": ""}, "STAFF_BASE_URL must be set when PATIENT_TEXTS is"),
    ],
)
def test_production_refuses_to_text_patients_without_what_it_needs(
    twilio: TwilioPeer, change: dict[str, Any], message: str
) -> None:
    config = {**base_config("sqlite://"), **texts_config(twilio), **change}
    config.setdefault("SMS_TIMEOUT_SECONDS", 3)
    config["SMS_API_BASE"] = "https://api.twilio.com"
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_from_config(config, development=False)


def test_without_patient_texts_there_is_no_box_and_no_webhook(
    database_uri: str, twilio: TwilioPeer
) -> None:
    app = create_app(base_config(database_uri))
    client = app.test_client(use_cookies=False)
    assert 'name="sms_consent"' not in callback_page(client)
    assert twilio.inbound(client, PATIENT, "hello").status_code == 404


# --- the automatic first text --------------------------------------------------------


def test_the_first_text_is_queued_with_the_lead_and_sent_on_the_next_run(
    app: Flask, twilio: TwilioPeer
) -> None:
    now = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # 12:00 in New York
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("quiz.leads.store.utcnow", lambda: now)
        [lead_id] = submit(app, sms_consent="yes")
    [row] = text_rows(app)
    assert row.lead_id == lead_id and row.created_at.replace(tzinfo=UTC) == now  # one transaction
    [text] = thread(app)
    assert (text.direction, text.kind, text.status, text.outbox_id) == (
        "out", "first_text", "waiting", row.id)  # fmt: skip
    assert deliver(app, now=now).delivered == 1
    [sent] = twilio.delivered
    assert sent.to == PATIENT and sent.body.startswith("Hi Jane, it's Alazzo Med Spa.")
    assert sent.form["StatusCallback"] == f"{PUBLIC_BASE}/sms/status"
    assert json.loads(row.payload)["key"] == sent.headers["idempotency-key"]
    [text] = thread(app)
    assert (text.status, text.provider_sid) == ("queued", sent.sid)
    assert deliver(app, now=now + timedelta(hours=1)).attempted == 0  # sent once
    assert len(twilio.received) == 1


def test_the_first_text_waits_for_the_morning_where_the_number_is(
    app: Flask, twilio: TwilioPeer
) -> None:
    evening = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 22:00 in New York
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("quiz.leads.store.utcnow", lambda: evening)
        submit(app, sms_consent="yes")
    [row] = text_rows(app)
    morning = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)  # 8:00 in New York
    assert row.next_attempt_at.replace(tzinfo=UTC) == morning
    assert deliver(app, now=morning - timedelta(minutes=1)).attempted == 0
    assert twilio.received == []
    assert deliver(app, now=morning).delivered == 1 and len(twilio.delivered) == 1


def test_a_text_put_back_by_hand_still_waits_for_the_window(app: Flask, twilio: TwilioPeer) -> None:
    submit(app, sms_consent="yes")
    night = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)  # 1:00 in New York
    with app.app_context():  # as if due now: the sender checks the hours again
        db.session.execute(db.update(OutboxMessage).values(next_attempt_at=night))
        db.session.commit()
    report = deliver(app, now=night)
    assert (report.deferred, report.attempted, twilio.received) == (1, 0, [])
    [row] = text_rows(app)
    assert row.next_attempt_at.replace(tzinfo=UTC) == datetime(2026, 12, 9, 13, 0, tzinfo=UTC)
    assert row.attempts == 0


def test_a_landline_is_refused_with_the_reason_and_never_retried(
    app: Flask, twilio: TwilioPeer
) -> None:
    twilio.answers = ["landline"]
    submit(app, sms_consent="yes")
    later = tomorrow_midday()
    assert deliver(app, now=later).failed == 1
    [text] = thread(app)
    assert text.status == "refused" and "landline" in text.error and "21614" in text.error
    assert deliver(app, now=later + timedelta(days=1)).attempted == 0
    assert len(twilio.received) == 1


# --- inbound: the webhook ------------------------------------------------------------


def test_an_inbound_text_joins_the_newest_leads_thread(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    submit(app)
    [newer] = submit(app)
    response = twilio.inbound(web, PATIENT, "Can I come on Friday? 🙂")
    assert response.status_code == 200 and response.get_data(as_text=True) == EMPTY_TWIML
    assert response.mimetype == "text/xml" and "Set-Cookie" not in response.headers
    [text] = thread(app)
    assert (text.lead_id, text.direction, text.body, text.status) == (
        newer, "in", "Can I come on Friday? 🙂", "received")  # fmt: skip
    assert text.read_at is None


def test_a_duplicate_message_sid_is_stored_once(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    submit(app)
    sid = message_sid()
    for _ in range(3):
        assert twilio.inbound(web, PATIENT, "STOP", sid=sid).status_code == 200
    assert [t.direction for t in thread(app)] == ["in", "out"]  # one STOP, one confirmation


def test_a_text_from_an_unknown_number_goes_to_the_inbox(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    assert twilio.inbound(web, "+14155550100", "who is this?").status_code == 200
    [text] = thread(app, "+14155550100")
    assert text.lead_id is None and text.body == "who is this?"


@pytest.mark.parametrize(
    "forgery",
    [
        {"token": "not-the-auth-token"},
        {
            "public_url": "http://localhost/sms/inbound"
        },  # the request's own Host: not what Twilio signs
        {"public_url": PUBLIC_BASE + "/sms/inbound?x=1"},
    ],
)
def test_unsigned_or_forged_requests_get_403_and_nothing_is_stored(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, forgery: dict[str, str]
) -> None:
    submit(app)
    assert twilio.inbound(web, PATIENT, "STOP", **forgery).status_code == 403
    fields = {"MessageSid": message_sid(), "From": PATIENT, "To": "+13015550199", "Body": "STOP"}
    assert web.post("/sms/inbound", data=fields).status_code == 403  # no signature at all
    bad = {"X-Twilio-Signature": "not base64 at all %%%"}
    assert web.post("/sms/inbound", data=fields, headers=bad).status_code == 403
    assert thread(app) == [] and opted_out(app) is None


def test_the_signature_holds_behind_a_proxy(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    # nginx hands the app its own Host and scheme; the public address is STAFF_BASE_URL's.
    proxy = {"Host": "127.0.0.1:8000", "X-Forwarded-Proto": "http", "X-Forwarded-For": "10.0.0.9"}
    assert twilio.inbound(web, PATIENT, "Hello", **proxy).status_code == 200
    assert [t.body for t in thread(app)] == ["Hello"]


def test_a_signed_request_that_is_no_message_gets_400_and_nothing_is_stored(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    no_sid = twilio.webhook(web, "/sms/inbound", {"From": PATIENT, "Body": "hi"})
    bad_from = twilio.webhook(
        web, "/sms/inbound", {"MessageSid": message_sid(), "From": "nobody", "Body": "hi"}
    )
    assert (no_sid.status_code, bad_from.status_code) == (400, 400)
    assert "Traceback" not in bad_from.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(TextMessage)).all() == []


def test_an_oversized_body_is_refused_whole(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    response = twilio.inbound(web, PATIENT, "x" * 100_000)
    assert response.status_code == 413
    with app.app_context():
        assert db.session.scalars(select(TextMessage)).all() == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(max_size=2000))
def test_any_text_is_stored_once_whole_or_cut_at_twilios_limit(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, body: str
) -> None:
    sid = message_sid()
    response = twilio.inbound(web, "+14155550100", body, sid=sid)
    assert response.status_code == 200
    again = twilio.inbound(web, "+14155550100", body, sid=sid)
    assert again.status_code == 200
    with app.app_context():
        stored = db.session.scalars(
            select(TextMessage).where(TextMessage.provider_sid == sid)
        ).all()
    assert len(stored) == 1
    # Control characters are dropped (PostgreSQL refuses NUL); every other character is kept.
    kept = "".join(ch for ch in body if ch.isprintable() or ch in "\n\t")
    assert stored[0].body == kept[:MAX_BODY]


# --- STOP, START, HELP ---------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "opt out", "ALTO", "No más",
                                  "NO MAS", "cancelar", "Parar!"])  # fmt: skip
def test_stop_opts_the_number_out_at_once_with_one_confirmation(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, word: str
) -> None:
    submit(app, sms_consent="yes")  # a first text waits in the outbox
    submit(app)  # a second lead with the number
    twilio.inbound(web, PATIENT, word)
    assert opted_out(app) is not None
    twilio.inbound(web, PATIENT, word)  # again: nothing more is sent
    confirmations = [t for t in thread(app) if t.kind == "keyword" and t.direction == "out"]
    assert len(confirmations) == 1 and "will not get any more texts" in confirmations[0].body
    report = deliver(app, now=tomorrow_midday())
    assert (report.delivered, report.cancelled) == (1, 1)  # the confirmation; the first text not
    assert [t.body for t in twilio.delivered] == [confirmations[0].body]
    [first] = [t for t in thread(app) if t.kind == "first_text"]
    assert first.status == "refused" and "STOP" in first.error


def test_stop_in_spanish_is_confirmed_in_the_leads_language(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    query = "concern=expression&area=between_brows&goal=prevent&lang=es"
    web.post("/quiz/callback?lang=es", data=valid_callback(web, query, name="Ana López"))
    twilio.inbound(web, PATIENT, "ALTO")
    [confirmation] = [t for t in thread(app) if t.kind == "keyword" and t.direction == "out"]
    assert confirmation.body.startswith("Alazzo Med Spa: no recibirá más mensajes")


def test_a_later_lead_from_an_opted_out_number_gets_no_text_until_start(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    twilio.inbound(web, PATIENT, "STOP")  # before any lead: still honoured
    submit(app, sms_consent="yes")
    assert [t.kind for t in thread(app)] == ["keyword", "keyword"]  # no first text queued
    twilio.inbound(web, PATIENT, "START")
    assert opted_out(app) is None
    start = [t for t in thread(app) if t.kind == "keyword" and t.direction == "out"][-1]
    assert "get our texts again" in start.body
    submit(app, sms_consent="yes")
    assert [t.kind for t in thread(app)][-1] == "first_text"


def test_help_answers_with_the_spas_name_and_phone(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    submit(app)
    twilio.inbound(web, PATIENT, "help")
    [answer] = [t for t in thread(app) if t.kind == "keyword" and t.direction == "out"]
    assert answer.body.startswith("Alazzo Med Spa: for help, call us on (301) 810-5740.")


def test_a_provider_stop_marks_the_number_opted_out(app: Flask, twilio: TwilioPeer) -> None:
    twilio.answers = ["stopped"]  # Twilio's 21610: the number replied STOP to this sender
    submit(app, sms_consent="yes")
    assert deliver(app, now=tomorrow_midday()).failed == 1
    assert opted_out(app) is not None


# --- delivery callbacks --------------------------------------------------------------


def test_delivery_callbacks_update_the_thread_and_never_step_back(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    submit(app, sms_consent="yes")
    deliver(app, now=tomorrow_midday())
    [sent] = twilio.delivered
    assert twilio.status(web, sent.sid, "sent").status_code == 200
    assert twilio.status(web, sent.sid, "delivered").status_code == 200
    assert twilio.status(web, sent.sid, "sent").status_code == 200  # late, out of order
    assert thread(app)[0].status == "delivered"
    assert twilio.status(web, message_sid(), "delivered").status_code == 200  # not ours: ignored
    forged = twilio.webhook(web, "/sms/status", {"MessageSid": sent.sid, "MessageStatus": "failed"},
                            token="wrong")  # fmt: skip
    assert forged.status_code == 403 and thread(app)[0].status == "delivered"


def test_a_failed_delivery_shows_twilios_error(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    submit(app, sms_consent="yes")
    deliver(app, now=tomorrow_midday())
    [sent] = twilio.delivered
    twilio.status(web, sent.sid, "undelivered", error_code="30003")
    [text] = thread(app)
    assert text.status == "undelivered" and "30003" in text.error


def test_leads_are_stored_whole_with_the_rest_of_their_rows(app: Flask) -> None:
    submit(app, sms_consent="yes")
    with app.app_context():
        lead = db.session.scalars(select(Lead)).one()
        kinds = sorted(m.channel for m in db.session.scalars(select(OutboxMessage)))
    assert lead.sms_consent and kinds == ["text"]


def test_a_changed_texting_sentence_gets_a_new_version_at_publish() -> None:
    shipped = read_document(DEFAULT_CONTENT)
    english = shipped.text("en").replace("may also text me", "may text me")
    edited = type(shipped)(
        tuple((k, english if k == "en" else t) for k, t in shipped.texts), shipped.sources
    )
    bumped = bump_consent_versions(edited, shipped, 12, date(2026, 12, 7))
    assert consent_of(bumped.text("en"), ("sms_consent_text", "sms_consent_version"))[1] == (
        "2026-12-07-v12"
    )
    assert consent_of(bumped.text("en"))[1] == "2026-11-25"  # the call consent did not change
    assert bumped.text("es") == shipped.text("es")


def test_the_editor_shows_the_texts_to_patients() -> None:
    from quiz.content.document import read_document
    from quiz.content.file import DEFAULT_CONTENT

    raw = load_toml(read_document(DEFAULT_CONTENT).text("en"), "quiz.toml")
    [texts] = [s for s in screens(raw) if s.id == "texts"]
    assert [f.key for f in texts.fields] == [
        "copy.sms_consent_text", "copy.first_text", "copy.help_text", "copy.stop_text",
        "copy.start_text"]  # fmt: skip
