"""`GET /healthz`: is this instance able to take a callback request? JSON for probes.

200 when the database answers and its schema is the migrations' head; 503 when
it does not answer or is behind (a load balancer should then send patients
elsewhere). Anyone gets `{"status": …}` only; the detail (the database's state,
the schema revision, the outbox counts, which hint at how many leads there are)
is for requests carrying `Authorization: Bearer <HEALTH_TOKEN>`. The outbox
figures are information for monitoring, not a verdict: a mail server being
down must not take the widget out of rotation.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from quiz.db.engine import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The database's state (and the notification queue's) as JSON; 503 when unusable."""
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        db.session.rollback()
        # The error's class only: its text may carry the database URL.
        current_app.logger.warning("healthz: database unavailable (%s)", type(err).__name__)
        body.update(status="unavailable", database="unavailable")
        return _answer(body)
    # It answers; a missing alembic_version table means `flask db upgrade` never ran.
    revision = _schema_revision()
    heads = schema_heads(current_app.extensions["migrate"].directory)
    if revision not in heads:
        body.update(status="unavailable", database="schema not migrated")
        if revision is not None:
            body.update(schema=revision, expected_schema=" or ".join(heads))
        return _answer(body)
    for name, summary in current_app.extensions["quiz_health"].items():
        body[name] = summary()  # e.g. the outbox's counts (quiz/notifications)
    return _answer(body)


def register(app: Flask, summaries: dict[str, Callable[[], object]]) -> None:
    """Serve /healthz; `summaries` add a part each (name: function) once the database answers."""
    app.extensions["quiz_health"] = dict(summaries)
    app.register_blueprint(bp)


def _schema_revision() -> str | None:
    """The database's migration revision, or None when it has never been migrated."""
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        return None


def _answer(body: dict[str, object]) -> Response:
    if not _may_see_detail():
        body = {"status": body["status"]}
    response = jsonify(body)
    response.status_code = 200 if body["status"] == "ok" else 503
    response.cache_control.no_store = True
    return response


@cache
def schema_heads(directory: str) -> tuple[str, ...]:
    """The newest migrations' revisions (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(Path(directory)))
    return tuple(ScriptDirectory.from_config(config).get_heads())


def _may_see_detail() -> bool:
    """True for a request carrying the configured HEALTH_TOKEN as a bearer token."""
    token = current_app.config["HEALTH_TOKEN"]
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(value.strip().encode(), token.encode())
    )
