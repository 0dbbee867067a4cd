"""Loading the configuration: defaults, instance/config.py, QUIZ_* variables, a test mapping.

Every setting is declared once in `quiz.settings.schema`; `validate` checks each
one by its kind, limits and check; the checks that weigh several settings
together run where those are built (the spa's details, the notification channels).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from quiz.settings import ConfigError
from quiz.settings.schema import BY_NAME, SETTINGS, Setting

# Values that people paste from examples; none of them is a secret.
_PLACEHOLDER_KEYS = {"dev", "secret", "changeme", "change-me", "change_me", "your-secret-key", "x"}
DEVELOPMENT = ("development", "testing")  # the ENV values that relax the production checks
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_SYMBOLS = 10  # distinct characters: "aaaa…" or "abababab…" is not random
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Defaults, then instance/config.py, then QUIZ_* variables, then the test mapping."""
    app.config.from_mapping({s.name: s.default for s in SETTINGS})
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("QUIZ")
    if test_config is not None:
        app.config.from_mapping(test_config)

    if app.config.get("TESTING"):
        app.config["ENV"] = "testing"
    validate(app.config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        # The embedded default: a SQLite file in the instance folder.
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{app.instance_path}/quiz.db"
    if app.config["SESSION_COOKIE_SECURE"] is None:
        # Plain HTTP on 127.0.0.1 in development: a Secure cookie would never come back.
        app.config["SESSION_COOKIE_SECURE"] = not is_development(app)
    check_production(app)
    check_secret_key(app)


def validate(config: dict[str, Any], names: Iterable[str] | None = None) -> None:
    """Check every declared setting (or those `names`) by its kind, limits and check.

    Each is stored back normalised.
    """
    chosen = SETTINGS if names is None else [BY_NAME[name] for name in names]
    for setting in chosen:
        value = config.get(setting.name)
        if value is None and setting.optional:
            continue
        value = _of_kind(setting, value)
        if setting.low is not None and not setting.low <= value <= setting.high:
            raise ConfigError(
                f"{setting.name} must be from {setting.low:g} to {setting.high:g}, got {value!r}."
            )
        if setting.choices and value not in setting.choices:
            raise ConfigError(
                f"{setting.name} must be one of {', '.join(setting.choices)}, got {value!r}."
            )
        if setting.check is not None:
            value = setting.check(value)
        config[setting.name] = value


def _of_kind(setting: Setting, value: Any) -> Any:
    """The value as the setting's kind, or ConfigError naming it."""
    shown = "(hidden)" if setting.secret else repr(value)
    kind = setting.kind
    if kind == "python":
        return value
    if kind == "text":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # QUIZ_SECRET_KEY=8472… or QUIZ_THEME_TEXT=222222 arrive as numbers
        if isinstance(value, str):
            return value
        raise ConfigError(f"{setting.name} must be text, got {shown}.")
    if kind in ("int", "number"):
        if isinstance(value, str):
            try:
                value = float(value) if kind == "number" else int(value)
            except ValueError:
                pass
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "int" and ok and float(value).is_integer():
            return int(value)
        if kind == "number" and ok:
            return value
        what = " (a whole one)" if kind == "int" else ""
        raise ConfigError(f"{setting.name} must be a number{what}, got {shown}.")
    if kind == "bool":
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{setting.name} must be true or false, got {shown}.")
    if kind == "list":
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
            # A check may read the text itself (it says what it wants); else commas.
            return value if setting.check else [v for v in re.split(r"[,;]", value) if v.strip()]
        if isinstance(value, list | tuple):
            return list(value)
        raise ConfigError(f'{setting.name} must be a list, e.g. \'["a", "b"]\', got {shown}.')
    raise ConfigError(f"{setting.name}: unknown kind {kind!r} in the settings schema")


def is_development(app: Flask) -> bool:
    """True for local development and tests, where relaxed defaults are allowed.

    Only ENV decides: debug (QUIZ_DEBUG, FLASK_DEBUG) never relaxes a check.
    """
    return in_development(app.config)


def in_development(config: Mapping[str, Any]) -> bool:
    """is_development, from the settings themselves (a spa's are the install's on top)."""
    return config.get("ENV") in DEVELOPMENT


def check_production(app: Flask) -> None:
    """Production stays production: no debug, and the Host header is checked."""
    if is_development(app):
        return
    if app.debug or app.config.get("DEBUG"):
        raise ConfigError(
            "Debug mode is on (QUIZ_DEBUG or FLASK_DEBUG) with ENV=production. The debugger "
            "runs code for anyone who can reach it: switch debug off, or set "
            "QUIZ_ENV=development on a machine of your own."
        )
    if not app.config.get("TRUSTED_HOSTS"):
        raise ConfigError(
            "TRUSTED_HOSTS must name the host names the quiz is served at in production, "
            "so a forged Host header cannot pick links or redirects, for example:\n"
            "  export QUIZ_TRUSTED_HOSTS='[\"quiz.myspa.com\"]'"
        )


def check_secret_key(app: Flask) -> None:
    """Refuse to run outside development/testing without a real SECRET_KEY."""
    key = app.config.get("SECRET_KEY")
    if is_development(app):
        if not key:
            # Tokens signed with it do not survive a restart; fine for development.
            app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
        return
    if not _strong(key):
        raise ConfigError(
            "SECRET_KEY is missing or too weak. Set a long random value, for example:\n"
            '  export QUIZ_SECRET_KEY="$(python3 -c '
            "'import secrets; print(secrets.token_urlsafe(48))')\"\n"
            "or put SECRET_KEY = '...' in instance/config.py. (For local development, "
            "set QUIZ_ENV=development or use `make run`.)"
        )


def _strong(key: Any) -> bool:
    """Long enough, varied enough, and not a placeholder pasted from an example."""
    if not isinstance(key, str | bytes):
        return False
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    return (
        len(text) >= MIN_SECRET_KEY_LENGTH
        and len(set(text)) >= MIN_SECRET_KEY_SYMBOLS
        and text.strip().lower() not in _PLACEHOLDER_KEYS
        and not any(word in text.lower() for word in ("changeme", "change-me", "your-secret"))
    )


def check_shared_limits(config: Mapping[str, Any], workers: int) -> None:
    """Refuse per-process rate-limit counters when several processes serve in production.

    With `memory://` each worker counts apart: 4 workers let 20 wrong
    passwords through a limit of 5 (and 4 times the callbacks). The embedded
    default (`make run`, one process) keeps memory://.
    """
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if workers <= 1 or config.get("ENV") in DEVELOPMENT or not config.get("RATELIMIT_ENABLED"):
        return
    if uri.startswith("memory://"):
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI is memory://, which counts in each of the {workers} "
            f"workers apart: the sign-in and callback limits would allow {workers} times "
            "as many tries. Share one store between them, for example:\n"
            "  export QUIZ_RATELIMIT_STORAGE_URI='redis://127.0.0.1:6379'\n"
            "or serve with one worker (GUNICORN_WORKERS=1)."
        )


def check_server(workers: int) -> None:
    """The settings' checks, once, before a server with `workers` processes starts any.

    gunicorn's master calls this (gunicorn.conf.py, on_starting): a mistake is
    printed once and nothing is forked. Left to the workers, each would stop on
    its own, and two stopping together make gunicorn print a traceback of its own.
    The settings are read as create_app reads them (instance/config.py, QUIZ_*).
    """
    app = Flask("quiz", instance_relative_config=True)
    load_config(app, None)
    check_shared_limits(app.config, workers)
