"""Every real gunicorn worker switches to a published content version (issue 14).

gunicorn with the repository's gunicorn.conf.py and three sync workers serves
the test's database (a SQLite file, or PostgreSQL in that pass) with
QUIZ_CONTENT_CHECK_SECONDS=1. Each worker's content thread starts as the
worker boots (post_worker_init), and each switch is one log line, "content
version N served by worker PID". The test publishes a version that changes
both the first question's title and its first option's label, in English and
Spanish, through quiz.content.publishing (what `flask content publish`
and the staff editor call), then waits for one such line from every booted
worker's pid: no fixed sleep. A first version (the same text) is waited for
without sending any request, so each worker must switch by itself; while the
second switches, and after, the test fetches the question over fresh
connections: a page is always wholly one version (never the old label next to
the new title), and once every worker switched, always the new.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from quiz import create_app
from quiz.content.document import read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.publishing import publish
from quiz.db.engine import db
from tests.support.app import TEST_SECRET, base_config
from tests.support.content import load_locales
from tests.support.environment import REDIS_URL
from tests.support.waiting import ProcessOutput, wait_until

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 3
FILES = load_locales()
# (title, label) of the first question, now and in the published version, per language.
OLD = {
    lang: (FILES[lang].questions[0].title, FILES[lang].questions[0].options[0].label)
    for lang in ("en", "es")
}
NEW = {
    "en": ("What bothers you most today?", "Lines when I smile"),
    "es": ("¿Qué le molesta más hoy?", "Líneas al sonreír"),
}
BOOTED = re.compile(r"Booting worker with pid: (\d+)")


@dataclass
class Served:
    base: str
    output: ProcessOutput
    pids: list[int]

    def switched(self, version: int) -> set[int]:
        """The pids that logged serving `version` (each switch is one line)."""
        found = re.compile(rf"content version {version} served by worker (\d+)\b")
        return {int(m.group(1)) for line in list(self.output.lines) for m in found.finditer(line)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_uri: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUIZ_", "GUNICORN_"))}
    env.update(
        QUIZ_ENV="production",
        QUIZ_SECRET_KEY=TEST_SECRET,
        QUIZ_TRUSTED_HOSTS='["127.0.0.1"]',
        QUIZ_SQLALCHEMY_DATABASE_URI=database_uri,
        QUIZ_CONTENT_CHECK_SECONDS="1",
        # Several production workers share their limits, as gunicorn.conf.py requires.
        QUIZ_RATELIMIT_STORAGE_URI=REDIS_URL,
        QUIZ_RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        GUNICORN_ACCESS_LOG="",
    )
    return env


@pytest.fixture
def served(database_uri: str) -> Iterator[Served]:
    """gunicorn, every worker booted and serving version 1 (the files, stored at start-up)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=server_env(database_uri), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output = ProcessOutput(process)
    try:
        output.wait_for("Booting worker with pid", count=WORKERS)
        pids = [int(m.group(1)) for line in list(output.lines) for m in BOOTED.finditer(line)]
        server = Served(f"http://127.0.0.1:{port}", output, pids)
        wait_until(lambda: server.switched(1) == set(pids), "every worker to serve version 1")
        output.wait_for("Listening at")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert "Traceback" not in output.text()


def published_files(folder: Path, texts: dict[str, tuple[str, str]]) -> Path:
    """quiz.toml and quiz.es.toml with the first question's title and first label as given."""
    folder.mkdir()
    for lang, name in (("en", "quiz.toml"), ("es", "quiz.es.toml")):
        text = (DEFAULT_CONTENT.parent / name).read_text(encoding="utf-8")
        for old, new in zip(OLD[lang], texts[lang], strict=True):
            assert f'"{old}"' in text
            text = text.replace(f'"{old}"', f'"{new}"', 1)
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "quiz.toml"


def publish_version(database_uri: str, files: Path, based_on: int) -> int:
    operator = create_app(base_config(database_uri))
    with operator.app_context():
        row = publish(
            read_document(files),
            author="cli",
            note="a new title and label",
            based_on=based_on,
            languages=operator.extensions["quiz_languages"],
        )
        db.engine.dispose()
    return row.id


def fetch_version(base: str, lang: str, htmx: bool = False) -> str:
    """Fetch the first question over a fresh connection: "old" or "new", never a mixture."""
    headers = {"Connection": "close", **({"HX-Request": "true"} if htmx else {})}
    request = urllib.request.Request(f"{base}/quiz/concern?lang={lang}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        html = response.read().decode()
    seen = {
        name: [text.replace("'", "&#39;") in html for text in texts[lang]]
        for name, texts in (("old", OLD), ("new", NEW))
    }
    wholly = [name for name, found in seen.items() if all(found)]
    assert len(wholly) == 1 and not any(seen["old" if wholly == ["new"] else "new"]), (
        f"a page mixes versions ({lang}, htmx={htmx}): {seen}"
    )
    return wholly[0]


def test_every_gunicorn_worker_switches_to_a_published_version(
    served: Served, database_uri: str, tmp_path: Path
) -> None:
    assert len(served.pids) == WORKERS
    assert {fetch_version(served.base, lang) for lang in ("en", "es")} == {"old"}

    # Version 2: no request at all while waiting. Two requests so far reached at
    # most two of the three workers: each switches by its own thread, started at boot.
    assert publish_version(database_uri, published_files(tmp_path / "v2", OLD), 1) == 2
    wait_until(lambda: served.switched(2) == set(served.pids), "every worker to serve version 2")

    # Version 3, the new title and label: pages fetched meanwhile are wholly old or wholly new.
    assert publish_version(database_uri, published_files(tmp_path / "v3", NEW), 2) == 3
    seen: list[str] = []

    def every_worker_switched() -> bool:
        lang = ("en", "es")[len(seen) % 2]
        seen.append(fetch_version(served.base, lang, htmx=len(seen) % 3 == 0))
        return served.switched(3) == set(served.pids)

    wait_until(every_worker_switched, f"a 'content version 3' line from each of {served.pids}")
    for version in (2, 3):  # one switch per worker and version, each once
        lines = [line for line in served.output.lines if f"content version {version} " in line]
        assert len(lines) == WORKERS, lines
    after = [
        fetch_version(served.base, lang, htmx)
        for _ in range(4 * WORKERS)
        for lang, htmx in (("en", False), ("es", True))
    ]
    assert set(after) == {"new"}  # no worker serves the old page any more
