"""Shared fixtures: an app on a real, migrated SQLite file per test."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import create_app
from quiz.extensions import db
from quiz.models import Lead

TEST_SECRET = "test-secret-key-not-for-production-0123456789"
RESULT_QUERY = "concern=expression&area=between_brows&area=cheeks&goal=prevent"


def base_config(uri: str, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": uri,
        "MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": False,
        **overrides,
    }


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the schema made by the migrations, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Per-test overrides; a test module may override this fixture."""
    return {}


@pytest.fixture
def app(tmp_path: Path, migrated_sqlite: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    db_path = tmp_path / "quiz.db"
    shutil.copy(migrated_sqlite, db_path)
    app = create_app(base_config(f"sqlite:///{db_path}", **app_config))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A cookie-less client: the patient path must work without cookies."""
    return app.test_client(use_cookies=False)


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def leads(app: Flask) -> list[Lead]:
    """Every stored lead, oldest first."""
    with app.app_context():
        rows = db.session.execute(db.select(Lead).order_by(Lead.id)).scalars().all()
        db.session.expunge_all()
        return list(rows)


def callback_fields(html: str) -> dict[str, list[str]]:
    """The hidden fields of the callback form in a result page (answers, tracking, token)."""
    form = html[html.index('id="callback"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        value = re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        fields.setdefault(name, []).append(value.replace("&amp;", "&"))
    return fields


def valid_callback(client: FlaskClient, query: str = RESULT_QUERY, **fields: Any) -> dict[str, Any]:
    """A complete, valid callback submission taken from a real result page."""
    page = client.get(f"/quiz/result?{query}")
    assert page.status_code == 200
    data: dict[str, Any] = dict(callback_fields(page.get_data(as_text=True)))
    data.update(
        name="Jane Patient",
        phone="(301) 810-5740",
        email="jane@example.com",
        best_time="morning",
        consent="yes",
    )
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}
