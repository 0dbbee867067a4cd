"""Configuration loading and the start-up checks that refuse a bad setup."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from flask import Flask

from quiz.domain.colour import MIN_CONTRAST, contrast_ratio, parse_hex_colour
from quiz.settings import defaults

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
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{app.instance_path}/quiz.db"  # the embedded default
        )
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        # Plain HTTP on 127.0.0.1 in development: a Secure cookie would never come back.
        app.config["SESSION_COOKIE_SECURE"] = not is_development(app)
    app.config["EMBED_ORIGINS"] = parse_origins(app.config.get("EMBED_ORIGINS"))
    check_theme(app.config)
    check_numbers(app.config)
    if isinstance(app.config.get("SECRET_KEY"), int | float):
        # QUIZ_SECRET_KEY=123... is read as JSON, i.e. a number; it was meant as text.
        app.config["SECRET_KEY"] = str(app.config["SECRET_KEY"])
    check_secret_key(app)


# Numeric settings and their smallest allowed value: a typo here would otherwise
# surface as a 500 on the first callback rather than at start-up.
NUMBERS = {
    "MIN_FILL_SECONDS": 0,
    "FORM_MAX_AGE_SECONDS": 1,
    "QUIZ_CACHE_SECONDS": 0,
    "MAX_CONTENT_LENGTH": 1024,
}


def check_numbers(config: Mapping[str, Any]) -> None:
    """Refuse a numeric setting that is not a number, or is too small."""
    for name, low in NUMBERS.items():
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise ConfigError(f"{name} must be a number of at least {low}, got {value!r}.")


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
    origins = [_check_origin(entry) for entry in value]
    return list(dict.fromkeys(origins))  # duplicates dropped, order kept


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
    return _normal_origin(urlsplit(entry))


def _normal_origin(parts: SplitResult) -> str:
    # Written the way browsers serialise an origin (what postMessage and CSP
    # compare against): lower case, punycode host, no default port.
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ConfigError(f"EMBED_ORIGINS entry has an invalid host name: {host!r}") from None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


# --- theme -------------------------------------------------------------------

# Text sits on white and on the accent's light tint (never darker than this).
_DARKEST_TINT = "#ececec"
_FONT = re.compile(r"[A-Za-z0-9 ,_\-\"']{1,200}")
_RADIUS = re.compile(r"(0|\d{1,2}(\.\d{1,2})?(px|rem|em))")


def check_theme(config: dict[str, Any]) -> None:
    """Validate and normalise THEME_*; a value that would break the widget stops start-up."""
    for key, background in (("THEME_ACCENT", "#ffffff"), ("THEME_TEXT", _DARKEST_TINT)):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # QUIZ_THEME_TEXT=222222 arrives as a number
        colour = parse_hex_colour(value) if isinstance(value, str) else None
        if colour is None:
            raise ConfigError(f"{key} must be a hex colour such as #7a3e6d, got {value!r}")
        ratio = contrast_ratio(colour, background)
        if ratio < MIN_CONTRAST:
            raise ConfigError(
                f"{key} {colour} is too light to read on {background} (contrast "
                f"{ratio:.1f}:1, needs {MIN_CONTRAST}:1); pick a darker shade"
            )
        config[key] = colour

    font = config.get("THEME_FONT")
    if (
        not isinstance(font, str)
        or not _FONT.fullmatch(font.strip())
        or font.count('"') % 2
        or font.count("'") % 2
    ):
        raise ConfigError(
            f"THEME_FONT must be a CSS font-family list of installed fonts, such as "
            f"'Georgia, serif' (letters, digits, spaces, commas, hyphens, quotes), got {font!r}; "
            "web fonts are not loaded, so nothing comes from a third party"
        )
    config["THEME_FONT"] = font.strip()

    radius = config.get("THEME_RADIUS")
    if isinstance(radius, int | float) and not isinstance(radius, bool) and 0 <= radius < 100:
        radius = f"{radius:g}px"
    if not isinstance(radius, str) or not _RADIUS.fullmatch(radius.strip()):
        raise ConfigError(
            f"THEME_RADIUS must be a length such as 10px, 0.5rem or 0, got {radius!r}"
        )
    config["THEME_RADIUS"] = radius.strip()
