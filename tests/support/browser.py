"""For the real-Chromium tests: where the browser and axe-core are, and the live server.

The fixtures themselves (the live server, pages) are in tests/browser/conftest.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from quiz.db.engine import db
from quiz.db.models import Lead
from quiz.db.scope import ALL_SPAS, spa_scope
from tests.support.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = REPO_ROOT / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
AXE_PATH = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEFAULT_TIMEOUT_MS = 5000  # Playwright's wait for one expectation (its default is 30 s)


@dataclass
class LiveServer:
    """The app served over real HTTP, plus helpers to look at what it stored."""

    url: str
    app: Flask

    def leads(self) -> list[Lead]:
        with self.app.app_context():
            try:
                leads = list(db.session.execute(db.select(Lead).order_by(Lead.id)).scalars())
                for lead in leads:
                    db.session.expunge(lead)  # keep attributes readable after the context
                return leads
            finally:
                db.session.remove()

    def clear_leads(self) -> None:
        """Every spa's leads."""
        with self.app.app_context(), spa_scope(ALL_SPAS):
            try:
                db.session.execute(db.delete(Lead))
                db.session.commit()
            finally:
                db.session.remove()


def wait_for_htmx(target: Any) -> None:
    """Wait until htmx has loaded in a page or frame (the widget's own signal that it can swap).

    Polled from here with `evaluate`: Playwright's `wait_for_function` evaluates a
    string expression by `eval` inside the page, which the widget's CSP
    (`script-src 'self'`) refuses whenever the first check finds htmx not loaded yet.
    """
    wait_until(lambda: target.evaluate("window.htmx !== undefined"), "htmx to load")


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """`app` on a real werkzeug server (a free loopback port, threaded), stopped afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="quiz-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
