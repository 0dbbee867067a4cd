"""Which database the suite runs on, and PostgreSQL databases made for a test.

QUIZ_TEST_DATABASE is sqlite (the default) or postgresql; the PostgreSQL server
is QUIZ_TEST_POSTGRES_URL's (a user that may create databases).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest

from quiz import create_app
from quiz.db.engine import db
from tests.support.app import base_config
from tests.support.environment import unavailable

TEST_DATABASE = os.environ.get("QUIZ_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
POSTGRES_ADMIN_URL = os.environ.get(
    "QUIZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"QUIZ_TEST_DATABASE is sqlite or postgresql, not {TEST_DATABASE!r}")


def _dsn(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_admin() -> Any | None:
    """An autocommit connection to the PostgreSQL server's admin database, or None."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the dev extra installs it
        return None
    try:
        return psycopg.connect(_dsn(POSTGRES_ADMIN_URL), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None


def postgres_missing_message() -> str:
    return (
        f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: start it, or set "
        "QUIZ_TEST_POSTGRES_URL to a server where the user may create databases"
    )


@contextmanager
def fresh_postgres_database(prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """Create a PostgreSQL database (migrated, unless told not to), yield its URL, drop it.

    Skips (or, under CI=true, fails) when no server answers.
    """
    admin = postgres_admin()
    if admin is None:
        unavailable(postgres_missing_message())
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        if migrated:
            app = create_app(base_config(url))
            with app.app_context():
                flask_migrate.upgrade()
                db.engine.dispose()
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def empty_postgres(url: str) -> None:
    """Empty every table but alembic_version (the schema stays migrated).

    The default spa's row goes back in, as migration 0011 made it: the
    install's own rows belong to it.
    """
    import psycopg

    with psycopg.connect(_dsn(url)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        if "spa" in tables:
            conn.execute(
                "INSERT INTO spa (id, slug, name, origins, settings, copied_from, created_at) "
                "VALUES (1, 'default', 'The install''s own spa', '[]', '{}', '', now())"
            )
            conn.execute("SELECT setval(pg_get_serial_sequence('spa', 'id'), 1)")


def unreachable_uri(directory: Path) -> str:
    """A database URL that cannot be opened, on the suite's kind of database."""
    if TEST_DATABASE == "postgresql":
        # The real server, a database that isn't there: refused at once.
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/quiz_no_such_database"
    return f"sqlite:///{directory}/no/such/directory/quiz.db"
