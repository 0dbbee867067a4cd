"""Shared fixtures: an app on a real, migrated database per test.

The database is a SQLite file (copied from one migrated template) unless
QUIZ_TEST_DATABASE=postgresql: then the whole suite runs on one PostgreSQL
database made for the session (at QUIZ_TEST_POSTGRES_URL's server, migrated
once, dropped at the end) and every table is emptied before each test.
Without a reachable server that pass is skipped with a message, except under
CI=true, where it fails. The browser tests stay in the SQLite pass: their live
server keeps its own SQLite file, so a second run would test nothing new.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import create_app
from quiz.storage.database import db
from quiz.storage.models import Lead

TEST_SECRET = "test-secret-key-not-for-production-0123456789"
TEST_DATABASE = os.environ.get("QUIZ_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
POSTGRES_ADMIN_URL = os.environ.get(
    "QUIZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"QUIZ_TEST_DATABASE is sqlite or postgresql, not {TEST_DATABASE!r}")

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


def postgres_admin() -> Any | None:
    """An autocommit connection to the PostgreSQL server's admin database, or None."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the dev extra installs it
        return None
    dsn = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None


def postgres_missing_message() -> str:
    return (
        f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: start it, or set "
        "QUIZ_TEST_POSTGRES_URL to a server where the user may create databases"
    )


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """Create a migrated PostgreSQL database, yield its URL, drop it afterwards.

    Skips (or, under CI=true, fails) when no server answers.
    """
    admin = postgres_admin()
    if admin is None:
        if IN_CI:
            pytest.fail(f"CI=true but {postgres_missing_message()}", pytrace=False)
        pytest.skip(postgres_missing_message())
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        app = create_app(base_config(url))
        with app.app_context():
            flask_migrate.upgrade()
            db.engine.dispose()
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole session; its URL."""
    with fresh_postgres_database("quiz_suite") as url:
        yield url


@pytest.fixture
def database_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for one test: a SQLite file, or the emptied PostgreSQL one."""
    if TEST_DATABASE == "postgresql":
        url = request.getfixturevalue("postgres_database")
        _empty_postgres(url)
        return url
    db_path = tmp_path / "quiz.db"
    shutil.copy(request.getfixturevalue("migrated_sqlite"), db_path)
    return f"sqlite:///{db_path}"


def _empty_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
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


@pytest.fixture
def app(database_uri: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(base_config(database_uri, **app_config))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# Tests about SQLite's own settings; new ones carry @pytest.mark.sqlite_only instead.
SQLITE_ONLY = {
    "tests/test_storage.py::test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys",
    "tests/test_storage.py::test_storing_a_lead_begins_immediate_and_reads_do_not",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: pins SQLite behaviour; left out of the PostgreSQL pass"
    )


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_DATABASE == "postgresql":
        return f"database: PostgreSQL at {POSTGRES_ADMIN_URL} (browser tests: SQLite pass only)"
    return "database: SQLite (QUIZ_TEST_DATABASE=postgresql runs the suite on PostgreSQL)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, leave out what only the SQLite pass can test.

    The browser tests' live server keeps its own SQLite file, and some tests pin
    SQLite's settings; running them again would test nothing new.
    """
    if TEST_DATABASE != "postgresql":
        return
    if not IN_CI:
        admin = postgres_admin()
        if admin is None:
            # Nothing here can run on PostgreSQL: say so once per test, quickly.
            skip = pytest.mark.skip(reason=postgres_missing_message())
            for item in items:
                item.add_marker(skip)
            return
        admin.close()
    browser_dir = Path(__file__).resolve().parent / "browser"
    keep, drop = [], []
    for item in items:
        sqlite_only = item.nodeid in SQLITE_ONLY or item.get_closest_marker("sqlite_only")
        in_browser = browser_dir in Path(str(item.path)).resolve().parents
        (drop if sqlite_only or in_browser else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
    """The hidden fields of the callback form in a page (answers, tracking, token)."""
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


def callback_link(html: str) -> str:
    """Where a result page's "Request a call back" leads (the form's own page)."""
    found = re.search(r'<a [^>]*id="request-callback" href="([^"]+)"', html)
    assert found, "no 'Request a call back' link in the page"
    return found.group(1).replace("&amp;", "&")


def callback_page(client: FlaskClient, query: str = RESULT_QUERY, **headers: str) -> str:
    """The callback form as a patient reaches it: the result, then "Request a call back"."""
    result = client.get(f"/quiz/result?{query}")
    assert result.status_code == 200
    page = client.get(callback_link(result.get_data(as_text=True)), headers=headers)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def valid_callback(client: FlaskClient, query: str = RESULT_QUERY, **fields: Any) -> dict[str, Any]:
    """A complete, valid callback submission from a real form, reached from the result."""
    data: dict[str, Any] = dict(callback_fields(callback_page(client, query)))
    data.update(
        name="Jane Patient",
        phone="(301) 810-5740",
        email="jane@example.com",
        best_time="morning",
        consent="yes",
    )
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}
