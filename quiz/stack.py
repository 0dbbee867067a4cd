"""The WSGI layers in front of Flask, in one ordered list: the outermost first.

A request meets them in this order, and each relies on the ones before it:

1. proxy: ProxyFix (PROXY_FIX_HOPS), so every layer below sees the client's
   address, scheme and host, not the proxy's.
2. spa: /s/<slug>/… becomes that spa's /quiz/… (the prefix moves into
   SCRIPT_NAME), and every request runs scoped to its spa (quiz/spas/paths.py):
   everything below, the render cache's funnel counts included, sees it.
3. busy sign-in: while this worker's password-check gate and its line are
   full, a sign-in POST gets the fast 429 here; it never reaches Flask.
4. live content: takes this request's content version into the environ
   (quiz.web.CONTENT_BUNDLE), so everything below renders one version.
5. preview: /staff/preview/<token>/quiz/…: replaces that bundle with the
   staff member's draft and marks the request uncached and uncounted, so
   the render cache below never keeps or serves a draft.
6. render cache: a patient page rendered once is served again without Flask,
   keyed by the version the live content layer (or the preview) chose.

`build` wraps the app once, innermost first, and records the names in
app.extensions["quiz_stack"]; tests/test_stack.py asserts the order and what
each layer sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from quiz.content import live as live_content
from quiz.content import preview
from quiz.content.document import ContentBundle, ContentDocument
from quiz.funnel.counter import recorder
from quiz.spas import SpaPaths
from quiz.staff.signin import BusySignIn
from quiz.web import SPA_STAMP, languages
from quiz.web.render_cache import RenderCache

WsgiApp = Callable[..., Iterable[bytes]]
Layer = Callable[[Flask, WsgiApp], WsgiApp]


def _proxy(app: Flask, inner: WsgiApp) -> WsgiApp:
    hops = app.config["PROXY_FIX_HOPS"]
    if not hops:
        return inner  # the app faces the clients: nothing to believe
    return ProxyFix(inner, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[arg-type]


def _render_cache(app: Flask, inner: WsgiApp) -> WsgiApp:
    return RenderCache(
        app,
        inner,
        # The content version, and a spa's details (its phone, booking links…) with it.
        version=lambda environ: (
            live_content.bundle_of(environ, app).version + environ.get(SPA_STAMP, "")
        ),
        variant=languages.environ_language(app),
        count=lambda event: recorder(app).record(event),
    )


def layers(files: ContentDocument, bundle: ContentBundle) -> tuple[tuple[str, Layer], ...]:
    """The layers, outermost first (`files` and `bundle`: what the live switch starts with)."""
    return (
        ("proxy", _proxy),
        ("spa", SpaPaths),
        ("busy sign-in", BusySignIn),
        ("live content", lambda app, inner: live_content.LiveContent(app, inner, files, bundle)),
        ("preview", preview.Preview),
        ("render cache", _render_cache),
    )


def build(app: Flask, files: ContentDocument, bundle: ContentBundle) -> None:
    """Wrap app.wsgi_app in every layer, innermost first (once, at start-up)."""
    wsgi: Any = app.wsgi_app
    ordered = layers(files, bundle)
    for _name, layer in reversed(ordered):
        wsgi = layer(app, wsgi)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    app.extensions["quiz_stack"] = tuple(name for name, _ in ordered)
