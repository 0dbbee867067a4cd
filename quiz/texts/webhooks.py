"""POST /sms/inbound and POST /sms/status: Twilio's webhooks, signed, answered with empty TwiML.

Each request is checked first against X-Twilio-Signature, computed over
STAFF_BASE_URL + the path (the address set in Twilio's console; never the
request's own Host, which a sender chooses and a proxy rewrites). Unsigned
or forged: 403, nothing stored. Signed but not a message (no MessageSid, a
From that is no number): 400, nothing stored. With texting off: 404.
Oversized bodies get the app's 413 (MAX_CONTENT_LENGTH) before any of this.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, request

from quiz.core.clock import utcnow
from quiz.db import scope
from quiz.spas import texting_spa
from quiz.texts.incoming import BadRequest, parse_inbound, receive, record_status
from quiz.texts.settings import INBOUND_PATH, STATUS_PATH, TextSettings, text_settings
from quiz.texts.signature import is_signed

bp = Blueprint("texts", __name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SIGNATURE_HEADER = "X-Twilio-Signature"


def _signed(settings: TextSettings, url: str) -> dict[str, str]:
    """The form, when Twilio signed this request for `url`; otherwise 403."""
    params = [(name, value) for name, values in request.form.lists() for value in values]
    sent = request.headers.get(SIGNATURE_HEADER, "")
    if not is_signed(settings.sms.auth_token, url, params, sent):
        current_app.logger.warning("texts: %s refused, signature missing or wrong", request.path)
        abort(403, "This address takes only requests signed by the SMS provider.")
    return {name: request.form[name] for name in request.form}


def _twiml() -> Response:
    return Response(EMPTY_TWIML, 200, {"Content-Type": "text/xml; charset=utf-8",
                                       "Cache-Control": "no-store"})  # fmt: skip


def _webhook(
    url_of: Callable[[TextSettings], str],
    handle: Callable[[dict[str, str]], object],
    our_number: str,
) -> Response:
    """What both webhooks do: 404 with texting off, 403 unsigned, 400 no message, else TwiML.

    The rest of the request is the spa's whose number `our_number` names (the
    form's To for a patient's text, From for a delivery report): one webhook
    address serves every spa of the install, each text reaching its own.
    """
    spa = texting_spa(current_app, request.form.get(our_number, ""),
                      request.form.get("MessagingServiceSid", ""))  # fmt: skip
    scope.enter(spa)  # the request's own scope is put back when it ends (quiz.spas)
    settings = text_settings()
    if settings is None:
        abort(404)
    form = _signed(settings, url_of(settings))
    try:
        handle(form)
    except BadRequest as err:
        abort(400, str(err))
    return _twiml()


def _receive(form: dict[str, str]) -> None:
    message = parse_inbound(form)
    if not receive(message, utcnow()):
        current_app.logger.info("texts: message %s received before; kept once", message.sid)


@bp.post(INBOUND_PATH)
def inbound() -> Response:
    return _webhook(lambda settings: settings.inbound_url, _receive, "To")


@bp.post(STATUS_PATH)
def status() -> Response:
    return _webhook(lambda settings: settings.status_url, record_status, "From")
