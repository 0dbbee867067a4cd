"""Staff accounts, signed-in clients and leads stored directly, for the staff tests.

Staff tests hash passwords with a cheap scrypt cost (`FAST_HASH`) so the suite
stays fast; tests/test_staff_cli.py checks that the default is OWASP's N=2**17, r=8, p=1.
"""

from __future__ import annotations

import html
import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from quiz.db.engine import db
from quiz.db.models import AuditLog, Lead
from quiz.staff import passwords
from tests.support.environment import REDIS_URL, redis_client
from tests.support.waiting import WAIT_SECONDS

FAST_HASH = "scrypt:1024:8:1"
STAFF_CONFIG = {"STAFF_PASSWORD_METHOD": FAST_HASH}
EMAIL = "desk@alazzo.example"
PASSWORD = "fern lantern oboe quarry"
# A second account, for tests that sign in as an admin beside a desk account.
ADMIN_EMAIL = "owner@alazzo.example"
ADMIN_PASSWORD = "seven lucky harbour gulls"
CLINICIAN_EMAIL = "ana.ruiz@alazzo.example"
CLINICIAN_PASSWORD = "violet kayak meadow tundra"
CLINICIAN_NAME, CLINICIAN_CREDENTIAL = "Dr. Ana Ruiz", "MD, medical director"
CLINICIAN = ("--name", CLINICIAN_NAME, "--credential", CLINICIAN_CREDENTIAL)


def text(response: Any) -> str:
    """A response's HTML with entities decoded (so "don't" reads as typed)."""
    return html.unescape(response.get_data(as_text=True))


def words(response: Any) -> str:
    """What a person reads: the text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def create_staff(
    app: Flask,
    email: str = EMAIL,
    password: str = PASSWORD,
    role: str = "admin",
    *extra: str,
) -> None:
    """`flask staff create EMAIL --role ROLE` with the password on stdin.

    Admin unless told: tests of what only admins do keep their meaning; desk
    accounts are asked for explicitly (tests/test_staff_roles.py). `extra`:
    more options (a clinical account's `CLINICIAN`).
    """
    args = ["staff", "create", email, "--role", role, *extra]
    result = app.test_cli_runner().invoke(args=args, input=password + "\n")
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


def post_export(client: FlaskClient, fmt: str, token: str | None = None, **filters: str) -> Any:
    """POST /staff/export.FMT as the list's export form does: the filters and a CSRF token."""
    data = {**filters, "csrf_token": token if token is not None else page_token(client)}
    return client.post(f"/staff/export.{fmt}", data=data)


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


# --- sign-in from given networks, over real HTTP, against a shared limit store ------------


def client_from(app: Flask, address: str) -> FlaskClient:
    """A cookie-keeping client whose requests come from `address` (its REMOTE_ADDR)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in_from(app: Flask, address: str, email: str = EMAIL, password: str = PASSWORD) -> Any:
    """One sign-in by a new visitor at `address`; the POST's response."""
    return sign_in(client_from(app, address), email, password)


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free loopback port, one thread per request; its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT_SECONDS)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def http_sign_in(base: str, email: str = EMAIL, password: str = PASSWORD) -> tuple[int, str]:
    """Sign in over HTTP like a new visitor (GET the form, POST it); (status, body)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )

    def fetch(data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with opener.open(f"{base}/staff/login", data=body, timeout=WAIT_SECONDS) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.read().decode()

    status, page = fetch()
    assert status == 200, status
    return fetch({"email": email, "password": password, "csrf_token": csrf_token(page)})


@contextmanager
def redis_limit_store() -> Iterator[dict[str, str]]:
    """Settings that keep rate limits in the test Redis under a prefix of their own.

    Skips without Redis (fails under CI=true); deletes the prefix's keys afterwards.
    """
    redis = redis_client()
    prefix = f"quiz-test-{uuid.uuid4().hex}"
    try:
        yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    finally:
        for key in redis.scan_iter(match=f"*{prefix}*", count=500):
            redis.delete(key)
        redis.close()


class HashChecks:
    """Counts password checks (real ones and the waits for unknown emails); can hold them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, hold: str = "none") -> None:
        self.calls = 0
        self.hold = hold  # "none", "first" (only the first caller waits) or "all"
        self.lock = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()
        verify, burn = passwords.verify_password, passwords.burn_verification_time
        monkeypatch.setattr(passwords, "verify_password", self._wrap(verify))
        monkeypatch.setattr(passwords, "burn_verification_time", self._wrap(burn))

    def _wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls += 1
                wait = self.hold == "all" or (self.hold == "first" and self.calls == 1)
            if wait:
                self.entered.set()
                self.release.wait(WAIT_SECONDS)
            return real(*args, **kwargs)

        return counted


def audit_actions(app: Flask, action: str) -> list[AuditLog]:
    """The audit entries of one action, oldest first."""
    with app.app_context():
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        result = list(db.session.execute(query).scalars())
        db.session.expunge_all()
        return result
