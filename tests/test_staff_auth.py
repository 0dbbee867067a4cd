"""Staff sign-in, sessions, revocation, CSRF and the sign-in rate limit."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import AuditLog, LeadEvent, OutboxMessage, StaffUser
from tests.support.app import TEST_SECRET
from tests.support.clock import FrozenClock
from tests.support.staff import (
    EMAIL,
    PASSWORD,
    STAFF_CONFIG,
    add_lead,
    cli,
    create_staff,
    csrf_token,
    get_lead,
    page_token,
    post_export,
    sign_in,
    signed_in_client,
    text,
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(STAFF_CONFIG)


@pytest.fixture
def staff(app: Flask) -> str:
    create_staff(app)
    return EMAIL


def staff_urls(app: Flask, lead_id: int, message_id: int) -> list[tuple[str, str]]:
    """Every staff URL but the sign-in page, as (method, path), from the app's own routes."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint == "staff.login":
            continue
        path = rule.rule.replace("<id:lead_id>", str(lead_id))
        path = path.replace("<id:message_id>", str(message_id))
        for name, value in (
            ("<id:version_id>", "1"),
            ("<screen_id>", "concern"),
            ("<locale>", "en"),
            ("<token>", "not-a-token"),
            ("<path:rest>", "quiz/"),
        ):
            path = path.replace(name, value)
        assert "<" not in path, f"add a value for {rule.rule}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    return urls


def lead_and_message(app: Flask) -> tuple[int, int]:
    lead_id = add_lead(app)
    with app.app_context():
        message = OutboxMessage(lead_id=lead_id, channel="email", status="failed", attempts=12)
        db.session.add(message)
        db.session.commit()
        return lead_id, message.id


def assert_untouched(app: Flask, lead_id: int) -> None:
    lead = get_lead(app, lead_id)
    assert lead is not None and lead.status == "new" and lead.notes == ""
    with app.app_context():
        assert db.session.execute(select(LeadEvent)).first() is None
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "failed"


def is_login_redirect(response: Any, why: str | None = None) -> bool:
    location = urlsplit(response.headers.get("Location", ""))
    if response.status_code not in (302, 303) or location.path != "/staff/login":
        return False
    return why is None or parse_qs(location.query).get("why") == [why]


def test_every_staff_url_sends_an_anonymous_visitor_to_sign_in(app: Flask) -> None:
    lead_id, message_id = lead_and_message(app)
    visitor = app.test_client()
    # A visitor can get a CSRF token from the sign-in page; it must not be enough.
    token = csrf_token(visitor.get("/staff/login").get_data(as_text=True))
    urls = staff_urls(app, lead_id, message_id)
    assert len(urls) >= 12
    for method, path in urls:
        response = visitor.open(path, method=method, data={"csrf_token": token, "status": "booked"})
        assert is_login_redirect(response), (method, path, response.status_code)
        assert "Jane" not in text(response)
    assert_untouched(app, lead_id)


def test_htmx_requests_without_a_session_are_told_to_sign_in(app: Flask) -> None:
    lead_id = add_lead(app)
    response = app.test_client().get("/staff/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/staff/login")
    assert "Sign in again" in text(response)
    assert get_lead(app, lead_id) is not None


def test_a_disabled_account_is_refused_everywhere(app: Flask, staff: str) -> None:
    lead_id, message_id = lead_and_message(app)
    client = signed_in_client(app)
    token = page_token(client)
    result = cli(app, "staff", "disable", EMAIL)
    assert result.exit_code == 0 and "sessions have ended" in result.output
    for method, path in staff_urls(app, lead_id, message_id):
        response = client.open(path, method=method, data={"csrf_token": token, "status": "booked"})
        # A form sent from a preview changes nothing, so it needs no CSRF token.
        if method == "GET" or path == "/staff/logout" or path.startswith("/staff/preview/"):
            assert is_login_redirect(response), (method, path, response.status_code)
        else:  # the form's CSRF token belonged to the session that ended
            assert response.status_code == 400, (method, path, response.status_code)
    assert_untouched(app, lead_id)
    # And it cannot sign in again, with the right password.
    again = app.test_client()
    response = sign_in(again)
    assert response.status_code == 200
    assert "don't match an active staff account" in text(response)
    assert is_login_redirect(again.get("/staff/"))


def test_signing_in_opens_the_lead_list_and_records_the_login(app: Flask, staff: str) -> None:
    add_lead(app, name="Maria Lopez")
    client = app.test_client()
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Maria Lopez" in page.get_data(as_text=True)
    with app.app_context():
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "login")).scalar_one()
        assert entry.actor == EMAIL
        assert db.session.execute(select(StaffUser.last_login_at)).scalar_one() is not None


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(app: Flask, staff: str) -> None:
    client = app.test_client()
    first = client.get("/staff/funnel?since=2026-01-01")
    assert is_login_redirect(first)
    login_url = first.headers["Location"]
    token = csrf_token(client.get(login_url).get_data(as_text=True))
    response = client.post(
        login_url, data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/staff/funnel?since=2026-01-01"
    for evil in ("https://evil.example/", "//evil.example/staff/", "/quiz/", "/\\evil.example"):
        other = app.test_client()
        token = csrf_token(other.get("/staff/login").get_data(as_text=True))
        response = other.post(
            "/staff/login",
            query_string={"next": evil},
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == "/staff/", evil


def test_wrong_password_and_unknown_account_get_the_same_answer(app: Flask, staff: str) -> None:
    wrong = sign_in(app.test_client(), password="not the password")
    unknown = sign_in(app.test_client(), email="nobody@alazzo.example")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "don't match an active staff account" in text(response)
    with app.app_context():
        failures = db.session.execute(
            select(AuditLog.actor).where(AuditLog.action == "login_failed")
        ).scalars()
        # The typed email is kept only when it names a real account.
        assert sorted(failures) == ["", EMAIL]


def test_session_cookie_is_httponly_lax_and_scoped_to_staff(app: Flask, staff: str) -> None:
    client = app.test_client()
    response = sign_in(client)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("staff_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/staff" in cookie
    assert "Expires" not in cookie  # ends with the browser


def test_session_cookie_is_secure_outside_development(app: Flask) -> None:
    app = create_app(
        {
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "ENV": "production",
            "TRUSTED_HOSTS": ["quiz.example"],
            **STAFF_CONFIG,
        }
    )
    response = app.test_client().get("/staff/login", base_url="https://quiz.example")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()


def test_signing_in_renews_the_session_and_its_csrf_token(app: Flask, staff: str) -> None:
    client = app.test_client()
    login_page = client.get("/staff/login")
    before = login_page.headers["Set-Cookie"].split(";")[0]
    old_token = csrf_token(login_page.get_data(as_text=True))
    response = client.post(
        "/staff/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": old_token}
    )
    after = response.headers["Set-Cookie"].split(";")[0]
    assert after != before
    lead_id = add_lead(app)
    # The token from before sign-in no longer works; the new page's token does.
    stale = client.post(
        f"/staff/leads/{lead_id}/status", data={"status": "booked", "csrf_token": old_token}
    )
    assert stale.status_code == 400
    assert get_lead(app, lead_id).status == "new"  # type: ignore[union-attr]
    fresh = client.post(
        f"/staff/leads/{lead_id}/status",
        data={"status": "booked", "csrf_token": page_token(client)},
    )
    assert fresh.status_code == 303
    assert get_lead(app, lead_id).status == "booked"  # type: ignore[union-attr]


def staff_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """A clock standing in for the `time` module inside quiz.staff.auth (session ages)."""
    clock = FrozenClock(time.time())
    monkeypatch.setattr("quiz.staff.auth.time", clock)
    return clock


@pytest.mark.parametrize("app_config", [{**STAFF_CONFIG, "STAFF_IDLE_TIMEOUT_MINUTES": 30}])
def test_an_idle_session_ends(app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = staff_clock(monkeypatch)
    client = signed_in_client(app)
    clock.advance(29 * 60)
    assert client.get("/staff/").status_code == 200  # activity keeps it alive
    clock.advance(29 * 60)
    assert client.get("/staff/").status_code == 200
    clock.advance(31 * 60)
    response = client.get("/staff/")
    assert is_login_redirect(response, "idle")
    login = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after a while without activity" in login
    assert is_login_redirect(client.get("/staff/"))  # the old session stays ended


@pytest.mark.parametrize("app_config", [{**STAFF_CONFIG, "STAFF_SESSION_MAX_HOURS": 12}])
def test_a_session_ends_after_its_time_limit(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = staff_clock(monkeypatch)
    client = signed_in_client(app)
    for _ in range(26):  # busy all day, never idle for long
        clock.advance(28 * 60)
        response = client.get("/staff/")
    assert is_login_redirect(response, "expired")


def test_changing_the_password_ends_sessions_everywhere(app: Flask, staff: str) -> None:
    desk, office = signed_in_client(app), signed_in_client(app)
    result = cli(app, "staff", "set-password", EMAIL, input="violet harbour seventeen kites\n")
    assert result.exit_code == 0, result.output
    for client in (desk, office):
        assert is_login_redirect(client.get("/staff/"), "revoked")
    assert sign_in(app.test_client()).status_code == 200  # the old password is refused
    new = sign_in(app.test_client(), password="violet harbour seventeen kites")
    assert new.status_code == 303


def test_signing_out_ends_the_session_and_copies_of_its_cookie(app: Flask, staff: str) -> None:
    desk = signed_in_client(app)
    stolen = app.test_client()
    cookie = desk.get_cookie("staff_session", path="/staff")
    assert cookie is not None
    stolen.set_cookie("staff_session", cookie.value, path="/staff")
    assert stolen.get("/staff/").status_code == 200
    response = desk.post("/staff/logout", data={"csrf_token": page_token(desk)})
    assert is_login_redirect(response, "signed_out")
    assert is_login_redirect(desk.get("/staff/"))
    assert is_login_redirect(stolen.get("/staff/"), "revoked")


def test_logout_needs_its_csrf_token(app: Flask, staff: str) -> None:
    client = signed_in_client(app)
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200  # still signed in


def test_sign_in_form_needs_its_csrf_token(app: Flask, staff: str) -> None:
    client = app.test_client()
    client.get("/staff/login")
    response = client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired or didn't come from this site" in text(response)
    assert is_login_redirect(client.get("/staff/"))


RATE_CONFIG = {
    **STAFF_CONFIG,
    "RATELIMIT_ENABLED": True,
    "STAFF_LOGIN_ACCOUNT_RATE_LIMIT": "3 per 15 minutes",
    "STAFF_LOGIN_RATE_LIMIT": "5 per 15 minutes",
}


def attempt(app: Flask, email: str, password: str) -> int:
    return sign_in(app.test_client(), email, password).status_code


@pytest.mark.parametrize("app_config", [RATE_CONFIG])
def test_failed_sign_ins_per_account_are_limited(
    app: Flask, staff: str, frozen_time: FrozenClock
) -> None:
    assert attempt(app, EMAIL, PASSWORD) == 303  # successes never count
    assert [attempt(app, EMAIL, f"guess {i}") for i in range(3)] == [200, 200, 200]
    assert attempt(app, EMAIL, "guess 4") == 429
    blocked = sign_in(app.test_client())
    assert blocked.status_code == 429  # from this network, even the right password waits now
    assert "Too many failed sign-ins" in text(blocked)
    assert int(blocked.headers["Retry-After"]) > 0
    assert attempt(app, "other@alazzo.example", "guess") == 200  # other accounts are not


@pytest.mark.parametrize("app_config", [RATE_CONFIG])
def test_failed_sign_ins_per_network_are_limited(
    app: Flask, staff: str, frozen_time: FrozenClock
) -> None:
    statuses = [attempt(app, f"guess{i}@alazzo.example", "password") for i in range(6)]
    assert statuses == [200] * 5 + [429]
    assert attempt(app, EMAIL, PASSWORD) == 429


def test_staff_pages_cannot_be_framed_or_cached(app: Flask, staff: str) -> None:
    lead_id = add_lead(app)
    client = signed_in_client(app)
    anonymous = app.test_client()
    for path in ["/staff/login", "/staff/", f"/staff/leads/{lead_id}", "/staff/export.csv"]:
        if path == "/staff/export.csv":
            response = post_export(client, "csv")  # exports are POSTs with the CSRF token
        else:
            response = (anonymous if path == "/staff/login" else client).get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert "no-store" in response.headers["Cache-Control"], path


def test_staff_pages_use_no_inline_script_or_style(app: Flask, staff: str) -> None:
    lead_id = add_lead(app)
    client = signed_in_client(app)
    for path in ["/staff/", f"/staff/leads/{lead_id}", "/staff/funnel", "/staff/outbox"]:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path  # no inline event handlers


def test_the_patient_path_sets_no_cookie_even_for_signed_in_staff(app: Flask, staff: str) -> None:
    client = signed_in_client(app)
    for path in ["/quiz/", "/quiz/concern", "/quiz/result?concern=volume&area=cheeks&goal=repair"]:
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path


CONTROL_TARGETS = ["/staff/\r\nSet-Cookie: x=1", "/staff/leads/1\n", "/staff/\x00", "/staff/\tx"]


@pytest.mark.parametrize("target", CONTROL_TARGETS, ids=["crlf", "lf", "nul", "tab"])
def test_a_next_with_a_control_character_is_ignored_never_a_500(app: Flask, target: str) -> None:
    create_staff(app)
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login?" + urlencode({"next": target}),
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"
    # The same on a lead's note form, whose `next` says where to go back to.
    lead_id = add_lead(app)
    response = client.post(
        f"/staff/leads/{lead_id}/note",
        data={"note": "Called back", "next": target, "csrf_token": page_token(client)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"
