"""Security and caching headers on the widget, the demo page and the script bundle."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from quiz.embed.bundle import PARTS


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
