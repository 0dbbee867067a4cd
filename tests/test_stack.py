"""The WSGI layers (quiz/stack.py): their order, and what each one sees of the others.

Through the real app on a SQLite file: the chain of wrappers is walked from
the outside in, and each layer's promise is checked from outside, as a proxy,
a patient and a staff member would meet it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request, request_started
from werkzeug.middleware.proxy_fix import ProxyFix

from quiz import create_app
from quiz.content.live import LiveContent
from quiz.content.preview import Preview, preview_token
from quiz.db.engine import db
from quiz.db.models import StaffUser
from quiz.spas import SpaPaths
from quiz.staff import signin
from quiz.staff.signin import BusySignIn
from quiz.web.render_cache import RenderCache
from tests.support.app import base_config
from tests.support.staff import ADMIN_EMAIL, ADMIN_PASSWORD, create_staff, signed_in_client

ORDER = ("proxy", "spa", "busy sign-in", "live content", "preview", "render cache")
RESULT = "/quiz/result?concern=expression&area=forehead&goal=prevent"


def make(database_uri: str, **config: Any) -> Flask:
    return create_app(base_config(database_uri, **config))


def chain(app: Flask) -> list[type]:
    """The wrappers' types from the outermost in, down to Flask's own WSGI callable."""
    found, layer = [], app.wsgi_app
    while getattr(layer, "__self__", None) is not app:
        found.append(type(layer))
        layer = layer.app if isinstance(layer, ProxyFix) else layer.wsgi_app
    return found


def flask_requests(app: Flask) -> list[str]:
    """The paths that reached Flask (its request_started signal), as they arrive."""
    seen: list[str] = []
    request_started.connect(lambda sender, **_: seen.append(request.path), app, weak=False)
    return seen


def test_the_layers_wrap_the_app_in_their_order(database_uri: str) -> None:
    app = make(database_uri, PROXY_FIX_HOPS=1)
    assert app.extensions["quiz_stack"] == ORDER
    assert chain(app) == [ProxyFix, SpaPaths, BusySignIn, LiveContent, Preview, RenderCache]
    # Without a proxy in front, ProxyFix is left out and the rest keep their order.
    bare = make(database_uri)
    assert chain(bare) == [SpaPaths, BusySignIn, LiveContent, Preview, RenderCache]


def test_a_busy_sign_in_never_reaches_flask_and_sees_the_proxys_scheme(
    database_uri: str,
) -> None:
    app = make(
        database_uri,
        PROXY_FIX_HOPS=1,
        STAFF_PASSWORD_CHECKS_AT_ONCE=1,
        STAFF_PASSWORD_CHECKS_WAITING=0,
    )
    app.config["ENV"] = "production"  # HSTS is sent in production only, and over https only
    seen = flask_requests(app)
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with signin.gate(app).slot():  # a check running: the one slot taken, no place in line
        busy = client.post("/staff/login", data={"email": "a@b.example"}, headers=headers)
    assert busy.status_code == 429
    assert seen == []  # answered in front of Flask
    # ProxyFix ran first: the 429 knows the request came over https.
    assert "Strict-Transport-Security" in busy.headers
    free = client.post("/staff/login", data={"email": "a@b.example"}, headers=headers)
    assert free.status_code == 400 and seen  # the gate free: Flask's CSRF check answers


def test_a_kept_page_is_served_without_flask_and_a_preview_is_never_kept(
    database_uri: str,
) -> None:
    app = make(database_uri)
    create_staff(app, ADMIN_EMAIL, ADMIN_PASSWORD, "admin")
    seen = flask_requests(app)
    client = app.test_client(use_cookies=False)
    assert client.get(RESULT).status_code == 200
    assert client.get(RESULT).status_code == 200
    assert seen.count("/quiz/result") == 1  # the second came from the render cache
    with app.app_context():
        staff_id = db.session.query(StaffUser.id).scalar()
    token = preview_token(app, staff_id)
    admin = signed_in_client(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    url = f"/staff/preview/{token}{RESULT}"
    for _ in range(2):
        response = admin.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    # The preview passed the render cache both times (marked uncached by the layer above it).
    assert seen.count("/quiz/result") == 3


@pytest.mark.parametrize("hops", [0, 1])
def test_the_live_content_layer_gives_the_render_cache_its_version(
    database_uri: str, hops: int
) -> None:
    app = make(database_uri, PROXY_FIX_HOPS=hops)
    cache: RenderCache = app.extensions["render_cache"]
    client = app.test_client(use_cookies=False)
    client.get(RESULT)
    [key] = list(cache.lru._entries)
    served = app.extensions["quiz_content_bundle"]
    assert served.version in key  # keyed by the version the live layer took
