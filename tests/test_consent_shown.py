"""The callback form carries the consent it showed (issue 14): a newer sentence is not stored.

The form sends back `consent_shown` (the consent's version and a short hash of
the exact sentence). A version published between the patient's GET of the
form and her POST, with another sentence, stores nothing: the form comes back
(409) with her entries, the new sentence, the box unticked and a message by
it; ticking and sending that form stores the new sentence. With JavaScript off
(the form's own page) and with htmx (the form fragment). Each test runs on a
real database (a SQLite file, or PostgreSQL in that pass); the app checks for a
new version at every request (CONTENT_CHECK_SECONDS=0), as a worker's thread
would within its interval.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.content.document import read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.publishing import publish
from quiz.db.engine import db
from tests.support.app import leads
from tests.support.content import load_locales
from tests.support.patient import callback_fields, valid_callback

FILES = load_locales()
OLD_CONSENT = FILES["en"].copy["consent_text"]
NEW_CONSENT = "I agree that {spa_name} may call me about my request, and text me only if I ask."
NEW_VERSION = "2026-12-01"
HX = {"HX-Request": "true"}
ENTRIES = {"name": "Jane Patient", "phone": "(301) 810-5740", "email": "jane@example.com"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"CONTENT_CHECK_SECONDS": 0}  # the conftest's app checks for a version per request


def publish_files(app: Flask, tmp_path: Path, *, consent: bool = True) -> None:
    """Publish the files with a new English consent sentence (or only a new label)."""
    text = (DEFAULT_CONTENT.parent / "quiz.toml").read_text(encoding="utf-8")
    if consent:
        old = (OLD_CONSENT, FILES["en"].copy["consent_version"])
        text = text.replace(f'consent_text = "{old[0]}"', f'consent_text = "{NEW_CONSENT}"')
        text = text.replace(f'consent_version = "{old[1]}"', f'consent_version = "{NEW_VERSION}"')
    else:
        label = FILES["en"].questions[0].options[0].label
        text = text.replace(f'"{label}"', '"Lines when I smile"', 1)
    assert text != (DEFAULT_CONTENT.parent / "quiz.toml").read_text(encoding="utf-8")
    folder = tmp_path / "published"
    folder.mkdir(exist_ok=True)
    (folder / "quiz.toml").write_text(text, encoding="utf-8")
    (folder / "quiz.es.toml").write_bytes((DEFAULT_CONTENT.parent / "quiz.es.toml").read_bytes())
    with app.app_context():
        latest = publish(
            read_document(folder / "quiz.toml"),
            author="cli",
            note="new consent" if consent else "new label",
            based_on=1,
            languages=app.extensions["quiz_languages"],
        )
        db.session.remove()
    assert latest.id == 2


def post(client: FlaskClient, data: dict[str, Any], htmx: bool):
    return client.post("/quiz/callback", data=data, headers=HX if htmx else {})


def consent_box(html: str) -> str:
    found = re.search(r'<input type="checkbox" name="consent"[^>]*>', html)
    assert found, "no consent box in the form"
    return found.group(0)


def spa_name(app: Flask) -> str:
    return app.extensions["quiz_spa"].name


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
def test_a_consent_published_after_the_form_was_shown_is_asked_again(
    app: Flask, client: FlaskClient, tmp_path: Path, htmx: bool
) -> None:
    data = valid_callback(client)  # the form as shown, filled in, the box ticked
    assert data["consent_shown"][0].startswith(FILES["en"].copy["consent_version"] + ":")
    publish_files(app, tmp_path)

    again = post(client, data, htmx)
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert leads(app) == []  # nothing stored
    new_sentence = NEW_CONSENT.format(spa_name=spa_name(app))
    assert new_sentence in html and OLD_CONSENT.format(spa_name=spa_name(app)) not in html
    assert "The wording of this agreement has changed since the form was opened" in html
    box = consent_box(html)
    assert "checked" not in box and 'aria-describedby="consent-error"' in box
    assert html.index('id="consent-error"') < html.index('id="consent"')  # beside the box
    for value in ENTRIES.values():
        assert f'value="{value}"' in html  # her entries kept
    assert 'value="morning" checked' in html
    assert html.lstrip().startswith("<form") == htmx  # htmx gets the form alone, swapped in place

    # She reads the new sentence, ticks the box and sends that form: the new sentence is stored.
    resend = {**callback_fields(html), **ENTRIES, "best_time": "morning", "consent": "yes"}
    assert resend["consent_shown"][0].startswith(NEW_VERSION + ":")
    stored = post(client, resend, htmx)
    assert stored.status_code == 200, stored.get_data(as_text=True)
    [lead] = leads(app)
    assert (lead.consent_text, lead.consent_text_version) == (new_sentence, NEW_VERSION)


def test_a_publish_that_keeps_the_consent_sentence_changes_nothing_for_the_patient(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    data = valid_callback(client)
    publish_files(app, tmp_path, consent=False)
    assert post(client, data, htmx=False).status_code == 200
    [lead] = leads(app)
    assert lead.consent_text == OLD_CONSENT.format(spa_name=spa_name(app))
    assert lead.consent_text_version == FILES["en"].copy["consent_version"]


@pytest.mark.parametrize("shown", [None, "", "2020-01-01:0123456789abcdef"])
def test_a_form_that_does_not_say_it_showed_this_consent_stores_nothing(
    app: Flask, client: FlaskClient, shown: str | None
) -> None:
    data = valid_callback(client, consent_shown=shown)
    response = post(client, data, htmx=False)
    assert response.status_code == 409
    assert "checked" not in consent_box(response.get_data(as_text=True))
    assert leads(app) == []


def test_a_refused_token_with_a_changed_consent_unticks_the_box_too(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    data = valid_callback(client, token="not-a-token")
    publish_files(app, tmp_path)
    response = post(client, data, htmx=True)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "read this form. Please check your details" in html
    assert "The wording of this agreement has changed" in html
    assert "checked" not in consent_box(html)
    assert leads(app) == []


def test_the_spanish_form_says_so_in_spanish(app: Flask, client: FlaskClient) -> None:
    query = "concern=expression&area=between_brows&goal=prevent&lang=es"
    data = valid_callback(client, query, consent_shown="old:0000")
    response = post(client, data, htmx=False)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "El texto de esta autorización cambió" in html
    assert FILES["es"].copy["consent_text"].format(spa_name=spa_name(app)) in html
    assert leads(app) == []
