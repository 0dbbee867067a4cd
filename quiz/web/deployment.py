"""Running behind reverse proxies: ProxyFix with a hop count, and TRUSTED_HOSTS.

PROXY_FIX_HOPS is how many proxies stand in front of the app (0: none, the app
faces the clients). With N, the last N `X-Forwarded-For/-Proto/-Host/-Port`
values are believed: the client's address for the rate limit and consent
record, https for the Origin check and links. Never set it higher than the
real number of proxies, or a client can forge its address.

TRUSTED_HOSTS (Flask's own setting) lists the host names the app answers to;
any other Host header gets a 400. A JSON list in QUIZ_TRUSTED_HOSTS, or a
comma-separated string.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import SecurityError


def init_app(app: Flask) -> None:
    """A Host outside TRUSTED_HOSTS gets a plain 400 (ProxyFix itself is in quiz/stack.py)."""
    app.register_error_handler(SecurityError, _untrusted_host)


def _untrusted_host(_error: SecurityError) -> Response:
    # Plain text: no URL can be built for a host the app does not serve, so
    # the templated error page (which links back to the quiz) would fail.
    return Response("This site is not served at that address.\n", 400, mimetype="text/plain")
