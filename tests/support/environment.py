"""The test run's surroundings: CI or not, and the services some tests need.

A test whose requirement is missing (PostgreSQL, Redis, the openssl command,
Chromium) is skipped with a message saying how to provide it, except under
CI=true, where it fails: a CI run must never pass by silently skipping.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
REDIS_URL = os.environ.get("QUIZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(message: str) -> NoReturn:
    """Skip the test for want of `message`'s requirement; under CI=true, fail it."""
    if IN_CI:
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(message)


def redis_client() -> Any:
    """A client of the Redis at REDIS_URL (QUIZ_TEST_REDIS_URL), or skip/fail."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
    except Exception as err:  # any failure means "no Redis here"
        unavailable(
            f"Redis not reachable at {REDIS_URL} ({type(err).__name__}): start redis-server"
        )
    return client
