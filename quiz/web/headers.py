"""Response headers for every page: a strict CSP, framing rules, no sniffing.

Widget pages (the patient blueprint, and any view that marks itself with
`request.widget_page`) may be framed by EMBED_ORIGINS; nothing else may.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, current_app, request

from quiz.web import SPA_ORIGINS

_BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


# Features no page here uses: a page cannot be made to ask for them.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), display-capture=(), browsing-topics=()"
)


def frame_ancestors(app: Flask, origins: Iterable[str] | None = None) -> str:
    """The widget's frame-ancestors: this app itself and EMBED_ORIGINS (or a spa's own)."""
    return " ".join(["'self'", *(app.config["EMBED_ORIGINS"] if origins is None else origins)])


def security_headers(
    app: Flask, *, widget: bool, secure: bool, origins: Iterable[str] | None = None
) -> dict[str, str]:
    """The headers every response carries; widget pages may be framed by EMBED_ORIGINS."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        # A page this app opens, or that opens it, gets no handle on the other's window.
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    hsts = app.config["HSTS_SECONDS"]
    if hsts and secure and app.config["ENV"] == "production":
        headers["Strict-Transport-Security"] = f"max-age={hsts}"
    ancestors = frame_ancestors(app, origins) if widget else "'none'"
    if not widget:
        headers["X-Frame-Options"] = "DENY"
    headers["Content-Security-Policy"] = f"{_BASE_CSP}; frame-ancestors {ancestors}"
    return headers


# Set whatever the view said; these are the framing rules' own, always set here.
_FORCED = frozenset({"X-Frame-Options", "Content-Security-Policy"})


def apply_security_headers(response: Response) -> Response:
    """Set CSP and friends; widget pages may be framed by EMBED_ORIGINS, nothing else may."""
    widget = bool(request.blueprint == "patient" or getattr(request, "widget_page", False))
    headers = response.headers
    if widget:
        headers.pop("X-Frame-Options", None)
    # A spa's pages (/s/<slug>/…) may be framed by that spa's origins only.
    origins = request.environ.get(SPA_ORIGINS)
    for name, value in security_headers(
        current_app, widget=widget, secure=request.is_secure, origins=origins
    ).items():
        if name in _FORCED:
            headers[name] = value
        else:
            headers.setdefault(name, value)
    return response
