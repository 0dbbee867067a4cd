"""Response headers for every page: a strict CSP, framing rules, no sniffing.

Widget pages (the patient blueprint, and any view that marks itself with
`request.widget_page`) may be framed by EMBED_ORIGINS; nothing else may.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

_BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


# Features no page here uses: a page cannot be made to ask for them.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), display-capture=(), browsing-topics=()"
)


def frame_ancestors(app: Flask) -> str:
    """The widget's frame-ancestors source list: this app itself and EMBED_ORIGINS."""
    return " ".join(["'self'", *app.config["EMBED_ORIGINS"]])


def apply_security_headers(response: Response) -> Response:
    """Set CSP and friends; widget pages may be framed by EMBED_ORIGINS, nothing else may."""
    widget = bool(request.blueprint == "patient" or getattr(request, "widget_page", False))
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    # A page this app opens, or that opens it, gets no handle on the other's window.
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    hsts = current_app.config["HSTS_SECONDS"]
    if hsts and request.is_secure and current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
    if widget:
        ancestors = frame_ancestors(current_app)
        headers.pop("X-Frame-Options", None)
    else:
        ancestors = "'none'"
        headers["X-Frame-Options"] = "DENY"
    headers["Content-Security-Policy"] = f"{_BASE_CSP}; frame-ancestors {ancestors}"
    return response
