"""A configuration gunicorn or a command cannot work with stops start-up with its message alone.

Real processes, as an operator starts them: `flask --app wsgi …` and gunicorn
with the repository's gunicorn.conf.py. The message names the setting and
says what to set; no Python traceback comes before it; a command exits 1 and
gunicorn halts by itself (it does not restart failing workers for ever).

With several workers in production, rate limits counted in each worker's
memory would multiply every limit (14 wrong passwords were checked against
a limit of 5 with 4 workers), so gunicorn refuses to serve that way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.environment import REDIS_URL, redis_client
from tests.support.waiting import ProcessOutput

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXIT_SECONDS = 120  # a bound for a broken run only: each process ends on its own


def production_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUIZ_", "GUNICORN_"))}
    env.update(
        QUIZ_ENV="production",
        QUIZ_SECRET_KEY="a-real-production-secret-0123456789",
        QUIZ_TRUSTED_HOSTS='["127.0.0.1"]',
        QUIZ_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'quiz.db'}",
        GUNICORN_ACCESS_LOG="",
    )
    env.update(settings)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(
    env: dict[str, str], workers: int, port: int = 0, *args: str
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", str(workers),
         "--bind", f"127.0.0.1:{port or free_port()}", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_a_command_with_a_configuration_error_prints_the_message_alone(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["QUIZ_TRUSTED_HOSTS"]
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "content", "history"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=EXIT_SECONDS,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("Configuration error: TRUSTED_HOSTS must name")
    assert "QUIZ_TRUSTED_HOSTS=" in result.stderr and "Traceback" not in result.stderr


def test_gunicorn_with_a_configuration_error_halts_with_the_message(tmp_path: Path) -> None:
    env = production_env(tmp_path, QUIZ_SECRET_KEY="changeme")
    process = gunicorn(env, workers=2)
    output = ProcessOutput(process)
    assert process.wait(timeout=EXIT_SECONDS) == 1  # it stopped by itself
    text = output.text()
    assert text.count("Configuration error") == 1
    assert "Configuration error: SECRET_KEY" in text
    assert "Traceback" not in text


def test_several_workers_with_per_process_limits_refuse_to_start(tmp_path: Path) -> None:
    process = gunicorn(production_env(tmp_path), workers=2)
    output = ProcessOutput(process)
    assert process.wait(timeout=EXIT_SECONDS) == 1
    text = output.text()
    assert text.count("Configuration error") == 1  # once, by gunicorn before any worker
    assert "Booting worker" not in text
    assert "Configuration error: RATELIMIT_STORAGE_URI is memory://" in text
    assert "export QUIZ_RATELIMIT_STORAGE_URI='redis://127.0.0.1:6379'" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("workers, store", [(1, "memory://"), (2, REDIS_URL)], ids=["one", "redis"])
def test_one_worker_or_a_shared_store_serves(tmp_path: Path, workers: int, store: str) -> None:
    if store.startswith("redis"):
        redis_client().close()  # skips with how to enable it when Redis is not running
    port = free_port()
    process = gunicorn(production_env(tmp_path, QUIZ_RATELIMIT_STORAGE_URI=store), workers, port)
    output = ProcessOutput(process)
    try:
        output.wait_for("Booting worker with pid", count=workers)
        # Served once a worker has taken the connection waiting in the listen queue.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/quiz/", timeout=EXIT_SECONDS) as r:
            assert r.status == 200
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=EXIT_SECONDS)
    assert "Configuration error" not in output.text()


def test_another_app_served_with_the_same_settings_file_is_not_checked(tmp_path: Path) -> None:
    # The benchmarks serve a hello-world with gunicorn.conf.py beside the quiz.
    (tmp_path / "hello.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\napp.get('/')(lambda: 'hello')\n"
    )
    port = free_port()
    process = gunicorn(
        production_env(tmp_path), 2, port, "--pythonpath", str(tmp_path), "hello:app"
    )
    output = ProcessOutput(process)
    try:
        output.wait_for("Booting worker with pid", count=2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=EXIT_SECONDS) as r:
            assert r.read() == b"hello"
    finally:
        process.terminate()
        process.wait(timeout=EXIT_SECONDS)
    assert "Configuration error" not in output.text()
