"""Staff accounts, signed-in clients and leads stored directly, for the staff tests.

Staff tests hash passwords with a cheap scrypt cost (`FAST_HASH`) so the suite
stays fast; tests/test_staff_cli.py checks that the default is OWASP's N=2**17, r=8, p=1.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from quiz.storage.database import db
from quiz.storage.models import Lead

FAST_HASH = "scrypt:1024:8:1"
STAFF_CONFIG = {"STAFF_PASSWORD_METHOD": FAST_HASH}
EMAIL = "desk@alazzo.example"
PASSWORD = "fern lantern oboe quarry"


def text(response: Any) -> str:
    """A response's HTML with entities decoded (so "don't" reads as typed)."""
    return html.unescape(response.get_data(as_text=True))


def words(response: Any) -> str:
    """What a person reads: the text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def create_staff(app: Flask, email: str = EMAIL, password: str = PASSWORD) -> None:
    """`flask staff create EMAIL` with the password on stdin."""
    result = app.test_cli_runner().invoke(args=["staff", "create", email], input=password + "\n")
    assert result.exit_code == 0, result.output


def cli(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD) -> Any:
    """Sign in through the login form like a browser; return the POST's response."""
    page = client.get("/staff/login")
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/staff/login", data={"email": email, "password": password, "csrf_token": token}
    )


def signed_in_client(app: Flask, email: str = EMAIL, password: str = PASSWORD) -> FlaskClient:
    """A cookie-keeping client with a signed-in staff session."""
    client = app.test_client()
    response = sign_in(client, email, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def page_token(client: FlaskClient, url: str = "/staff/") -> str:
    """A CSRF token as a signed-in page hands it out."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return csrf_token(response.get_data(as_text=True))


def add_lead(app: Flask, *, created: datetime | None = None, **fields: Any) -> int:
    """Store a lead directly (as the quiz would have); return its id."""
    created = created or datetime.now(UTC)
    values: dict[str, Any] = dict(
        name="Jane Patient",
        phone="+13018105740",
        email="jane@example.com",
        best_time="morning",
        concern="expression",
        areas="between_brows;cheeks",
        goal="prevent",
        outcome="both",
        status="new",
        consent_at=created,
        consent_text_version="2026-11-25",
        consent_text="I agree that Alazzo Med Spa may call me.",
        consent_text_hash="0" * 64,
        consent_ip="203.0.113.7",
        consent_user_agent="Mozilla/5.0 (TestPhone)",
        source_url="https://alazzo.example/blog/botox-vs-fillers",
        utm_source="newsletter",
        utm_medium="email",
        utm_campaign="spring",
    )
    values.update(fields)
    values.setdefault("form_nonce", uuid.uuid4().hex)
    with app.app_context():
        lead = Lead(created_at=created, updated_at=created, **values)
        db.session.add(lead)
        db.session.commit()
        return lead.id


def get_lead(app: Flask, lead_id: int) -> Lead | None:
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        if lead is not None:
            db.session.expunge(lead)
        return lead
