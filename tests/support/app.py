"""The configuration every test app starts from, and what an app has stored."""

from __future__ import annotations

from typing import Any

from flask import Flask

from quiz.db.engine import db
from quiz.db.models import Lead

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
