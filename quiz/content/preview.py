"""Previewing a content draft: the patient's pages, rendered from one editor's draft.

A preview link is `/staff/preview/<token>/quiz/...`: the token is signed with
the app's secret key, names the staff account whose draft it shows, and
expires after CONTENT_PREVIEW_SECONDS. This WSGI wrapper (inside the one
that pins the published content, outside the render cache) moves the prefix
into SCRIPT_NAME, so the patient's own views render the page and every link
they build (`url_for`) stays inside the preview; it gives the request the
draft's content instead of the published one, marks it so the render cache
never keeps it and the funnel never counts it, and makes the response
`no-store` (no ETag) so no browser or proxy keeps it either. It lets only
GET and HEAD through: a callback sent from a preview stores nothing.

The wrapper checks the token only; the staff package checks, for every
preview request, that an admin is signed in (`PREVIEW_STAFF_KEY`). A token
that is bad or expired, a POST, or a draft that does not pass the checks is
left to the staff blueprint's own route, which explains it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import Flask
from itsdangerous import BadSignature, URLSafeTimedSerializer

from quiz.content import editing as content_editing
from quiz.content.document import ContentBundle
from quiz.content.locales import parse_document
from quiz.core.model import ContentError
from quiz.db import scope
from quiz.web import CONTENT_BUNDLE, PREVIEW_STAFF, UNCACHED, UNCOUNTED

PREFIX = "/staff/preview/"
PREVIEW_STAFF_KEY = PREVIEW_STAFF  # the staff id whose draft this request shows
_SALT = "content-preview"
_KEPT_DRAFTS = 8  # parsed drafts kept per worker: one editor clicking through screens
_DROPPED = {"cache-control", "etag", "last-modified", "expires"}
StartResponse = Callable[..., Any]


def preview_token(app: Flask, staff_id: int) -> str:
    """A preview link's token: the staff member, and the spa whose draft it shows."""
    return _serializer(app).dumps({"s": staff_id, "p": scope.spa_for_insert()})


def read_token(app: Flask, token: str) -> tuple[int, int] | None:
    """(staff id, spa id) of a valid, unexpired token; None otherwise."""
    try:
        data = _serializer(app).loads(token, max_age=app.config["CONTENT_PREVIEW_SECONDS"])
    except BadSignature:
        return None
    staff_id = data.get("s") if isinstance(data, dict) else None
    spa_id = data.get("p", scope.DEFAULT_SPA_ID) if isinstance(data, dict) else None
    if not isinstance(staff_id, int) or not isinstance(spa_id, int):
        return None
    return staff_id, spa_id


class Preview:
    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.parsed: OrderedDict[tuple[int, datetime | None, int | None], ContentBundle] = (
            OrderedDict()
        )
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        token, _, rest = path[len(PREFIX) :].partition("/")
        read = read_token(self.app, token)
        if read is None or not (rest == "quiz" or rest.startswith("quiz/")):
            return self.wsgi_app(environ, start_response)
        staff_id, spa_id = read
        # The draft's spa: its draft, its name on the pages (the spa layer ends the scope).
        scope.enter(spa_id)
        bundle = self._bundle(staff_id)
        if bundle is None:
            return self.wsgi_app(environ, start_response)
        inner = dict(environ)
        inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + token
        inner["PATH_INFO"] = "/" + rest
        inner[CONTENT_BUNDLE] = bundle
        inner[UNCACHED] = True
        inner[UNCOUNTED] = True
        inner[PREVIEW_STAFF_KEY] = staff_id

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED]
            kept += [("Cache-Control", "no-store"), ("X-Robots-Tag", "noindex")]
            return start_response(status, kept, exc_info)

        return self.wsgi_app(inner, start)

    def _bundle(self, staff_id: int) -> ContentBundle | None:
        """The staff member's draft (or the latest version) parsed; None if it fails the checks."""
        with self.app.app_context():
            try:
                draft = content_editing.draft_for(staff_id)
            except ContentError:  # nothing published yet
                return None
        key = (staff_id, draft.updated_at, draft.based_on)
        with self.lock:
            bundle = self.parsed.get(key)
        if bundle is None:
            try:
                bundle = ContentBundle.of(parse_document(draft.document))
            except ContentError:
                return None
            with self.lock:
                self.parsed[key] = bundle
                while len(self.parsed) > _KEPT_DRAFTS:
                    self.parsed.popitem(last=False)
        return bundle


def _serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret_key, salt=_SALT)  # type: ignore[arg-type]
