"""For the real-Chromium tests: where the browser and axe-core are, and the live server.

The fixtures themselves (the live server, pages) are in tests/browser/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from quiz.storage.database import db
from quiz.storage.models import Lead

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
        with self.app.app_context():
            try:
                db.session.execute(db.delete(Lead))
                db.session.commit()
            finally:
                db.session.remove()
