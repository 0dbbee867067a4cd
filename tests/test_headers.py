"""Security and caching headers on the widget, the demo page and the script bundle."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from quiz import create_app
from quiz.embed.bundle import PARTS
from tests.support.app import base_config


@pytest.mark.parametrize("app_config", [{"EMBED_ORIGINS": ["https://www.myspa.com"]}])
def test_widget_may_be_framed_by_embed_origins_only(client: FlaskClient) -> None:
    response = client.get("/quiz/concern")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.myspa.com" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_demo_page_cannot_be_framed(client: FlaskClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_use_no_inline_script_or_style(client: FlaskClient) -> None:
    for url in ["/", "/quiz/", "/quiz/result?concern=volume&area=cheeks&goal=repair"]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "<style" not in html
        assert ' style="' not in html.replace("style=&#34;border:0&#34;", "")


def test_script_bundle_holds_htmx_and_widget_js(client: FlaskClient) -> None:
    page = client.get("/quiz/").get_data(as_text=True)
    src = page.split('<script src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    response = client.get(src)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    body = response.get_data(as_text=True)
    for part in PARTS:
        assert part.read_text().strip()[:200] in body, part
    assert response.cache_control.max_age == 365 * 24 * 60 * 60
    assert client.get(src, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert "Set-Cookie" not in response.headers


# Every kind of response: a patient page and fragment, the result, the callback form and
# its POST, a 400, a 404, the demo page, the loader, the script, the stylesheet, a static
# file, /healthz, the staff sign-in page.
EVERY_KIND = [
    ("GET", "/quiz/", {}),
    ("GET", "/quiz/concern", {"HX-Request": "true"}),
    ("GET", "/quiz/result?concern=volume&area=cheeks&goal=repair", {}),
    ("GET", "/quiz/callback?concern=volume&area=cheeks&goal=repair", {}),
    ("POST", "/quiz/callback", {}),
    ("GET", "/quiz/result?concern=nope", {}),
    ("GET", "/no-such-page", {}),
    ("GET", "/", {}),
    ("GET", "/embed.js", {}),
    ("GET", "/quiz/widget.js", {}),
    ("GET", "/quiz/style.css", {}),
    ("GET", "/static/demo.js", {}),
    ("GET", "/healthz", {}),
    ("GET", "/staff/login", {}),
]


@pytest.mark.parametrize(
    ("method", "url", "headers"), EVERY_KIND, ids=[u for _, u, _ in EVERY_KIND]
)
def test_every_response_limits_features_and_openers(
    client: FlaskClient, method: str, url: str, headers: dict[str, str]
) -> None:
    response = client.open(url, method=method, headers=headers)
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


PRODUCTION = {
    "ENV": "production",
    "TESTING": False,
    "SECRET_KEY": "production-secret-for-headers-0123456789",
    "TRUSTED_HOSTS": ["quiz.myspa.example"],
}


@pytest.mark.parametrize(
    ("method", "url", "headers"), EVERY_KIND, ids=[u for _, u, _ in EVERY_KIND]
)
def test_production_over_https_sends_hsts_on_every_response(
    database_uri: str, method: str, url: str, headers: dict[str, str]
) -> None:
    app = create_app(base_config(database_uri, **PRODUCTION))
    client = app.test_client(use_cookies=False)
    response = client.open(
        url, method=method, headers=headers, base_url="https://quiz.myspa.example"
    )
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_over_plain_http_in_development_or_when_switched_off(database_uri: str) -> None:
    plain = create_app(base_config(database_uri, **PRODUCTION)).test_client()
    assert (
        "Strict-Transport-Security"
        not in plain.get("/quiz/", base_url="http://quiz.myspa.example").headers
    )
    development = create_app(base_config(database_uri, ENV="development")).test_client()
    assert (
        "Strict-Transport-Security"
        not in development.get("/quiz/", base_url="https://localhost").headers
    )
    off = create_app(base_config(database_uri, **PRODUCTION, HSTS_SECONDS=0)).test_client()
    assert (
        "Strict-Transport-Security"
        not in off.get("/quiz/", base_url="https://quiz.myspa.example").headers
    )
