"""Configuration loading and the start-up checks that refuse a bad setup."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from . import config as defaults
from .database import default_sqlite_uri

# Values that people paste from examples; none of them is a secret.
_PLACEHOLDER_KEYS = {"dev", "secret", "changeme", "change-me", "change_me", "your-secret-key", "x"}
MIN_SECRET_KEY_LENGTH = 16


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says how to fix it."""


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Defaults, then instance/config.py, then QUIZ_* variables, then the test mapping."""
    app.config.from_object(defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("QUIZ")
    if test_config is not None:
        app.config.from_mapping(test_config)

    if app.config.get("TESTING"):
        app.config["ENV"] = "testing"
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = default_sqlite_uri(app.instance_path)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        # Plain HTTP on 127.0.0.1 in development: a Secure cookie would never come back.
        app.config["SESSION_COOKIE_SECURE"] = not is_development(app)
    app.config["EMBED_ORIGINS"] = parse_origins(app.config.get("EMBED_ORIGINS"))
    check_secret_key(app)


def is_development(app: Flask) -> bool:
    """True for local development and tests, where relaxed defaults are allowed."""
    return app.debug or app.config.get("ENV") in ("development", "testing")


def check_secret_key(app: Flask) -> None:
    """Refuse to run outside development/testing without a real SECRET_KEY."""
    key = app.config.get("SECRET_KEY")
    if is_development(app):
        if not key:
            # Tokens signed with it do not survive a restart; fine for development.
            app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
        return
    if (
        not isinstance(key, str | bytes)
        or len(key) < MIN_SECRET_KEY_LENGTH
        or str(key).strip().lower() in _PLACEHOLDER_KEYS
    ):
        raise ConfigError(
            "SECRET_KEY is missing or too weak. Set a long random value, for example:\n"
            '  export QUIZ_SECRET_KEY="$(python3 -c '
            "'import secrets; print(secrets.token_urlsafe(48))')\"\n"
            "or put SECRET_KEY = '...' in instance/config.py. (For local development, "
            "set QUIZ_ENV=development or use `make run`.)"
        )


def parse_origins(value: Any) -> list[str]:
    """Validate EMBED_ORIGINS: a list (or JSON list) of scheme://host[:port] origins."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(
                f"EMBED_ORIGINS must be a JSON list of origins, got {value!r}; "
                "for example QUIZ_EMBED_ORIGINS='[\"https://www.myspa.com\"]'"
            ) from None
    if not isinstance(value, list | tuple):
        raise ConfigError(f"EMBED_ORIGINS must be a list of origins, got {value!r}")
    origins = []
    for entry in value:
        origins.append(_check_origin(entry))
    return origins


def _check_origin(entry: Any) -> str:
    problem = None
    if not isinstance(entry, str) or not entry:
        problem = "is not text"
    else:
        parts = urlsplit(entry)
        if parts.scheme not in ("http", "https"):
            problem = "must start with https:// (or http://)"
        elif not parts.hostname or any(c in entry for c in " ;,'\"*"):
            problem = "must be a plain origin such as https://www.myspa.com"
        elif parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            problem = "must be an origin only: no path, query or credentials"
        else:
            try:
                parts.port  # noqa: B018 - raises on a bad port
            except ValueError:
                problem = "has an invalid port"
    if problem:
        raise ConfigError(f"EMBED_ORIGINS entry {entry!r} {problem}")
    return entry.rstrip("/").lower()
