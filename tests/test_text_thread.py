"""The texts on a lead's page: the thread, the reply box (htmx and plain), unread marks.

The front desk reads a patient's texts in order with their delivery status,
answers from the page (with JavaScript or without), sees which leads have a
new text on the list, and is told plainly when a text may not go.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import Lead, OutboxMessage, TextMessage
from tests.support.app import base_config, stop_background
from tests.support.outbox import deliver, submit
from tests.support.sms_peer import STAFF_NUMBERS, TwilioPeer, texts_config, tomorrow_midday
from tests.support.staff import (
    CLINICIAN,
    CLINICIAN_EMAIL,
    CLINICIAN_PASSWORD,
    STAFF_CONFIG,
    create_staff,
    csrf_token,
    get_lead,
    signed_in_client,
    text,
    words,
)

PATIENT = "+13018105740"
LATER = tomorrow_midday()  # past any quiet hours


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def app_config(twilio: TwilioPeer) -> dict[str, Any]:
    return {**texts_config(twilio), **STAFF_CONFIG}


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return app.test_client(use_cookies=False)


def thread(app: Flask) -> list[TextMessage]:
    with app.app_context():
        rows = db.session.scalars(select(TextMessage).order_by(TextMessage.id)).all()
        db.session.expunge_all()
        return list(rows)


def reply(client: FlaskClient, lead_id: int, body: str, htmx: bool = False) -> Any:
    page = client.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/staff/leads/{lead_id}/texts",
        data={"csrf_token": csrf_token(page), "body": body},
        headers=headers,
    )


def test_the_thread_shows_both_directions_in_order_with_their_status(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, desk: FlaskClient
) -> None:
    [lead_id] = submit(app, sms_consent="yes")
    deliver(app, now=LATER)
    twilio.inbound(web, PATIENT, "Is Friday at 4 ok? <b>thanks</b>")
    page = desk.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    thread_html = page[page.index('id="texts-thread"') :]
    first = thread_html.index("automatic first text")
    patient = thread_html.index("Is Friday at 4 ok? &lt;b&gt;thanks&lt;/b&gt;")  # escaped
    assert first < patient
    assert "sent to the provider" in thread_html  # the first text's delivery status
    assert f'hx-get="/staff/leads/{lead_id}/texts"' in page and 'hx-trigger="every 5s"' in page


def test_a_reply_goes_through_the_outbox_with_htmx(
    app: Flask, twilio: TwilioPeer, desk: FlaskClient
) -> None:
    [lead_id] = submit(app)
    response = reply(desk, lead_id, "Hi Jane, Friday at 4 works. See you then!", htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<section class="card texts" id="texts"')
    assert "Friday at 4 works" in html and "waiting to send" in html
    assert re.search(r'<textarea id="reply-body"[^>]*></textarea>', html)  # emptied
    assert deliver(app, now=LATER).delivered == 1
    [sent] = twilio.delivered
    assert sent.to == PATIENT and sent.body == "Hi Jane, Friday at 4 works. See you then!"
    [text_row] = thread(app)
    assert (text_row.kind, text_row.status) == ("reply", "queued") and text_row.staff_id
    # A text typed by staff is the first human contact; the automatic one never is.
    assert get_lead(app, lead_id).first_contacted_at is not None


def test_a_reply_works_without_javascript(
    app: Flask, twilio: TwilioPeer, desk: FlaskClient
) -> None:
    [lead_id] = submit(app)
    response = reply(desk, lead_id, "Hello from the desk")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/leads/{lead_id}#texts")
    page = desk.get(f"/staff/leads/{lead_id}")
    assert "Text queued" in words(page) and "Hello from the desk" in text(page)


def test_the_automatic_text_is_not_first_contact(app: Flask, twilio: TwilioPeer) -> None:
    [lead_id] = submit(app, sms_consent="yes")
    deliver(app, now=LATER)
    assert twilio.delivered and get_lead(app, lead_id).first_contacted_at is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [("   ", "Write the text first."), ("x" * 641, "keep it to 640")],
)
def test_a_reply_that_cannot_go_is_refused_with_the_reason_and_nothing_stored(
    app: Flask, desk: FlaskClient, body: str, reason: str
) -> None:
    [lead_id] = submit(app)
    response = reply(desk, lead_id, body, htmx=True)
    assert response.status_code == 422 and reason in text(response)
    assert thread(app) == []


def test_an_opted_out_number_closes_the_reply_box_and_refuses_a_reply(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, desk: FlaskClient
) -> None:
    [lead_id] = submit(app)
    twilio.inbound(web, PATIENT, "STOP")
    page = desk.get(f"/staff/leads/{lead_id}")
    assert "texted STOP" in words(page) and 'id="reply-body"' not in text(page)
    before = len(thread(app))
    response = reply(desk, lead_id, "Are you sure?", htmx=True)
    assert response.status_code == 422 and "texted STOP" in words(response)
    assert len(thread(app)) == before


def test_new_texts_are_marked_on_the_list_until_the_lead_is_opened(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, desk: FlaskClient
) -> None:
    [lead_id] = submit(app)
    [quiet_id] = submit(app, phone="(301) 810-5741")
    twilio.inbound(web, PATIENT, "Hello?")
    listing = desk.get("/staff/").get_data(as_text=True)
    assert f'href="/staff/leads/{lead_id}#texts">new text</a>' in listing
    assert f'href="/staff/leads/{quiet_id}#texts"' not in listing
    desk.get(f"/staff/leads/{lead_id}")  # read
    assert "new text" not in desk.get("/staff/").get_data(as_text=True)


def test_the_polled_thread_brings_a_new_text_without_a_reload(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, desk: FlaskClient
) -> None:
    [lead_id] = submit(app)
    desk.get(f"/staff/leads/{lead_id}")
    twilio.inbound(web, PATIENT, "Just checking in")
    polled = desk.get(f"/staff/leads/{lead_id}/texts", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and "no-store" in polled.headers["Cache-Control"]
    html = polled.get_data(as_text=True)
    assert html.startswith('<ol id="texts-thread"') and "Just checking in" in html


def test_a_clinical_account_reads_but_does_not_text(
    app: Flask, twilio: TwilioPeer, web: FlaskClient
) -> None:
    create_staff(app, CLINICIAN_EMAIL, CLINICIAN_PASSWORD, "clinical", *CLINICIAN)
    clinician = signed_in_client(app, CLINICIAN_EMAIL, CLINICIAN_PASSWORD)
    [lead_id] = submit(app)
    twilio.inbound(web, PATIENT, "hi")
    page = clinician.get(f"/staff/leads/{lead_id}")
    assert "hi" in text(page) and "can read texts but not send them" in words(page)
    assert reply(clinician, lead_id, "hello").status_code == 403
    assert [t.direction for t in thread(app)] == ["in"]


def test_texts_from_unknown_numbers_wait_in_the_admins_inbox(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, admin: FlaskClient, desk: FlaskClient
) -> None:
    twilio.inbound(web, "+14155550100", "Do you do lip filler?")
    assert "Do you do lip filler?" in text(admin.get("/staff/texts"))
    assert desk.get("/staff/texts").status_code == 403


@pytest.fixture
def escalating(twilio: TwilioPeer) -> dict[str, Any]:
    return {**texts_config(twilio), "STAFF_SMS_TO": STAFF_NUMBERS[:1], **STAFF_CONFIG}


def test_an_unanswered_text_alerts_staff_and_an_answered_one_does_not(
    database_uri: str, twilio: TwilioPeer, escalating: dict[str, Any]
) -> None:
    app = create_app(base_config(database_uri, **escalating))
    try:
        web = app.test_client(use_cookies=False)
        create_staff(app, role="desk")
        desk = signed_in_client(app)
        [first] = submit(app)
        [second] = submit(app, phone="(301) 810-5741")
        twilio.inbound(web, PATIENT, "anyone there?")
        twilio.inbound(web, "+13018105741", "me too")
        reply(desk, second, "Yes, here!")
        with app.app_context():
            alerts = [
                m for m in db.session.scalars(select(OutboxMessage))
                if '"text.unanswered"' in m.payload
            ]  # fmt: skip
            due = max(m.next_attempt_at for m in alerts).replace(tzinfo=UTC)
        assert len(alerts) == 2
        report = deliver(app, now=due + timedelta(seconds=1))
        unanswered = [t for t in twilio.delivered if "Unanswered text" in t.body]
        assert [t.body.split("#")[1].split(".")[0] for t in unanswered] == [str(first)]
        # Cancelled: the answered text's alert, and the second lead's "still not called"
        # (a text typed by staff is contact).
        assert report.cancelled == 2
    finally:
        stop_background(app)


def test_erasing_a_lead_erases_its_texts(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, admin: FlaskClient
) -> None:
    [lead_id] = submit(app)
    twilio.inbound(web, PATIENT, "my private question")
    page = admin.get(f"/staff/leads/{lead_id}/erase").get_data(as_text=True)
    admin.post(f"/staff/leads/{lead_id}/erase",
               data={"csrf_token": csrf_token(page), "confirm": str(lead_id)})  # fmt: skip
    with app.app_context():
        assert db.session.get(Lead, lead_id) is None
        assert db.session.scalars(select(TextMessage)).all() == []


def test_the_speed_report_measures_the_first_reply_to_a_patients_text(
    app: Flask, twilio: TwilioPeer, web: FlaskClient, admin: FlaskClient
) -> None:
    [answered] = submit(app, sms_consent="yes")
    submit(app, phone="(301) 810-5741")
    deliver(app, now=LATER)  # the automatic first text: not a reply, not contact
    twilio.inbound(web, PATIENT, "Can I book for Friday?")
    twilio.inbound(web, PATIENT, "Or Saturday?")  # the same wait: one turn
    twilio.inbound(web, "+13018105741", "Hello?")
    twilio.inbound(web, "+13018105741", "STOP")  # answered automatically: not counted
    reply(admin, answered, "Friday at 4?")
    summary = re.search(
        r'<p class="summary" id="text-replies">(.*?)</p>',
        admin.get("/staff/speed").get_data(as_text=True),
        re.S,
    ).group(1)  # type: ignore[union-attr]
    flat = re.sub(r"<[^>]+>|\s+", " ", summary)
    assert "2 texts waited for an answer, 1 answered" in re.sub(r" +", " ", flat)
    assert "not answered yet: 1" in re.sub(r" +", " ", flat)


def test_a_text_the_outbox_gave_up_on_says_so(
    app: Flask, twilio: TwilioPeer, desk: FlaskClient
) -> None:
    [lead_id] = submit(app)
    reply(desk, lead_id, "Are you free Friday?")
    twilio.answers = ["error"] * 3  # the provider answers 500 each time
    now = LATER
    with app.app_context():
        app.extensions["quiz_outbox"] = dataclasses.replace(
            app.extensions["quiz_outbox"], max_attempts=2
        )
    for _ in range(2):
        deliver(app, now=now)
        now += timedelta(hours=2)  # past the backoff
    page = desk.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "retries used up" in page and "waiting to send" not in page
