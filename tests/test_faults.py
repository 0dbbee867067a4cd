"""Faults around a callback request: a dead deliverer, a database that can't take the
lead, a rate-limit store that is down. A lead the patient saw accepted is never lost,
and a patient never sees a stack trace.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from quiz import create_app
from quiz.db import engine as quiz_database
from tests.support.app import base_config, leads
from tests.support.environment import REDIS_URL, redis_client
from tests.support.outbox import SECRET, messages, submit
from tests.support.patient import valid_callback
from tests.support.peers import WebhookPeer
from tests.support.waiting import WAIT_SECONDS, ProcessOutput, wait_until

ROOT = Path(__file__).resolve().parent.parent

# --- a deliverer killed mid-batch -------------------------------------------------------


@pytest.fixture
def webhook() -> Iterator[WebhookPeer]:
    peer = WebhookPeer(SECRET)
    yield peer
    peer.stop()


def start_deliverer(database_uri: str, webhook: WebhookPeer) -> subprocess.Popen[bytes]:
    """`flask outbox deliver --loop` as its own process, configured as in production."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZ_")}
    env.update(
        QUIZ_ENV="production",
        QUIZ_SECRET_KEY="deliverer-test-secret-key-0123456789",
        QUIZ_TRUSTED_HOSTS='["quiz.alazzo.example"]',
        QUIZ_SQLALCHEMY_DATABASE_URI=database_uri,
        QUIZ_WEBHOOK_URL=webhook.url,
        QUIZ_WEBHOOK_SECRET=SECRET,
        QUIZ_WEBHOOK_TIMEOUT_SECONDS="1",
        QUIZ_STAFF_BASE_URL="https://quiz.alazzo.example",
        QUIZ_OUTBOX_LEASE_SECONDS="2",
        QUIZ_OUTBOX_POLL_SECONDS="0.1",
        QUIZ_OUTBOX_BATCH_SIZE="10",
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "deliver", "--loop"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def test_a_deliverer_killed_mid_batch_then_restarted_loses_and_repeats_nothing(
    database_uri: str, webhook: WebhookPeer
) -> None:
    app = create_app(
        base_config(database_uri, WEBHOOK_URL=webhook.url, WEBHOOK_SECRET=SECRET,
                    STAFF_BASE_URL="https://quiz.alazzo.example")
    )  # fmt: skip
    submit(app, 12)
    # The third webhook call is answered only after the deliverer is dead: the
    # receiver has the notification, the outbox never heard back.
    webhook.answers = ["ok", "ok", "hold"]
    webhook.start()

    first = start_deliverer(database_uri, webhook)
    try:
        assert webhook.holding.wait(WAIT_SECONDS), "the deliverer never reached the third message"
        first.send_signal(signal.SIGKILL)
        first.wait(WAIT_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(WAIT_SECONDS)
    webhook.release.set()
    after_kill = messages(app)
    assert [m.status for m in after_kill].count("delivered") == 2
    assert [m.status for m in after_kill].count("pending") == 10
    in_flight = [m for m in after_kill if m.claimed_by and m.status == "pending"]
    assert in_flight  # the dead deliverer's lease is still on its batch

    second = start_deliverer(database_uri, webhook)
    try:
        wait_until(lambda: {m.status for m in messages(app)} == {"delivered"}, "every delivery")
        second.send_signal(signal.SIGTERM)  # a clean stop: finish the message in hand, leave
        assert second.wait(WAIT_SECONDS) == 0
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(WAIT_SECONDS)

    keys = webhook.keys_received()
    assert len(keys) == 12  # nothing lost
    # Only the message in flight at the kill was sent twice, with the same key...
    assert sorted(keys.values()) == [1] * 11 + [2]
    # ... so a receiver that keeps one copy per key has each notification exactly once.
    assert len(webhook.accepted) == 12
    assert all(r.signed for r in webhook.receipts)


def test_the_deliverer_outlives_a_database_outage(
    unreachable_database_uri: str, webhook: WebhookPeer
) -> None:
    deliverer = start_deliverer(unreachable_database_uri, webhook)
    lines = ProcessOutput(deliverer)
    try:
        # The deliverer's own word that it failed twice and kept going. The first
        # line comes after its SIGTERM handler is installed, so the signal below
        # always finds it (a fixed sleep did not on a loaded machine).
        lines.wait_for("database error (OperationalError)", count=2)
        assert deliverer.poll() is None  # still running, waiting to try again
        deliverer.send_signal(signal.SIGTERM)
        deliverer.wait(WAIT_SECONDS)
    finally:
        if deliverer.poll() is None:
            deliverer.kill()
            deliverer.wait(WAIT_SECONDS)
    assert deliverer.returncode == 0
    log = lines.text()
    assert "database error (OperationalError)" in log and "stopped" in log
    assert "Traceback" not in log


# --- the database can't take the callback ----------------------------------------------


def test_callback_when_the_database_is_down_gets_a_calm_503_with_the_phone(
    unreachable_database_uri: str,
) -> None:
    app = create_app(base_config(unreachable_database_uri))
    client = app.test_client(use_cookies=False)
    response = client.post("/quiz/callback", data=valid_callback(client, name="Jane Patient"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    page = response.get_data(as_text=True)
    assert "We couldn&#39;t save your request just now" in page
    assert "(301) 810-5740" in page  # the spa's phone, to call instead
    assert 'value="Jane Patient"' in page  # what the patient typed is still there
    assert 'name="token"' in page  # and the form can be sent again
    for leak in ("Traceback", "sqlalchemy", "OperationalError", "SELECT", "INSERT"):
        assert leak not in page
    assert "Set-Cookie" not in response.headers


def test_callback_as_an_htmx_swap_gets_the_503_fragment(unreachable_database_uri: str) -> None:
    app = create_app(base_config(unreachable_database_uri))
    client = app.test_client(use_cookies=False)
    data = valid_callback(client)
    response = client.post("/quiz/callback", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "<html" not in page and "(301) 810-5740" in page


@pytest.mark.sqlite_only
def test_a_sqlite_database_locked_too_long_gets_a_503_and_the_resend_is_stored(
    app_path_uri: tuple[Flask, Path],
) -> None:
    app, db_path = app_path_uri
    client = app.test_client(use_cookies=False)
    data = valid_callback(client)
    blocker = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock and won't let go
    try:
        started = time.monotonic()
        response = client.post("/quiz/callback", data=data)
        assert response.status_code == 503
        assert time.monotonic() - started < 5
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert leads(app) == []  # nothing half-stored
    assert client.post("/quiz/callback", data=data).status_code == 200  # "send it again"
    assert len(leads(app)) == 1


@pytest.fixture
def app_path_uri(
    database_uri: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, Path]]:
    # A short busy timeout, so "locked for too long" takes a fraction of a second.
    monkeypatch.setattr(quiz_database, "BUSY_TIMEOUT_MS", 300)
    app = create_app(base_config(database_uri))
    yield app, Path(database_uri.removeprefix("sqlite:///"))


# --- the rate-limit store --------------------------------------------------------------


def test_callbacks_are_stored_when_the_rate_limit_store_is_down(
    database_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    app = create_app(
        base_config(database_uri, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=closed)
    )
    client = app.test_client(use_cookies=False)
    response = client.post("/quiz/callback", data=valid_callback(client))
    assert response.status_code == 200 and 'id="thanks"' in response.get_data(as_text=True)
    assert len(leads(app)) == 1
    # Fail open, but not silently: the log says so, with the error's class only.
    swallowed = [r for r in caplog.records if r.name == "flask-limiter"]
    assert swallowed, "the rate-limit store's failure was not logged"
    for record in swallowed:
        assert record.exc_info is None and "ConnectionError" in record.getMessage()
        assert "127.0.0.1:9" not in record.getMessage()  # no connection details


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix for this test's rate-limit counters in Redis; its keys go afterwards."""
    redis = redis_client()
    prefix = f"quiz-test-{os.getpid()}-{uuid.uuid4().hex}"
    yield prefix
    for key in redis.scan_iter(match=f"*{prefix}*", count=500):
        redis.delete(key)
    redis.close()


def test_two_hosts_share_one_rate_limit_through_redis(database_uri: str, redis_prefix: str) -> None:
    config = base_config(
        database_uri,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        # Redis keeps the window on its own clock: an hour, so a slow run stays inside it.
        CALLBACK_RATE_LIMIT="2 per hour",
    )
    host_a, host_b = create_app(config), create_app(config)
    client_a = host_a.test_client(use_cookies=False)
    client_b = host_b.test_client(use_cookies=False)
    assert client_a.post("/quiz/callback", data=valid_callback(client_a)).status_code == 200
    assert client_b.post("/quiz/callback", data=valid_callback(client_b)).status_code == 200
    third = client_a.post("/quiz/callback", data=valid_callback(client_a))
    assert third.status_code == 429  # the other host's request counted too
    assert "(301) 810-5740" in third.get_data(as_text=True)
    assert len(leads(host_a)) == 2
