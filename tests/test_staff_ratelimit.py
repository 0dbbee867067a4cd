"""The sign-in limit holds across gunicorn workers when they share Redis.

Two real gunicorn workers on loopback, Flask-Limiter storing its counters in
the Redis at 127.0.0.1:6379 (QUIZ_TEST_REDIS_URL) under a key prefix unique to
this run (deleted at the end). The test starts once both workers have loaded
the app (each writes its pid to a file from gunicorn's post_worker_init hook).
The failed sign-ins are sent two at a time, so both workers serve some of them
(the access log names each request's worker), and the attempt after the limit
is refused with 429 whichever worker gets it. The limit is per account and
network (every request here comes from 127.0.0.1), counted in Redis before the
password is hashed (quiz.staff.signin).

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
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from quiz.db.engine import db
from tests.support.app import TEST_SECRET
from tests.support.environment import REDIS_URL, redis_client
from tests.support.staff import EMAIL, PASSWORD, create_staff
from tests.support.waiting import lines_in, wait_for_lines, wait_until

LIMIT = 4
WORKERS = 2
GUNICORN = Path(sys.executable).with_name("gunicorn")
# gunicorn's hook, called in each worker once it has loaded the app: "this worker is ready".
READY_HOOK = """
def post_worker_init(worker):
    with open({ready!r}, "a", encoding="utf-8") as ready:
        ready.write(f"ready {{worker.pid}}\\n")
"""


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
    log, ready = tmp_path / "access.log", tmp_path / "ready.log"
    config = tmp_path / "gunicorn_test.conf.py"
    config.write_text(READY_HOOK.format(ready=str(ready)), encoding="utf-8")
    env = {
        **os.environ,
        "QUIZ_ENV": "production",  # as served, whatever instance/config.py says
        "QUIZ_SECRET_KEY": TEST_SECRET,
        "QUIZ_TRUSTED_HOSTS": '["127.0.0.1"]',
        "QUIZ_SQLALCHEMY_DATABASE_URI": database_uri,
        "QUIZ_RATELIMIT_ENABLED": "true",
        "QUIZ_RATELIMIT_STORAGE_URI": REDIS_URL,
        "QUIZ_RATELIMIT_KEY_PREFIX": prefix,
        "QUIZ_STAFF_LOGIN_ACCOUNT_RATE_LIMIT": f"{LIMIT} per 15 minutes",
        "QUIZ_STAFF_LOGIN_RATE_LIMIT": "100 per 15 minutes",
        "QUIZ_SESSION_COOKIE_SECURE": "false",
    }
    process = subprocess.Popen(
        [
            str(GUNICORN),
            f"--config={config}",  # only the ready hook, not the repository's gunicorn.conf.py
            f"--workers={WORKERS}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=60",
            f"--access-logfile={log}",
            "--access-logformat=%(p)s %(m)s %(U)s %(s)s",
            "quiz:create_app()",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def workers_ready() -> bool:
            if process.poll() is not None:
                _, err = process.communicate(timeout=5)
                pytest.fail(f"gunicorn did not start: {err.decode()[-2000:]}")
            return len(lines_in(ready, "ready ")) >= WORKERS

        wait_until(workers_ready, f"{WORKERS} gunicorn workers to load the app")
        yield f"http://127.0.0.1:{port}", log
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
    # The account waits on this network, even with the right password.
    assert Browser(base).sign_in(PASSWORD) == 429

    # gunicorn writes each request's access-log line just after its response: wait for all six.
    lines = wait_for_lines(log, "POST /staff/login", LIMIT + 2)
    posts = [line.split() for line in lines]
    assert [p[-1] for p in posts].count("429") == 2
    workers = {pid for pid, *_ in posts}
    assert len(workers) == 2, f"one worker served every sign-in: {posts}"
