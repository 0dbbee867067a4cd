"""Calm error pages: a message a patient understands, never a stack trace."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, current_app, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, SecurityError

from quiz.db.engine import db
from quiz.web.languages import language_from_browser

# In the page's language (`lang` or Accept-Language), like every patient page.
MESSAGES = {
    400: _l("Something in that request wasn't quite right."),
    403: _l("This form can only be sent from the quiz itself."),
    404: _l("We couldn't find that page."),
    405: _l("That isn't something this page can do."),
    413: _l("That was more than this form accepts. Please shorten what you typed and try again."),
    429: _l(
        "We've received a lot of requests from your connection. "
        "Please wait a minute and try again, or call us."
    ),
    500: _l("Something went wrong on our side. Nothing you did caused it."),
    503: _l("We can't take requests just now. Please try again in a minute, or call us."),
}


class ExceptionClassOnly(logging.Filter):
    """Logs name an exception's class, never its text or its traceback's messages.

    An exception's text may quote a patient's details (SQL parameters, form
    values) or a connection string; its class says enough to act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.getMessage()} ({record.exc_info[0].__name__})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


# Libraries that log exceptions with their text; the app's own logger too.
FILTERED_LOGGERS = ("flask-limiter", "sqlalchemy", "werkzeug")


def register(app: Flask) -> None:
    """Install the handlers for HTTP errors and unexpected exceptions, and the log filter."""
    app.register_error_handler(HTTPException, _http_error)
    # A Host outside TRUSTED_HOSTS (Flask's own setting; PROXY_FIX_HOPS says whose
    # X-Forwarded-Host to believe, in quiz/stack.py): a plain 400.
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(Exception, _unexpected)
    for logger in (app.logger, *map(logging.getLogger, FILTERED_LOGGERS)):
        if not any(isinstance(f, ExceptionClassOnly) for f in logger.filters):
            logger.addFilter(ExceptionClassOnly())


def _render(code: int, message: str) -> Response:
    fragment = "HX-Request" in request.headers
    template = "patient/_error.html" if fragment else "patient/page.html"
    html = render_template(
        template,
        partial="patient/_error.html",
        fragment=fragment,
        title=gettext("Sorry about that"),
        message=message,
    )
    response = make_response(html, code)
    response.cache_control.no_store = True
    if language_from_browser():
        response.vary.add("Accept-Language")
    return response


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    # Our own abort(400/403, "...") texts are written for patients; library
    # texts (Werkzeug's defaults, Flask-Limiter's "2 per 1 minute") are not.
    message = str(MESSAGES.get(code) or exc.name)
    if code in (400, 403) and exc.description and exc.description != type(exc).description:
        message = gettext(exc.description)  # our own abort() texts are in the catalog
    response = _render(code, message)
    allowed = getattr(exc, "valid_methods", None)
    if code == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _unexpected(exc: Exception) -> Response:
    db.session.rollback()
    # The exception's message may quote request data or SQL parameters (a
    # patient's details), so log its type and where it was raised, not its text.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    current_app.logger.error(
        "unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.path, frames
    )
    return _render(500, str(MESSAGES[500]))


def _untrusted_host(_error: SecurityError) -> Response:
    # Plain text: no URL can be built for a host the app does not serve, so
    # the templated error page (which links back to the quiz) would fail.
    return Response("This site is not served at that address.\n", 400, mimetype="text/plain")
