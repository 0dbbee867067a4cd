"""The fast 429 for a sign-in that finds this worker's password gate and its line full.

A WSGI middleware in front of Flask (inside ProxyFix, outside the render
cache): a POST to the sign-in page while every slot of this worker's password
gate is taken is answered here, before Flask builds a request, opens the
session, checks CSRF, asks the limits' store or renders a page. A flood of
sign-ins, most of which find the gate full, then costs the quiz's workers
about what parsing the request costs (in Flask, with the hooks and headers,
the same 429 took about 0.22 ms of CPU; here about 0.01 ms). Nothing is
counted (no password was checked); the person signing in is told to try
again in a moment. The answer carries every header a page here carries
(quiz.web.headers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from markupsafe import escape

from quiz.staff import signin
from quiz.web.headers import security_headers

LOGIN_PATH = "/staff/login"  # the blueprint's prefix and route (a test checks url_for agrees)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BusySignIn:
    """Answers 429 to a sign-in while this worker's gate and its line are full; else passes on."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.gate = signin.gate(app)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") != LOGIN_PATH
            or not self.gate.is_full()
        ):
            return self.wsgi_app(environ, start_response)
        login_url = escape(environ.get("SCRIPT_NAME", "") + LOGIN_PATH)
        body = (
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>Staff sign-in</title>'
            f'<p role="alert">{escape(signin.BUSY)}</p>'
            f'<p><a href="{login_url}">Sign in</a></p></html>'
        ).encode()
        secure = environ.get("wsgi.url_scheme") == "https"
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(signin.BUSY_RETRY_SECONDS)),
            ("Cache-Control", "no-store"),
            *security_headers(self.app, widget=False, secure=secure).items(),
        ]
        start_response("429 TOO MANY REQUESTS", headers)
        return [body]
