"""Checks of single settings that need more than a type and a range.

Each takes the value and returns it normalised, or raises ConfigError with a
message that names the setting and says how to fix it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from quiz.settings import ConfigError


def check_origins(value: Any) -> list[str]:
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


def check_region(value: str) -> str:
    """A region phonenumbers knows, such as US or GB."""
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"PHONE_DEFAULT_REGION must be a two-letter region such as US, got {value!r}."
        )
    return region


def check_regions(value: list[str] | str) -> list[str]:
    """A list of regions phonenumbers knows (a comma-separated string is accepted)."""
    if isinstance(value, str):
        value = value.split(",")
    regions = []
    for entry in value:
        region = str(entry).strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(
                f"PHONE_ALLOWED_REGIONS has {entry!r}; use two-letter regions such as US, CA."
            )
        regions.append(region)
    if not regions:
        raise ConfigError("PHONE_ALLOWED_REGIONS is empty; leave it unset for the default region.")
    return regions


def check_time_zone(value: str) -> str:
    """An IANA time zone name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"STAFF_TIMEZONE {value!r} is not a time zone; use a name such as 'America/New_York'."
        ) from None
    return value


def check_trusted_hosts(value: list[str] | str) -> list[str] | None:
    """Host names, lower case; a comma-separated string is accepted too; empty means any."""
    if isinstance(value, str):
        value = value.split(",")
    hosts = [str(h).strip().lower() for h in value if str(h).strip()]
    return hosts or None


def check_language(value: str) -> str:
    """A language code such as en or es (which ones the quiz has is checked at start-up)."""
    code = str(value).strip().lower()
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        raise ConfigError(
            f"DEFAULT_LANGUAGE must be a language code such as en or es, got {value!r}."
        )
    return code


def check_languages(value: list[str]) -> list[str]:
    """Language codes, none twice (which ones the quiz has is checked where they are served)."""
    codes = []
    for entry in value:
        code = str(entry).strip().lower()
        if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
            raise ConfigError(f"LANGUAGES has {entry!r}; use language codes such as en, es.")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ConfigError("LANGUAGES is empty; leave it unset to offer every language.")
    return codes


def check_windows(value: dict[str, str]) -> dict[str, str]:
    """Per language, the callback window in that language's words."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise ConfigError(
            'SPA_CALLBACK_WINDOWS must map languages to texts, e.g. {"es": "en un día hábil"}.'
        )
    return {k.strip().lower(): v.strip() for k, v in value.items()}


def is_loopback(host: str | None) -> bool:
    """True for a literal loopback address, or `localhost` when it resolves to loopback only.

    A clear-text connection (http, SMTP without TLS) is allowed to loopback
    alone. Deciding by the name's look let `127.evil.example` through; other
    names are not resolved to decide, because what DNS answers at start-up
    need not be what it answers at send time.
    """
    name = (host or "").strip().strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name != "localhost":
        return False
    try:
        found = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(f[4][0]).is_loopback for f in found)
