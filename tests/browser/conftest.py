"""Fixtures for the real-Chromium browser tests.

The app runs on a live werkzeug server in a background thread (one per test
session, with its own SQLite file); Playwright drives Debian's Chromium at
/usr/bin/chromium through pytest-playwright's shared `browser`. Never run
`playwright install`: the browser comes from `apt-get install -y chromium`.

Without Chromium or Playwright the tests here are skipped with a message saying
how to enable them, except under CI=true, where they fail instead: a CI run
must never pass by silently skipping its browser tests.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import (
    BROWSER_TESTS,
    CHROMIUM,
    DEFAULT_TIMEOUT_MS,
    LiveServer,
    serving,
)
from tests.support.environment import IN_CI

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, BrowserContext, Page

ENABLE_HINT = (
    "Browser tests need Debian's Chromium and Playwright: run `apt-get install -y chromium` "
    "and `make test` (which installs playwright and pytest-playwright into .venv; never run "
    "`playwright install`)."
)


def _missing_requirements() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} not found")
    for module in ("playwright.sync_api", "pytest_playwright"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(f"cannot import {module}")
    return missing


MISSING = _missing_requirements()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, under CI=true, fail) the browser tests when they cannot run.

    This runs before any fixture is set up, so a missing pytest-playwright
    (whose `browser` and `page` fixtures the tests use) is reported here with
    the hint instead of as a confusing "fixture not found" error.
    """
    if not MISSING or BROWSER_TESTS not in Path(str(item.path)).resolve().parents:
        return
    message = f"{ENABLE_HINT} ({'; '.join(MISSING)})"
    if IN_CI:
        pytest.fail(f"CI=true but the browser tests cannot run: {message}", pytrace=False)
    pytest.skip(message)


# pytest-playwright: use Debian's Chromium, never a downloaded one.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--disable-gpu", "--disable-quic"],
    }


def _migrate_schema(app: Flask) -> None:
    """`flask db upgrade` on the live server's database."""
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from quiz import create_app
    from quiz.db.engine import db

    tmp = tmp_path_factory.mktemp("browser-db")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/quiz.db",
            "MIN_FILL_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "browser-test-secret-key-0123456789",
        }
    )
    _migrate_schema(app)
    try:
        with serving(app) as server:
            yield server
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    """The live server with no leads stored yet."""
    live_server.clear_leads()
    return live_server


@pytest.fixture
def js_page(page: Page) -> Page:
    """pytest-playwright's page (JavaScript on), failing fast instead of after 30 s."""
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return page


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context with the given options, e.g. java_script_enabled=False."""
    contexts: list[BrowserContext] = []

    def open_page(**context_options: Any) -> Page:
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def nojs_page(new_page: Callable[..., Page]) -> Page:
    """A page in a context with JavaScript disabled: every step is a full page load."""
    return new_page(java_script_enabled=False)
