"""The callback request: what is stored, what is refused, and that refusals store nothing."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from quiz.patient.tokens import _TOKEN_SALT
from tests.support.app import TEST_SECRET, leads
from tests.support.clock import FrozenClock
from tests.support.patient import RESULT_QUERY, callback_page, valid_callback

HX = {"HX-Request": "true"}


def post(client: FlaskClient, data: dict[str, Any], **headers: str):
    return client.post("/quiz/callback", data=data, headers=headers)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_valid_request_stores_the_lead_with_answers_consent_and_source(
    app: Flask, client: FlaskClient
) -> None:
    query = (
        RESULT_QUERY + "&utm_source=newsletter&utm_medium=email&utm_campaign=spring"
        "&page=https://alazzo.example/blog/botox-vs-fillers"
    )
    data = valid_callback(client, query, outcome="fill")  # a client-sent outcome is ignored
    response = post(
        client, data, **{"User-Agent": "TestBrowser/1.0", "Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    html = text(response)
    assert "will call you within one business day" in html
    assert "will call you within one business day, in the morning" in html

    [lead] = leads(app)
    assert (lead.name, lead.phone, lead.email, lead.best_time) == (
        "Jane Patient",
        "+13018105740",
        "jane@example.com",
        "morning",
    )
    assert (lead.concern, lead.area_list, lead.goal) == (
        "expression",
        ["between_brows", "cheeks"],
        "prevent",
    )
    assert lead.outcome == "both"  # recomputed on the server
    assert lead.status == "new"
    assert lead.consent_text.startswith("I agree that Alazzo Med Spa may call or text me")
    assert "not a condition of purchase" in lead.consent_text and "STOP" in lead.consent_text
    assert lead.consent_text_hash == hashlib.sha256(lead.consent_text.encode()).hexdigest()
    assert lead.consent_text_version == "2026-11-25"
    assert lead.consent_at is not None
    assert lead.consent_ip == "127.0.0.1"
    assert lead.consent_user_agent == "TestBrowser/1.0"
    assert lead.source_url == "https://alazzo.example/blog/botox-vs-fillers"
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )


def test_consent_text_shown_is_the_text_stored(app: Flask, client: FlaskClient) -> None:
    page = callback_page(client)
    post(client, valid_callback(client))
    [lead] = leads(app)
    assert f'<label for="consent">{lead.consent_text}</label>' in page


@pytest.mark.parametrize(
    ("lang", "thanks", "title"),
    [("en", "Thank you", "Thank you, we&#39;ll be in touch."),
     ("es", "Gracias", "Gracias, nos pondremos en contacto.")],
)  # fmt: skip
def test_the_thank_you_says_thanks_once(
    client: FlaskClient, lang: str, thanks: str, title: str
) -> None:
    response = post(client, valid_callback(client, f"{RESULT_QUERY}&lang={lang}"), **HX)
    section = text(response)[text(response).index('id="thanks"') :]
    assert f'<h1 id="step-heading" tabindex="-1">{title}</h1>' in section
    assert section.count(thanks) == 1


def test_htmx_request_gets_the_thank_you_fragment(app: Flask, client: FlaskClient) -> None:
    response = post(client, valid_callback(client), **HX)
    assert response.status_code == 200
    assert "<html" not in text(response) and "will call you within one business day" in text(
        response
    )
    assert len(leads(app)) == 1


def test_email_is_optional(app: Flask, client: FlaskClient) -> None:
    assert post(client, valid_callback(client, email="")).status_code == 200
    assert leads(app)[0].email == ""


def test_resending_the_same_form_stores_one_lead(app: Flask, client: FlaskClient) -> None:
    data = valid_callback(client)
    assert post(client, data).status_code == 200
    assert post(client, data).status_code == 200  # a refresh or double click
    assert len(leads(app)) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", None, "Please tell us your name."),
        ("name", "   ", "Please tell us your name."),
        ("name", "J" * 101, "Please keep your name under 100 characters."),
        ("name", "Jane\x00Doe", "Please remove the unusual characters"),
        ("phone", None, "Please give a phone number we can call."),
        ("phone", "12345", "Please enter a phone number we can call"),
        ("phone", "call me maybe", "Please enter a phone number we can call"),
        ("phone", "+1 555 000 0000 000 000 000 000 000 0000 0", "That phone number is too long."),
        ("email", "jane@", "Please check the email address"),
        ("email", "not an email", "Please check the email address"),
        ("email", "a" * 250 + "@example.com", "That email address is too long."),
        ("best_time", "midnight", "Please choose one of the times offered."),
        ("consent", None, "Please tick the box so that we may call you."),
        ("consent", "", "Please tick the box so that we may call you."),
        ("consent", "no", "Please tick the box so that we may call you."),
        ("consent", "0", "Please tick the box so that we may call you."),
        ("consent", "off", "Please tick the box so that we may call you."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_bad_field_is_explained_next_to_it_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    field: str,
    value: str | None,
    message: str,
    headers: dict[str, str],
) -> None:
    response = post(client, valid_callback(client, **{field: value}), **headers)
    assert response.status_code == 422
    html = text(response)
    assert f'<p class="error" id="{field}-error">{message}' in html.replace("&#39;", "'")
    # The patient's other answers are kept in the re-shown form.
    if field != "name":
        assert 'value="Jane Patient"' in html
    assert leads(app) == []


def test_best_time_defaults_to_any_time(app: Flask, client: FlaskClient) -> None:
    assert post(client, valid_callback(client, best_time=None)).status_code == 200
    assert leads(app)[0].best_time == "anytime"


@pytest.mark.parametrize("app_config", [{"PHONE_ALLOWED_REGIONS": ["US", "GB"]}])
def test_phone_in_another_country_keeps_its_country_code(app: Flask, client: FlaskClient) -> None:
    assert post(client, valid_callback(client, phone="+44 20 7946 0958")).status_code == 200
    assert leads(app)[0].phone == "+442079460958"


@pytest.mark.parametrize("app_config", [{"PHONE_DEFAULT_REGION": "GB"}])
def test_default_phone_region_comes_from_config(app: Flask, client: FlaskClient) -> None:
    assert post(client, valid_callback(client, phone="020 7946 0958")).status_code == 200
    assert leads(app)[0].phone == "+442079460958"


@pytest.mark.parametrize(
    "answers",
    [
        {"concern": "botox"},
        {"goal": None},
        {"area": ["between_brows", "nose"]},
    ],
)
def test_bad_answers_in_the_form_are_a_400(app: Flask, client: FlaskClient, answers: dict) -> None:
    response = post(client, valid_callback(client, **answers))
    assert response.status_code == 400
    assert "Start the quiz again" in text(response)
    assert leads(app) == []


def forged_token(payload: Any, secret: str = TEST_SECRET) -> str:
    return URLSafeTimedSerializer(secret, salt=_TOKEN_SALT).dumps(payload)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "garbage",
        "tampered-signature",
        "wrong-key",
        "no-nonce",
    ],
)
def test_tampered_token_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, token: str | None
) -> None:
    data = valid_callback(client)
    good = data["token"][0]
    data["token"] = {
        "tampered-signature": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "wrong-key": forged_token({"n": "abc"}, secret="another-secret-key-0123456789abcdef"),
        "no-nonce": forged_token({"x": 1}),
    }.get(token, token)
    response = post(client, data)
    assert response.status_code == 400
    assert "We couldn&#39;t read this form" in text(response)
    assert 'value="Jane Patient"' in text(response)  # nothing typed is lost
    assert leads(app) == []


@pytest.mark.parametrize("app_config", [{"FORM_MAX_AGE_SECONDS": 60}])
def test_expired_token_is_refused(
    app: Flask, client: FlaskClient, frozen_time: FrozenClock
) -> None:
    data = valid_callback(client)
    frozen_time.advance(120)  # the form stayed open for two minutes
    response = post(client, data)
    assert response.status_code == 400
    assert "open for a long time" in text(response)
    assert leads(app) == []


@pytest.mark.parametrize("app_config", [{"MIN_FILL_SECONDS": 30}])
def test_too_fast_submission_is_refused_then_accepted_later(
    app: Flask, client: FlaskClient, frozen_time: FrozenClock
) -> None:
    data = valid_callback(client)
    frozen_time.advance(5)
    response = post(client, data)
    assert response.status_code == 400
    assert "That was very quick" in text(response)
    assert leads(app) == []
    frozen_time.advance(26)  # 31 seconds after the form was shown
    assert post(client, data).status_code == 200
    assert len(leads(app)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
    ],
)
def test_cross_site_post_is_refused_with_403(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    response = post(client, valid_callback(client), **headers)
    assert response.status_code == 403
    assert "only be sent from the quiz itself" in text(response)
    assert leads(app) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    ],
)
def test_same_origin_post_is_accepted(app: Flask, client: FlaskClient, headers: dict) -> None:
    assert post(client, valid_callback(client), **headers).status_code == 200
    assert len(leads(app)) == 1


def test_filled_honeypot_looks_like_success_but_stores_nothing(
    app: Flask, client: FlaskClient
) -> None:
    response = post(client, valid_callback(client, website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you" in text(response)
    assert leads(app) == []


def test_oversized_body_gets_413(app: Flask, client: FlaskClient) -> None:
    response = post(client, valid_callback(client, name="x" * 100_000))
    assert response.status_code == 413
    assert leads(app) == []


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "CALLBACK_RATE_LIMIT": "2 per minute"}]
)
def test_callback_is_rate_limited_per_ip(
    app: Flask, client: FlaskClient, frozen_time: FrozenClock
) -> None:
    # The clock stands still: every request falls in the same minute, however slow the machine.
    codes = [post(client, valid_callback(client, name="")).status_code for _ in range(3)]
    assert codes == [422, 422, 429]
    refused = post(client, valid_callback(client))
    assert refused.status_code == 429 and "Please wait a minute" in text(refused)
    assert leads(app) == []
    frozen_time.advance(61)  # a minute later the patient may send it
    assert post(client, valid_callback(client)).status_code == 200
    assert len(leads(app)) == 1


def test_the_callback_form_without_answers_is_a_calm_400_with_a_restart(
    client: FlaskClient,
) -> None:
    response = client.get("/quiz/callback")
    assert response.status_code == 400
    assert "Please choose what bothers you most." in text(response)
    assert 'name="token"' not in text(response)


def post_with_a_file(client: FlaskClient, field: str):
    """The valid form with one field sent as an uploaded file instead of text."""
    data = valid_callback(client)
    data[field] = (io.BytesIO(b"=1+1"), "evil.txt")
    return client.post("/quiz/callback", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("field", ["name", "phone", "consent"])
def test_a_required_field_sent_as_a_file_is_asked_for_again(
    app: Flask, client: FlaskClient, field: str
) -> None:
    response = post_with_a_file(client, field)
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)  # explained as missing, next to the field
    assert leads(app) == []


@pytest.mark.parametrize(("field", "stored_as"), [("email", ""), ("best_time", "anytime")])
def test_an_optional_field_sent_as_a_file_is_stored_as_not_given(
    app: Flask, client: FlaskClient, field: str, stored_as: str
) -> None:
    response = post_with_a_file(client, field)
    assert response.status_code == 200 and "will call you within one business day" in text(response)
    [lead] = leads(app)
    assert getattr(lead, field) == stored_as  # as if left empty; the file's text is not kept


def test_one_form_makes_one_lead_whatever_it_carries(app: Flask, client: FlaskClient) -> None:
    data = valid_callback(client)
    assert post(client, data).status_code == 200
    # The same token sent again with other details (a bot replaying it, or a second
    # thought after the thank-you): the thank-you again, nothing more stored.
    for name in ("Mallory One", "Mallory Two", "Mallory Three", "Mallory Four"):
        again = post(client, {**data, "name": name, "phone": "(301) 810-5741"})
        assert again.status_code == 200 and "Thank you" in text(again)
    assert [(lead.name, lead.phone) for lead in leads(app)] == [("Jane Patient", "+13018105740")]
