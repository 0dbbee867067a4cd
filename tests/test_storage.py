"""SQLite is set up for concurrent workers: WAL, busy timeout, foreign keys, BEGIN IMMEDIATE."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event, text

from quiz.db.engine import db
from tests.support.app import leads
from tests.support.patient import valid_callback


@pytest.mark.sqlite_only
def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(app: Flask) -> None:
    with app.app_context():
        conn = db.session.connection()
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.sqlite_only
def test_storing_a_lead_is_one_immediate_transaction_and_a_resend_reads_deferred(
    app: Flask,
) -> None:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    client = app.test_client(use_cookies=False)
    data = valid_callback(client)
    statements.clear()
    assert client.post("/quiz/callback", data=data).status_code == 200
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE"]  # a new lead: the write, nothing before it
    insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO lead"))
    assert statements.index("BEGIN IMMEDIATE") < insert

    statements.clear()
    assert client.post("/quiz/callback", data=data).status_code == 200  # the same form again
    event.remove(engine, "before_cursor_execute", record)
    begins = [s for s in statements if s.startswith("BEGIN")]
    # The insert is refused by the nonce's unique constraint; the stored lead is read back.
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]
    assert len(leads(app)) == 1


def test_schema_comes_from_the_migrations(app: Flask) -> None:
    with app.app_context():
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        config = app.extensions["migrate"].migrate.get_config()
    assert version == ScriptDirectory.from_config(config).get_current_head()
