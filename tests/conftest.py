"""Shared fixtures and hooks: an app on a real, migrated database per test.

The database is a SQLite file (copied from one migrated template) unless
QUIZ_TEST_DATABASE=postgresql: then one PostgreSQL database is made for the
session (at QUIZ_TEST_POSTGRES_URL's server, migrated once, dropped at the end)
and every table is emptied before each test.

The PostgreSQL pass runs only the tests that use a database: those that ask
for a fixture in DATABASE_FIXTURES (directly or through another fixture) and
those marked `@pytest.mark.database` (they make their own database). Pure
tests (scoring, content, configuration) ran in the SQLite pass already. The
browser tests and those marked `sqlite_only` stay in the SQLite pass too: the
live server keeps its own SQLite file, so a second run would test nothing new.
Without a reachable server that pass is skipped with a message, except under
CI=true, where it fails.

Helpers the tests import live in tests/support/, not here.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask, request_started
from flask.testing import FlaskClient

from quiz import create_app
from quiz.db.engine import db
from tests.support.app import base_config, stop_background
from tests.support.browser import BROWSER_TESTS
from tests.support.clock import FrozenClock
from tests.support.database import (
    POSTGRES_ADMIN_URL,
    TEST_DATABASE,
    empty_postgres,
    fresh_postgres_database,
    postgres_admin,
    postgres_missing_message,
    unreachable_uri,
)
from tests.support.environment import IN_CI
from tests.support.staff import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    create_staff,
    signed_in_client,
)

# A test that asks for one of these (directly or through another fixture) uses the
# suite's database, so it runs in the PostgreSQL pass as well.
DATABASE_FIXTURES = frozenset(
    {
        "database_uri",
        "postgres_database",
        "app",
        "client",
        "runner",
        "unmigrated_database_uri",
        "unreachable_database_uri",
    }
)
SELECTION = pytest.StashKey[dict[str, int]]()


# --- the database and the app -----------------------------------------------------------


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the schema made by the migrations, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return path


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
        empty_postgres(url)
        return url
    db_path = tmp_path / "quiz.db"
    shutil.copy(request.getfixturevalue("migrated_sqlite"), db_path)
    return f"sqlite:///{db_path}"


@pytest.fixture
def unmigrated_database_uri(tmp_path: Path) -> Iterator[str]:
    """A database the app can reach whose schema was never migrated (no tables at all)."""
    if TEST_DATABASE == "postgresql":
        with fresh_postgres_database("quiz_unmigrated", migrated=False) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path}/unmigrated.db"


@pytest.fixture
def unreachable_database_uri(tmp_path: Path) -> str:
    """A database URL that cannot be opened: a missing directory, or a missing database."""
    return unreachable_uri(tmp_path)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Per-test overrides; a test module may override this fixture."""
    return {}


@pytest.fixture
def app(database_uri: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(base_config(database_uri, **app_config))
    yield app
    stop_background(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def background_threads_end_with_their_test() -> Iterator[None]:
    """Every app that served a request during a test has its background threads stopped.

    Its first request starts them (unless TESTING); this is for the apps a test
    makes itself with create_app. The `app` fixture stops its own before
    disposing of its engine.
    """
    served: list[Flask] = []

    def started(app: Flask, **_extra: Any) -> None:
        served.append(app)

    with request_started.connected_to(started):
        yield
    for app in dict.fromkeys(served):
        stop_background(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A cookie-less client: the patient path must work without cookies."""
    return app.test_client(use_cookies=False)


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """`time.time` stands still until the test advances it (rate limits, form timing)."""
    clock = FrozenClock(time.time())
    monkeypatch.setattr(time, "time", clock.time)
    return clock


# --- hooks ------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: pins SQLite behaviour; left out of the PostgreSQL pass"
    )
    config.addinivalue_line(
        "markers",
        "database: uses a database without the fixtures that say so (it makes its own); "
        "kept in the PostgreSQL pass",
    )
    config.addinivalue_line("markers", "texts: the module's app texts patients (its app_config)")
    config.addinivalue_line("markers", "limits: the module's app counts sign-ins (its app_config)")


def pytest_unconfigure(config: pytest.Config) -> None:
    """After the run, logging failures are not printed.

    The apps' own background threads end with their test
    (background_threads_end_with_their_test); this is for anything else that
    logs after pytest closed its streams: logging would print a traceback of
    its own failure to write ("--- Logging error ---") under a green run.
    """
    logging.raiseExceptions = False


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_DATABASE == "postgresql":
        return (
            f"database: PostgreSQL at {POSTGRES_ADMIN_URL}; this pass runs only the tests "
            "that use a database (not the browser or sqlite_only ones)"
        )
    return "database: SQLite (QUIZ_TEST_DATABASE=postgresql runs the database tests on PostgreSQL)"


def uses_database(item: pytest.Item) -> bool:
    """Does this test touch the suite's database (or make its own)?"""
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & DATABASE_FIXTURES) or item.get_closest_marker("database") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, keep only the tests that use a database.

    Left out: pure tests (no database: the SQLite pass ran them), the browser
    tests (their live server keeps its own SQLite file) and the sqlite_only ones.
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
    counts = {"collected": len(items), "pure": 0, "browser": 0, "sqlite_only": 0}
    keep, drop = [], []
    for item in items:
        if BROWSER_TESTS in Path(str(item.path)).resolve().parents:
            reason = "browser"
        elif item.get_closest_marker("sqlite_only"):
            reason = "sqlite_only"
        elif not uses_database(item):
            reason = "pure"
        else:
            keep.append(item)
            continue
        counts[reason] += 1
        drop.append(item)
    counts["kept"] = len(keep)
    config.stash[SELECTION] = counts
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    counts = config.stash.get(SELECTION, None)
    if counts is None:
        return None
    return (
        f"PostgreSQL pass: kept {counts['kept']} of {counts['collected']} tests, those that "
        f"use a database (left out: {counts['pure']} pure, {counts['browser']} browser, "
        f"{counts['sqlite_only']} sqlite_only)"
    )


@pytest.fixture
def desk(app: Flask) -> FlaskClient:
    """Signed in as a desk account: works leads (the list, the lead page, status, notes)."""
    create_staff(app, role="desk")
    return signed_in_client(app)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """Signed in as an admin (its own account): also exports, erases, deliveries, funnel."""
    create_staff(app, ADMIN_EMAIL, ADMIN_PASSWORD, role="admin")
    return signed_in_client(app, ADMIN_EMAIL, ADMIN_PASSWORD)
