"""Sign-in limits that stop attackers, not owners; the alert; the hash gate; failing closed.

Clients come from given networks (REMOTE_ADDR): the owner at 198.51.100.7, a
stranger at 203.0.113.9. The limit tests run twice: with the in-process store
(memory://) and with the test Redis (QUIZ_TEST_REDIS_URL, keys under a prefix
of their own), which is skipped without Redis except under CI=true. Hash checks
are counted by wrapping quiz.staff.passwords' two functions, which sign-in
calls through the module.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from flask import Flask, url_for

from quiz import create_app
from quiz.db.engine import db
from quiz.staff import passwords, signin
from tests.support.app import base_config
from tests.support.environment import unavailable
from tests.support.outbox import STAFF, deliver, messages, notify_config
from tests.support.peers import SmtpPeer, bound_socket
from tests.support.staff import (
    EMAIL,
    PASSWORD,
    STAFF_CONFIG,
    HashChecks,
    audit_actions,
    client_from,
    create_staff,
    http_sign_in,
    live_server,
    redis_limit_store,
    sign_in_from,
    text,
)
from tests.support.waiting import WAIT_SECONDS, wait_until

OWNER_NETWORK = "198.51.100.7"
STRANGER = "203.0.113.9"
LIMITS = {
    **STAFF_CONFIG,
    "RATELIMIT_ENABLED": True,
    "STAFF_LOGIN_ACCOUNT_RATE_LIMIT": "5 per 15 minutes",
    "STAFF_LOGIN_RATE_LIMIT": "20 per 15 minutes",
    "STAFF_LOGIN_ACCOUNT_ALERT_LIMIT": "50 per hour",
}


@pytest.fixture(params=["memory", "redis"])
def limit_store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Where the limits are counted: this process's memory, or the shared Redis."""
    if request.param == "memory":
        yield {"RATELIMIT_STORAGE_URI": "memory://"}
        return
    with redis_limit_store() as config:
        yield config


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    peer = SmtpPeer()  # not listening until a test starts it
    yield peer
    peer.stop()


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Per-test settings on top of LIMITS (tests parametrize this)."""
    return {}


@pytest.fixture
def app_config(
    limit_store: dict[str, str], overrides: dict[str, Any], smtp: SmtpPeer
) -> dict[str, Any]:
    """LIMITS, the staff email to this test's SMTP peer, the store, the test's overrides."""
    return {**LIMITS, **notify_config(smtp, None), **limit_store, **overrides}


@pytest.fixture
def staff(app: Flask) -> str:
    create_staff(app)
    return EMAIL


# --- limits by network --------------------------------------------------------------


def test_the_owner_signs_in_from_her_network_while_a_stranger_is_held_off(
    app: Flask, staff: str
) -> None:
    stranger = [sign_in_from(app, STRANGER, password=f"guess {i}").status_code for i in range(8)]
    assert stranger == [200] * 5 + [429] * 3
    # Her own typing mistakes count on her network only, and a success gives its count back.
    assert sign_in_from(app, OWNER_NETWORK, password="fern lantern").status_code == 200
    assert sign_in_from(app, OWNER_NETWORK, password="fern lantern obo").status_code == 200
    assert sign_in_from(app, OWNER_NETWORK).status_code == 303
    typos = [sign_in_from(app, OWNER_NETWORK, password=f"typo {i}").status_code for i in range(4)]
    assert typos == [200, 200, 200, 429]  # 2 + 3 failures fill her 5; the success did not count
    assert sign_in_from(app, STRANGER).status_code == 429  # the stranger's network still waits


@pytest.mark.parametrize("overrides", [{"STAFF_LOGIN_RATE_LIMIT": "4 per 15 minutes"}])
def test_a_network_over_its_limit_gets_429_and_an_ipv6_64_is_one_network(
    app: Flask, staff: str
) -> None:
    # One IPv6 host has a whole /64 to pick addresses from: they count as one network.
    addresses = [f"2001:db8:7:1::{n:x}" for n in range(1, 6)]
    statuses = []
    for n, address in enumerate(addresses):
        statuses.append(sign_in_from(app, address, f"guess{n}@alazzo.example", "pw").status_code)
    assert statuses == [200] * 4 + [429]
    refused = sign_in_from(app, "2001:db8:7:1::99", EMAIL, PASSWORD)
    assert refused.status_code == 429  # the whole /64 waits, even with a right password
    assert "Too many failed sign-ins" in text(refused)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert sign_in_from(app, "2001:db8:7:2::1", EMAIL, "wrong").status_code == 200  # next /64
    assert sign_in_from(app, OWNER_NETWORK).status_code == 303


# --- the alert ----------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{"STAFF_LOGIN_ACCOUNT_ALERT_LIMIT": "3 per hour"}])
def test_many_failures_from_many_networks_alert_staff_once_and_lock_nobody(
    app: Flask, staff: str, smtp: SmtpPeer
) -> None:
    networks = ["203.0.113.9", "203.0.113.10", "2001:db8:1::5", "192.0.2.44", "192.0.2.45"]
    for n, address in enumerate(networks * 2):
        response = sign_in_from(app, address, password=f"secret guess {n}")
        assert response.status_code == 200, (address, response.status_code)
    assert sign_in_from(app, OWNER_NETWORK).status_code == 303  # nobody is locked out

    [alert] = audit_actions(app, "login_alert")
    detail = json.loads(alert.detail)
    assert detail["failures"] == 4  # the first failure beyond 3 in the hour
    assert alert.staff_id is not None and detail["account_id"] == alert.staff_id
    assert "secret guess" not in alert.detail
    [message] = [m for m in messages(app) if m.lead_id is None]
    assert message.channel == "email" and message.status == "pending"
    assert "secret guess" not in message.payload
    payload = json.loads(message.payload)
    assert payload["staff_url"] == "https://quiz.alazzo.example/staff/"

    smtp.start()
    assert deliver(app).delivered == 1
    [email] = smtp.messages
    body = email.get_content()
    assert email["To"] == STAFF and EMAIL in email["Subject"]
    assert f"Many failed sign-ins for staff account {EMAIL} from several networks" in body
    assert "see the audit log" in body and "https://quiz.alazzo.example/staff/" in body
    assert "secret guess" not in body


# --- checked and counted before the hash ---------------------------------------------


@pytest.mark.parametrize("overrides", [{"STAFF_PASSWORD_CHECKS_AT_ONCE": 16}])
def test_concurrent_wrong_passwords_never_make_more_hash_checks_than_the_limit(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = HashChecks(monkeypatch, hold="all")  # every check waits until all 12 arrived
    answered: list[int] = []

    def attempt(base: str, n: int) -> int:
        status, _ = http_sign_in(base, password=f"wrong {n}")
        answered.append(status)
        return status

    with live_server(app) as base, ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(attempt, base, n) for n in range(12)]
        # Each of the 12 is either answered already or inside a hash check.
        wait_until(lambda: len(answered) + hashes.calls >= 12, "12 sign-ins to arrive")
        hashes.release.set()
        statuses = sorted(f.result(WAIT_SECONDS) for f in futures)
    assert hashes.calls == 5
    assert statuses == [200] * 5 + [429] * 7
    assert len(audit_actions(app, "login_failed")) == 5


# --- the gate ---------------------------------------------------------------------


@pytest.mark.parametrize("limit_store", ["memory"], indirect=True)
def test_a_sign_in_that_finds_a_check_running_waits_its_turn_and_signs_in(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow or busy machine makes the front desk wait a moment; it never turns her away."""
    assert app.config["STAFF_PASSWORD_CHECKS_AT_ONCE"] == 1
    hashes = HashChecks(monkeypatch, hold="first")
    gate = signin.gate(app)
    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(sign_in_from, app, STRANGER, EMAIL, "slow wrong guess")
        assert hashes.entered.wait(WAIT_SECONDS), "the first sign-in never reached its hash"
        owner = pool.submit(sign_in_from, app, OWNER_NETWORK)
        wait_until(lambda: gate.waiting == 1, "the owner's sign-in to wait in line")
        assert not owner.done()
        hashes.release.set()
        assert held.result(WAIT_SECONDS).status_code == 200
        assert owner.result(WAIT_SECONDS).status_code == 303  # signed in, not refused
    assert hashes.calls == 2


@pytest.mark.parametrize("limit_store", ["memory"], indirect=True)
@pytest.mark.parametrize("overrides", [{"STAFF_PASSWORD_CHECKS_WAITING": 1}])
def test_a_sign_in_beyond_the_line_is_refused_at_once_with_retry_after(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = HashChecks(monkeypatch, hold="first")
    gate = signin.gate(app)
    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(sign_in_from, app, OWNER_NETWORK, EMAIL, "slow wrong guess")
        assert hashes.entered.wait(WAIT_SECONDS), "the first sign-in never reached its hash"
        waiting = pool.submit(sign_in_from, app, OWNER_NETWORK, EMAIL, "second guess")
        wait_until(lambda: gate.waiting == 1, "the second sign-in to wait in line")
        # Unknown emails go through the same gate (they wait as long as a real check).
        for email in (EMAIL, "nobody@alazzo.example"):
            busy = sign_in_from(app, STRANGER, email, "another guess")
            assert busy.status_code == 429
            assert 1 <= int(busy.headers["Retry-After"]) <= 5
            assert "Many sign-ins are being checked right now" in text(busy)
        assert not held.done() and not waiting.done()  # answered while the line was full
        hashes.release.set()
        assert held.result(WAIT_SECONDS).status_code == 200
        assert waiting.result(WAIT_SECONDS).status_code == 200
    assert hashes.calls == 2
    assert len(audit_actions(app, "login_failed")) == 2  # the refused ones were never checked
    assert sign_in_from(app, STRANGER).status_code == 303  # and used up nothing


@pytest.mark.parametrize("limit_store", ["memory"], indirect=True)
@pytest.mark.parametrize("overrides", [{"STAFF_PASSWORD_CHECKS_WAITING": 1}])
def test_a_lone_sign_in_is_checked_at_normal_priority_and_a_flood_at_the_lowest(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind other busy processes a nice-19 check took 15-30 s: only floods get that."""
    priorities: list[int] = []
    real_checker = passwords._checker

    def helper_priority(low_priority: bool = False) -> Any:
        pool = real_checker(low_priority)
        pid = pool.submit(os.getpid).result(WAIT_SECONDS)
        priorities.append(os.getpriority(os.PRIO_PROCESS, pid) - os.nice(0))
        return pool

    monkeypatch.setattr(passwords, "_checker", helper_priority)
    assert sign_in_from(app, OWNER_NETWORK).status_code == 303
    assert priorities == [0]

    hashes = HashChecks(monkeypatch, hold="first")
    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(sign_in_from, app, STRANGER, EMAIL, "slow wrong guess")
        assert hashes.entered.wait(WAIT_SECONDS), "the first sign-in never reached its hash"
        queued = pool.submit(sign_in_from, app, STRANGER, EMAIL, "queued guess")
        wait_until(lambda: signin.gate(app).waiting == 1, "a line to form")
        hashes.release.set()
        assert held.result(WAIT_SECONDS).status_code == 200
        assert queued.result(WAIT_SECONDS).status_code == 200
    # The first was checked before the line formed; the one that waited, during a flood.
    assert priorities[1:] == [0, min(19, passwords.LOW_PRIORITY_NICE + os.nice(0)) - os.nice(0)]


@pytest.mark.parametrize("limit_store", ["memory"], indirect=True)
@pytest.mark.parametrize("overrides", [{"STAFF_PASSWORD_CHECKS_WAITING": 0}])
def test_a_full_gate_turns_a_flood_away_before_any_other_work(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the CSRF check, the limits and the form: a bare POST gets the short 429 too."""
    hashes = HashChecks(monkeypatch, hold="first")
    flood = client_from(app, STRANGER)
    # With the gate free, a POST without a CSRF token is refused by the CSRF check (400).
    assert flood.post("/staff/login", data={"email": EMAIL}).status_code == 400
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(sign_in_from, app, OWNER_NETWORK, EMAIL, "slow wrong guess")
        assert hashes.entered.wait(WAIT_SECONDS), "the first sign-in never reached its hash"
        busy = flood.post("/staff/login", data={"email": EMAIL})
        assert busy.status_code == 429 and 1 <= int(busy.headers["Retry-After"]) <= 5
        assert "Many sign-ins are being checked right now" in text(busy)
        assert len(busy.get_data()) < 600  # not the whole sign-in page rendered again
        assert "Set-Cookie" not in busy.headers
        assert busy.headers["Cache-Control"] == "no-store"
        # The headers every page carries, and a link back that is the sign-in page's own.
        assert busy.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in busy.headers["Content-Security-Policy"]
        assert busy.headers["Permissions-Policy"].startswith("camera=()")
        assert busy.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        with app.test_request_context():
            assert f'href="{url_for("staff.login")}"' in text(busy)
        hashes.release.set()
        assert held.result(WAIT_SECONDS).status_code == 200
    assert hashes.calls == 1
    assert flood.post("/staff/login", data={"email": EMAIL}).status_code == 400


@pytest.mark.parametrize("limit_store", ["memory"], indirect=True)
def test_an_unknown_email_waits_as_long_as_a_real_check_without_computing_a_hash(
    app: Flask, staff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made-up emails are no CPU lever, and their answer takes a real check's time."""
    helper_checks: list[str] = []
    real_checker = passwords._checker

    def counted_checker(low_priority: bool = False) -> Any:
        pool = real_checker(low_priority)
        submit = pool.submit

        class Counted:
            def submit(self, fn: Any, password_hash: str, password: str) -> Any:
                helper_checks.append(password)
                return submit(fn, password_hash, password)

        return Counted()

    waits: list[float] = []
    later = [0.0]  # seconds the test moves the monotonic clock on by
    clock = SimpleNamespace(
        perf_counter=time.perf_counter,
        sleep=waits.append,
        monotonic=lambda: time.monotonic() + later[0],
    )
    monkeypatch.setattr(passwords, "_checker", counted_checker)
    monkeypatch.setattr(passwords, "time", clock)
    # The checks' times are this app's (its gate's): a new app has timed none.
    assert signin.gate(app).times.recent()[0] == []

    # Before any check was timed in this process, a made-up email checks a dummy hash.
    first = sign_in_from(app, STRANGER, "nobody@alazzo.example", "first guess")
    assert first.status_code == 200 and waits == []
    assert helper_checks and set(helper_checks) == {"first guess"}
    del helper_checks[:]
    for n in range(3):  # the owner's own typing mistakes: real checks, each timed
        assert sign_in_from(app, OWNER_NETWORK, password=f"typo {n}").status_code == 200
    assert helper_checks == ["typo 0", "typo 1", "typo 2"]
    timed = signin.gate(app).times.recent()[0]
    assert len(timed) == 4 and all(t > 0 for t in timed)

    for n in range(8):
        refused = sign_in_from(app, f"203.0.113.{n + 1}", f"nobody{n}@alazzo.example", "guess")
        assert refused.status_code == 200
        assert "don't match an active staff account" in text(refused)
    assert len(helper_checks) == 3  # no hash for any made-up email
    assert len(waits) == 8 and set(waits) <= set(timed)  # each waited as long as a real check

    # With no real check for RETIME_SECONDS, the next one times a dummy check again.
    later[0] = passwords.RETIME_SECONDS
    assert sign_in_from(app, "203.0.113.99", "nobody@alazzo.example", "late").status_code == 200
    assert helper_checks[3:] == ["late"] and len(waits) == 8
    assert sign_in_from(app, "203.0.113.98", "nobody@alazzo.example", "later").status_code == 200
    assert len(helper_checks) == 4 and len(waits) == 9  # timed just now: a wait again
    assert len(audit_actions(app, "login_failed")) == 1 + 3 + 8 + 2


# --- failing closed -------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A redis-server of this test's own on a free port (no persistence)."""
    command = shutil.which("redis-server")
    if command is None:
        unavailable("the redis-server command is needed (apt-get install redis-server)")
    with bound_socket() as sock:
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [command, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(WAIT_SECONDS)


def test_sign_in_is_refused_while_the_limit_store_is_down(
    database_uri: str,
    redis_server: tuple[subprocess.Popen[bytes], int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    process, port = redis_server
    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: _redis_answers(url), f"redis-server on port {port} to answer")
    app = create_app(base_config(database_uri, **LIMITS, RATELIMIT_STORAGE_URI=url))
    try:
        create_staff(app)
        hashes = HashChecks(monkeypatch)
        assert sign_in_from(app, OWNER_NETWORK, password="a typo").status_code == 200

        process.terminate()
        process.wait(WAIT_SECONDS)
        with caplog.at_level(logging.ERROR, logger="quiz.staff.signin"):
            refused = sign_in_from(app, OWNER_NETWORK)  # the right password
        assert refused.status_code == 503
        assert "Sign-in is unavailable for a moment; please try again shortly" in text(refused)
        assert int(refused.headers["Retry-After"]) > 0
        assert hashes.calls == 1  # only the attempt made while the store was up
        lines = [r.getMessage() for r in caplog.records if r.name == "quiz.staff.signin"]
        # The exception's class only: its text names the store's address.
        assert lines == ["sign-in refused: the rate-limit store is unreachable (ConnectionError)"]
    finally:
        with app.app_context():
            db.engine.dispose()


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
