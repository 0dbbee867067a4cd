"""`GET /healthz`, and running behind reverse proxies (ProxyFix hops, TRUSTED_HOSTS)."""

from __future__ import annotations

from typing import Any

import flask_migrate
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from quiz import create_app
from quiz.db.engine import db
from quiz.settings import ConfigError
from tests.support.app import base_config, leads
from tests.support.patient import valid_callback

HEALTH_TOKEN = "monitor-token-3f9a1c7e5b2d8046"
MONITOR = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


def health(app: Flask, headers: dict[str, str] | None = None) -> TestResponse:
    return app.test_client(use_cookies=False).get("/healthz", headers=headers or MONITOR)


@pytest.mark.parametrize("app_config", [{"HEALTH_TOKEN": HEALTH_TOKEN}])
def test_healthz_reports_a_working_database_and_the_queue(app: Flask) -> None:
    response = health(app)
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "outbox": {"pending": 0, "delivered": 0, "failed": 0, "oldest_due_seconds": 0},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("app_config", [{"WEBHOOK_URL": "http://127.0.0.1:9/hook",
                                         "WEBHOOK_SECRET": "x" * 20,
                                         "HEALTH_TOKEN": HEALTH_TOKEN}])  # fmt: skip
def test_healthz_counts_notifications_waiting(app: Flask) -> None:
    client = app.test_client(use_cookies=False)
    assert client.post("/quiz/callback", data=valid_callback(client)).status_code == 200
    body = health(app).get_json()
    assert body["status"] == "ok" and body["outbox"]["pending"] == 1


def test_healthz_says_unavailable_when_the_database_cannot_be_reached(
    unreachable_database_uri: str,
) -> None:
    app = create_app(base_config(unreachable_database_uri, HEALTH_TOKEN=HEALTH_TOKEN))
    response = health(app)
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}
    assert "no_such" not in response.get_data(as_text=True)  # no URL or path leaks out


def test_healthz_says_schema_not_migrated_for_a_database_never_migrated(
    unmigrated_database_uri: str,
) -> None:
    """The database answers, but `flask db upgrade` was never run: no tables at all."""
    app = create_app(base_config(unmigrated_database_uri, HEALTH_TOKEN=HEALTH_TOKEN))
    response = health(app)
    assert response.status_code == 503
    body = response.get_json()
    assert (body["status"], body["database"]) == ("unavailable", "schema not migrated")


def test_healthz_says_schema_not_migrated_for_a_database_behind_the_code(
    unmigrated_database_uri: str,
) -> None:
    """The last `flask db upgrade` ran before the newest migration was deployed."""
    app = create_app(base_config(unmigrated_database_uri, HEALTH_TOKEN=HEALTH_TOKEN))
    with app.app_context():
        flask_migrate.upgrade()
        head = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        db.session.remove()  # end this read, so the next one sees the downgrade
        flask_migrate.downgrade(revision="-1")
        older = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        db.session.remove()
    try:
        response = health(app)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "schema not migrated",
        "schema": older,
        "expected_schema": head,
    }


@pytest.mark.parametrize("app_config", [{"HEALTH_TOKEN": HEALTH_TOKEN}])
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {HEALTH_TOKEN}", HEALTH_TOKEN, "Bearer "],
    ids=["none", "wrong", "basic", "bare", "empty"],
)
def test_healthz_tells_a_stranger_only_its_status(app: Flask, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client(use_cookies=False).get("/healthz", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_without_a_health_token_nobody_sees_the_detail(app: Flask) -> None:
    assert health(app, {"Authorization": "Bearer "}).get_json() == {"status": "ok"}


def test_a_stranger_still_learns_that_the_database_is_down(unreachable_database_uri: str) -> None:
    app = create_app(base_config(unreachable_database_uri, HEALTH_TOKEN=HEALTH_TOKEN))
    response = app.test_client(use_cookies=False).get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}


# --- reverse proxies ----------------------------------------------------------------------

PROXIED = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "quiz.myspa.example",
}


def _post_through_proxy(app: Flask, **headers: Any) -> TestResponse:
    client = app.test_client(use_cookies=False)
    data = valid_callback(client)
    return client.post("/quiz/callback", data=data, headers={**PROXIED, **headers})


@pytest.mark.parametrize("app_config", [{"PROXY_FIX_HOPS": 1}])
def test_behind_one_proxy_the_client_address_and_https_origin_are_believed(app: Flask) -> None:
    response = _post_through_proxy(app, Origin="https://quiz.myspa.example")
    assert response.status_code == 200
    [lead] = leads(app)
    # The proxy's own entry, the last one: an address the client typed itself is ignored.
    assert lead.consent_ip == "203.0.113.9"


@pytest.mark.parametrize("app_config", [{"PROXY_FIX_HOPS": 0}])
def test_without_proxy_fix_forwarded_headers_are_ignored(app: Flask) -> None:
    response = _post_through_proxy(app)
    assert response.status_code == 200
    assert leads(app)[0].consent_ip == "127.0.0.1"
    # ... and a page claiming to be the proxied origin is cross-site here.
    refused = _post_through_proxy(app, Origin="https://quiz.myspa.example")
    assert refused.status_code == 403


@pytest.mark.parametrize("app_config", [{"TRUSTED_HOSTS": ["quiz.myspa.example"]}])
def test_trusted_hosts_refuse_a_foreign_host_header_calmly(app: Flask) -> None:
    good = app.test_client(use_cookies=False).get("/quiz/", base_url="http://quiz.myspa.example")
    assert good.status_code == 200
    bad = app.test_client(use_cookies=False).get("/quiz/", base_url="http://evil.example")
    assert bad.status_code == 400
    assert bad.get_data(as_text=True) == "This site is not served at that address.\n"
    hook = app.test_client(use_cookies=False).post(
        "/quiz/callback", base_url="http://evil.example", data={"name": "x"}
    )
    assert hook.status_code == 400 and leads(app) == []


def test_trusted_hosts_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZ_TRUSTED_HOSTS", "Quiz.MySpa.example, quiz.other.example")
    app = create_app(base_config("sqlite://"))
    assert app.config["TRUSTED_HOSTS"] == ["quiz.myspa.example", "quiz.other.example"]


@pytest.mark.parametrize("hops", ["two", -1, 9])
def test_a_bad_proxy_hop_count_stops_start_up(hops: object) -> None:
    with pytest.raises(ConfigError, match="PROXY_FIX_HOPS"):
        create_app(base_config("sqlite://", PROXY_FIX_HOPS=hops))
