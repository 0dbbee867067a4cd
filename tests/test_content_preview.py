"""Previewing a draft (issue 14, item 3): signed-in admins only, short-lived, never cached.

The preview is the patient's own pages rendered from the editor's draft under
/staff/preview/<token>/; a real database (SQLite file, then PostgreSQL).
"""

from __future__ import annotations

import html as html_lib
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.db.engine import db
from quiz.db.models import Lead
from quiz.funnel.counter import recorder
from quiz.web.render_cache import render_cache
from tests.support.staff import create_staff, csrf_token, signed_in_client

LABEL = "questions.concern.options.expression.label"


def draft_label(client: FlaskClient, en: str, es: str | None = None) -> None:
    html = client.get("/staff/content").get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), f"en|{LABEL}": en}
    if es is not None:
        data[f"es|{LABEL}"] = es
    assert client.post("/staff/content/screens/concern", data=data).status_code == 303


def preview_url(client: FlaskClient, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    html = client.get(f"/staff/content/preview?{query}").get_data(as_text=True)
    found = re.search(r'<iframe class="phone"[^>]* src="([^"]+)"', html)
    assert found, html
    return html_lib.unescape(found.group(1))


def test_the_preview_shows_the_draft_uncached_while_patients_see_the_published(
    app: Flask, admin: FlaskClient
) -> None:
    draft_label(admin, "Lines when I smile", "Líneas al sonreír")
    url = preview_url(admin, screen="concern")
    response = admin.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Lines when I smile" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    # Its links stay inside the preview.
    assert re.search(r'action="/staff/preview/[^/"]+/quiz/area"', page), page
    # Patients still see the published label, and the render cache kept no preview.
    patient = app.test_client().get("/quiz/concern").get_data(as_text=True)
    assert "Lines when I smile" not in patient
    kept = render_cache(app).lru._entries.values()
    assert not any(b"Lines when I smile" in e.body for e in kept)
    # Spanish, and the draft's next change shows at once (nothing kept in between).
    spanish = admin.get(url.replace("lang=en", "lang=es")).get_data(as_text=True)
    assert "Líneas al sonreír" in spanish
    draft_label(admin, "Lines when I laugh")
    assert "Lines when I laugh" in admin.get(url).get_data(as_text=True)


def test_a_preview_is_refused_without_a_staff_session(app: Flask, admin: FlaskClient) -> None:
    draft_label(admin, "Lines when I smile")
    url = preview_url(admin, screen="concern")
    stranger = app.test_client()
    response = stranger.get(url)
    assert response.status_code in (302, 403)
    assert "Lines when I smile" not in response.get_data(as_text=True)


def test_a_desk_account_cannot_see_a_preview(app: Flask, admin: FlaskClient) -> None:
    draft_label(admin, "Lines when I smile")
    url = preview_url(admin, screen="concern")
    create_staff(app, "desk2@spa.example", "a desk passphrase long enough", role="desk")
    desk = signed_in_client(app, "desk2@spa.example", "a desk passphrase long enough")
    response = desk.get(url)
    assert response.status_code == 403
    assert "Lines when I smile" not in response.get_data(as_text=True)


def test_a_preview_link_shows_only_to_the_admin_who_made_it(app: Flask, admin: FlaskClient) -> None:
    draft_label(admin, "Lines when I smile")
    url = preview_url(admin, screen="concern")
    create_staff(app, "admin2@spa.example", "another admin passphrase, long", role="admin")
    other = signed_in_client(app, "admin2@spa.example", "another admin passphrase, long")
    response = other.get(url)
    assert response.status_code == 403
    body = html_lib.unescape(response.get_data(as_text=True))
    assert "another account's draft" in body and "Lines when I smile" not in body
    assert "Lines when I smile" in admin.get(url).get_data(as_text=True)


def test_an_expired_preview_link_says_so(
    app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft_label(admin, "Lines when I smile")
    url = preview_url(admin, screen="concern")
    later = time.time() + app.config["CONTENT_PREVIEW_SECONDS"] + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = admin.get(url)
    body = response.get_data(as_text=True)
    assert "expired" in body and "Lines when I smile" not in body


def test_a_callback_sent_from_a_preview_stores_nothing_and_is_not_counted(
    app: Flask, admin: FlaskClient
) -> None:
    url = preview_url(admin, screen="callback")
    before = dict(recorder(app).pending())
    form_page = admin.get(url)
    assert form_page.status_code == 200 and 'name="phone"' in form_page.get_data(as_text=True)
    page = form_page.get_data(as_text=True)
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"', page)
    assert action and action.group(1).startswith("/staff/preview/")
    response = admin.post(action.group(1), data={"name": "Ana", "phone": "+12025550123"})
    assert "nothing was sent" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Lead).count() == 0
    assert dict(recorder(app).pending()) == before
