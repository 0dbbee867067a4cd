"""The same schema and lead path on a real PostgreSQL (psycopg 3), in both passes.

Runs against QUIZ_TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432, user postgres, trust auth), on a database of its own. Skipped
with a message when no server answers, except under CI=true, where it must run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import flask_migrate
import pytest
from flask import Flask

from quiz import create_app
from quiz.db.engine import db
from tests.support.app import base_config, leads
from tests.support.database import fresh_postgres_database
from tests.support.patient import valid_callback

pytestmark = pytest.mark.database  # its own database, not the suite's fixtures


@pytest.fixture
def pg_app() -> Iterator[Flask]:
    with fresh_postgres_database("quiz_test") as url:
        app = create_app(base_config(url))
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_migrations_and_callback_on_postgresql(pg_app: Flask) -> None:
    client = pg_app.test_client(use_cookies=False)
    data = valid_callback(client, name="=cmd|' /C calc'!A0")
    assert client.post("/quiz/callback", data=data).status_code == 200
    assert client.post("/quiz/callback", data=data).status_code == 200  # resent: no duplicate
    [lead] = leads(pg_app)
    assert lead.phone == "+13018105740" and lead.outcome == "both"
    assert lead.created_at.tzinfo is not None

    result = pg_app.test_cli_runner().invoke(args=["leads", "export"])
    assert result.exit_code == 0, result.output
    header, row = csv.reader(result.output.splitlines())
    assert header[:5] == ["id", "created_at", "status", "name", "phone"]
    assert row[3] == "'=cmd|' /C calc'!A0"  # the formula neutralised with a quote


def test_migrations_downgrade_and_upgrade_again(pg_app: Flask) -> None:
    with pg_app.app_context():
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade()
        assert db.session.execute(db.text("select count(*) from lead")).scalar() == 0
