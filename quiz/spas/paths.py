"""/s/<slug>/…: a spa's own addresses, and the scope every request runs in.

A WSGI layer (quiz/stack.py, right after the proxy). For /s/<slug>/quiz/…
and /s/<slug>/static/… of a live spa it moves `/s/<slug>` from PATH_INFO
into SCRIPT_NAME, the way an app mounted under a prefix is served: Flask
routes the rest as the default spa's /quiz/…, and every url_for (links,
forms, htmx targets, stylesheets) keeps the prefix by itself, so a patient
who starts on a spa's quiz stays on it without one template knowing. The
render cache keys by SCRIPT_NAME too, so two spas never share a page.

Each request runs scoped to its spa (quiz/db/scope.py): the slug's, or the
default spa's for every other address; the staff console narrows it again
to the signed-in account's spa. The scope is put back when the request ends,
so nothing carries over to the next request a worker thread serves; a
streamed body (an export) is read in its request's scope (ScopedBody).

An unknown or disabled slug, or any other address under it (/s/glow/staff/),
is passed on untouched: no route matches /s/…, so Flask answers with the
app's calm 404 page. The spa's embed origins go into the environ
(quiz.web.SPA_ORIGINS) for the framing headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

from quiz.db import scope
from quiz.spas.directory import directory
from quiz.web import SPA_ORIGINS, SPA_STAMP

PREFIX = "/s/"
SERVED_UNDER = ("quiz", "static")  # the patient's pages and their files; nothing else
StartResponse = Callable[..., Any]


class SpaPaths:
    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = inner

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        spa_id = scope.DEFAULT_SPA_ID
        path = environ.get("PATH_INFO") or "/"
        if path.startswith(PREFIX):
            slug, _, rest = path[len(PREFIX) :].partition("/")
            served = directory(self.app).by_slug(slug)
            if served is not None and rest.partition("/")[0] in SERVED_UNDER:
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + slug
                environ["PATH_INFO"] = "/" + rest
                environ[SPA_ORIGINS] = served.origins
                environ[SPA_STAMP] = served.stamp
                spa_id = served.id
        token = scope.enter(spa_id)
        try:
            body = self.wsgi_app(environ, start_response)
            final = scope.current_spa()  # the request's, or its staff account's
        finally:
            scope.leave(token)
        if isinstance(body, list | tuple):
            return body  # rendered already: nothing left to read
        return ScopedBody(body, final)


class ScopedBody:
    """A response body that is iterated in its request's scope.

    A streamed body (a CSV export) reads the database after the WSGI call
    returned; without this it would read in whatever scope the thread is in
    by then. The scope is entered for each chunk and left before it is
    handed on, so it never leaks into the server's own code between chunks.
    """

    def __init__(self, body: Iterable[bytes], spa_id: int) -> None:
        self.body = body
        self.spa_id = spa_id

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self.body)
        while True:
            token = scope.enter(self.spa_id)
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                scope.leave(token)
            yield chunk

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
