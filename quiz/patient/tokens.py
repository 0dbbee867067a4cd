"""The callback form's protections on the cookie-less patient path.

The callback form cannot use session CSRF (no cookies on the patient path, and
third-party cookies are blocked in iframes anyway). It is protected instead by:
- a same-origin check on `Sec-Fetch-Site` / `Origin` (a cross-site page cannot
  submit it from the patient's browser);
- a signed, timestamped token issued with the form: tampered, too old, or sent
  faster than a person could fill the form means refused;
- a honeypot field (see `quiz.patient.forms`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import Flask, Request, current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from quiz.web import FRESH_MARKERS

_TOKEN_SALT = "relax-or-fill.callback-form.v1"


class TokenError(ValueError):
    """The form token is unusable; `reason` is tampered, expired or too_fast."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FormToken:
    nonce: str
    issued_at: float


def _serializer(app: Flask | None = None) -> URLSafeTimedSerializer:
    config = (app or current_app).config
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=_TOKEN_SALT)


def issue_form_token(app: Flask | None = None) -> str:
    """A fresh signed token for one showing of the callback form (`app`: outside a request)."""
    return _serializer(app).dumps({"n": secrets.token_urlsafe(16)})


def token_for_this_showing() -> str:
    """The token the form shows: a fresh one, or the render cache's marker for it.

    The render cache renders the form once as a template and fills in a token
    issued for each request (quiz.web.render_cache, `fresh`), so no two showings
    share one.
    """
    marker = request.environ.get(FRESH_MARKERS, {}).get("token")
    return marker or issue_form_token()


def check_form_token(token: str, *, now: float | None = None) -> FormToken:
    """Verify the token's signature and age; raise TokenError with the reason."""
    config = current_app.config
    try:
        payload, issued = _serializer().loads(
            token, max_age=config["FORM_MAX_AGE_SECONDS"], return_timestamp=True
        )
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("tampered") from None
    nonce = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(nonce, str) or not nonce:
        raise TokenError("tampered")
    issued_at = issued.timestamp()
    elapsed = (time.time() if now is None else now) - issued_at
    if elapsed < float(config["MIN_FILL_SECONDS"]):
        raise TokenError("too_fast")
    return FormToken(nonce=nonce, issued_at=issued_at)


def token_to_show_again(sent: str) -> str:
    """The token for a form shown again: the one sent, if still good, else a fresh one.

    Keeping it keeps the clock of the form the patient first opened, so a form
    corrected and sent at once is not "too fast", and it stays one form, one lead.
    """
    try:
        check_form_token(sent)
    except TokenError as err:
        return sent if err.reason == "too_fast" else issue_form_token()
    return sent


def own_origin(req: Request) -> str:
    """This app's origin as the browser sees it (scheme://host[:port])."""
    return f"{req.scheme}://{req.host}"


def is_cross_site_post(req: Request) -> bool:
    """True when the browser says the POST comes from another site or a null origin.

    Browsers send `Sec-Fetch-Site` on every request; when it is there it is the
    truth. Older browsers send only `Origin`. A request with neither comes from
    a non-browser client, which the signed token still has to satisfy.
    """
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site != "same-origin"
    origin = req.headers.get("Origin")
    if origin is None:
        return False
    return origin != own_origin(req)
