"""The sign-in limit holds across gunicorn workers when they share Redis.

Two real gunicorn workers on loopback, Flask-Limiter storing its counters in
the Redis at 127.0.0.1:6379 under a key prefix unique to this run (deleted at
the end). The failed sign-ins are sent two at a time, so both workers serve
some of them (the access log names each request's worker), and the attempt
after the limit is refused with 429 whichever worker gets it.

Without Redis this test is skipped with a message, except under CI=true,
where it fails.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from quiz.storage.database import db
from tests.conftest import TEST_SECRET
from tests.test_staff_support import EMAIL, PASSWORD, create_staff

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
LIMIT = 4
GUNICORN = Path(sys.executable).with_name("gunicorn")


def redis_client():  # noqa: ANN201 - redis is imported lazily
    try:
        import redis

        client = redis.Redis(REDIS_HOST, REDIS_PORT, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        return client
    except Exception as err:  # noqa: BLE001 - any failure means "no Redis here"
        message = f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT} ({err}); start redis-server"
        if IN_CI:
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A tiny cookie-keeping HTTP client (one per attempt, like separate visitors)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def sign_in(self, password: str) -> int:
        status, html = self.request("/staff/login")
        assert status == 200, status
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert token
        status, _ = self.request(
            "/staff/login",
            {"email": EMAIL, "password": password, "csrf_token": token.group(1)},
        )
        return status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def gunicorn_two_workers(app: Flask, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn with 2 workers sharing Redis, on the test's database; yields (URL, access log)."""
    redis = redis_client()
    prefix = f"quiz-test-{uuid.uuid4().hex}"
    database_uri = app.config["SQLALCHEMY_DATABASE_URI"]
    create_staff(app)  # the real OWASP cost, so two sign-ins overlap
    with app.app_context():
        db.engine.dispose()

    port = free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "QUIZ_SECRET_KEY": TEST_SECRET,
        "QUIZ_SQLALCHEMY_DATABASE_URI": database_uri,
        "QUIZ_RATELIMIT_ENABLED": "true",
        "QUIZ_RATELIMIT_STORAGE_URI": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "QUIZ_RATELIMIT_KEY_PREFIX": prefix,
        "QUIZ_STAFF_LOGIN_ACCOUNT_RATE_LIMIT": f"{LIMIT} per 15 minutes",
        "QUIZ_STAFF_LOGIN_RATE_LIMIT": "100 per 15 minutes",
        "QUIZ_SESSION_COOKIE_SECURE": "false",
    }
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--timeout=60",
            f"--access-logfile={log}",
            "--access-logformat=%(p)s %(m)s %(U)s %(s)s",
            "quiz:create_app()",
        ],
        cwd=tmp_path,  # away from the repository's gunicorn.conf.py
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/staff/login", timeout=2):
                    break
            except OSError:  # not listening yet, or still booting
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    pytest.fail(f"gunicorn did not start: {err.decode()[-2000:]}")
                time.sleep(0.2)
        yield base, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        for key in redis.scan_iter(match=f"*{prefix}*", count=500):
            redis.delete(key)
        redis.close()


def test_failed_sign_ins_are_limited_across_two_workers(
    gunicorn_two_workers: tuple[str, Path],
) -> None:
    base, log = gunicorn_two_workers
    with ThreadPoolExecutor(max_workers=2) as pool:
        guesses = [f"wrong {i}" for i in range(LIMIT)]
        for pair in (guesses[:2], guesses[2:]):
            assert list(pool.map(lambda guess: Browser(base).sign_in(guess), pair)) == [200, 200]
    assert Browser(base).sign_in("wrong again") == 429
    assert Browser(base).sign_in(PASSWORD) == 429  # the account waits, even for the owner

    time.sleep(0.5)  # gunicorn writes the access log after each response
    posts = [line.split() for line in log.read_text().splitlines() if "POST /staff/login" in line]
    assert [p[-1] for p in posts].count("429") == 2
    workers = {pid for pid, *_ in posts}
    assert len(workers) == 2, f"one worker served every sign-in: {posts}"
