"""The configuration every test app starts from, stopping its threads, what it has stored."""

from __future__ import annotations

from typing import Any

from flask import Flask

from quiz.content.live import live_content
from quiz.db.engine import db
from quiz.db.models import Lead
from quiz.funnel.counter import recorder

TEST_SECRET = "test-secret-key-not-for-production-0123456789"


def base_config(uri: str, **overrides: Any) -> dict[str, Any]:
    """A testing app on `uri`: no fill-time minimum, no rate limits, unless overridden."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": uri,
        "MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": False,
        **overrides,
    }


def leads(app: Flask) -> list[Lead]:
    """Every stored lead, oldest first."""
    with app.app_context():
        rows = db.session.execute(db.select(Lead).order_by(Lead.id)).scalars().all()
        db.session.expunge_all()
        return list(rows)


def stop_background(app: Flask) -> None:
    """End the app's background threads (funnel writer, content check) without a last write.

    An app that is not TESTING starts them at its first request; left running
    they outlive the test's database and log its absence into later tests (or
    at exit, from the funnel's last flush).
    """
    recorder(app).stop(flush=False)
    live_content(app).stop()
