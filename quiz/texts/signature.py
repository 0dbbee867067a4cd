"""Twilio's request signature: X-Twilio-Signature on every webhook it calls.

base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value,
sorted by name, and a name's several values sorted too)). The URL is the one
configured in Twilio's console, which here is always STAFF_BASE_URL + the
path, never built from the request's Host header (an attacker chooses that;
behind a proxy it is not the public one).
Pure: no Flask.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature Twilio sends for a POST of `params` to `url`."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_signed(auth_token: str, url: str, params: Iterable[tuple[str, str]], sent: str) -> bool:
    """True when `sent` is the signature of this request (compared in constant time)."""
    if not auth_token or not sent:
        return False
    return hmac.compare_digest(signature(auth_token, url, params).encode(), sent.encode())
