"""Embedding without a browser: who may frame what, EMBED_ORIGINS, the loader, the theme."""

from __future__ import annotations

import gzip
import html as html_lib
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.routing import IntegerConverter

from quiz import create_app
from quiz.settings import ConfigError
from quiz.settings.checks import check_origins
from tests.support.app import base_config, leads
from tests.support.patient import RESULT_QUERY, valid_callback

SPA = "https://www.myspa.com"
ORIGINS = [SPA, "http://localhost:8001"]
LOADER_GZIP_BUDGET = 2000  # bytes; the aim for embed.js


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def make_app(tmp_path: Path, **config: Any) -> Flask:
    return create_app(base_config(f"sqlite:///{tmp_path}/quiz.db", **config))


def stylesheet_href(page: str) -> str:
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert match, "the page links no stylesheet"
    return html_lib.unescape(match.group(1))


# --- who may frame what -------------------------------------------------------


def _dummy(converter: object) -> Any:
    if isinstance(converter, IntegerConverter):  # row ids included
        return 1
    name = type(converter).__name__
    return {"UUIDConverter": uuid.UUID(int=1)}.get(name, "quiz.css")


def every_get_url(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, URL) for every GET route the app has, staff routes included once they exist."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()):
                continue
            values = {arg: _dummy(rule._converters[arg]) for arg in rule.arguments}
            urls.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return urls


def expect_framable_by_embed_origins(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.myspa.com http://localhost:8001" in csp
    assert "X-Frame-Options" not in response.headers


def expect_never_framed(response: Any) -> None:
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("app_config", [{"EMBED_ORIGINS": ORIGINS}])
def test_only_widget_pages_may_be_framed_and_only_by_embed_origins(
    app: Flask, client: FlaskClient
) -> None:
    checked = {"patient": 0, "other": 0}
    for endpoint, url in every_get_url(app):
        response = client.get(url)
        assert response.status_code < 500, url
        if endpoint.startswith("patient."):
            expect_framable_by_embed_origins(response)
            checked["patient"] += 1
        else:
            expect_never_framed(response)
            checked["other"] += 1
        # Strict everywhere: no inline script, nothing from another site.
        assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    assert checked["patient"] >= 5 and checked["other"] >= 4, checked


@pytest.mark.parametrize("app_config", [{"EMBED_ORIGINS": ORIGINS}])
def test_widget_error_pages_show_inside_the_frame(client: FlaskClient) -> None:
    # A bad link and a refused POST are answered in the widget, where the patient is.
    bad_link = client.get("/quiz/result?concern=nope&area=cheeks&goal=repair")
    assert bad_link.status_code == 400
    expect_framable_by_embed_origins(bad_link)
    cross_site = client.post("/quiz/callback", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    expect_framable_by_embed_origins(cross_site)


@pytest.mark.parametrize("path", ["/staff/", "/staff/login", "/quiz/nowhere", "/", "/embed.js"])
def test_staff_and_every_non_widget_response_refuse_framing(client: FlaskClient, path: str) -> None:
    expect_never_framed(client.get(path))


def test_without_embed_origins_only_the_app_itself_may_frame_the_widget(
    client: FlaskClient,
) -> None:
    response = client.get("/quiz/")
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    assert "X-Frame-Options" not in response.headers


# --- EMBED_ORIGINS ------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["https://www.myspa.com"], ["https://www.myspa.com"]),
        (["https://WWW.MySpa.com/"], ["https://www.myspa.com"]),  # as a browser writes it
        (
            ["https://www.myspa.com:443", "http://spa.test:80"],
            ["https://www.myspa.com", "http://spa.test"],
        ),
        (["http://localhost:8001"], ["http://localhost:8001"]),
        (["http://[::1]:8080"], ["http://[::1]:8080"]),
        (["https://bücher.example"], ["https://xn--bcher-kva.example"]),
        ([SPA, SPA + "/"], [SPA]),  # duplicates once
        ('["https://www.myspa.com"]', [SPA]),  # JSON text, as from QUIZ_EMBED_ORIGINS
        ([], []),
        ("", []),
    ],
)
def test_embed_origins_are_kept_as_browsers_write_origins(given: object, kept: list[str]) -> None:
    assert check_origins(given) == kept


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://www.myspa.com", "must be a JSON list of origins"),
        ('{"origin": "https://www.myspa.com"}', "must be a list of origins"),
        (["www.myspa.com"], "'www.myspa.com' must start with https://"),
        (["https://www.myspa.com/blog"], "must be an origin only: no path"),
        (["https://user@www.myspa.com"], "no path, query or credentials"),
        (["https://*.myspa.com"], "must be a plain origin"),
        (["https://a.com https://b.com"], "must be a plain origin"),
        (["https://www.myspa.com:99999"], "has an invalid port"),
        (["null"], "must start with https://"),
        ([None], "is not text"),
    ],
)
def test_malformed_embed_origin_names_the_entry_and_the_fix(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_origins(value)


def test_malformed_embed_origins_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QUIZ_EMBED_ORIGINS", '["https://www.myspa.com/quiz"]')
    with pytest.raises(ConfigError, match="EMBED_ORIGINS entry 'https://www.myspa.com/quiz'"):
        create_app(base_config(f"sqlite:///{tmp_path}/quiz.db"))


@pytest.mark.parametrize("app_config", [{"EMBED_ORIGINS": ORIGINS}])
def test_widget_pages_tell_the_widget_script_which_parents_may_hear_it(
    client: FlaskClient,
) -> None:
    page = text(client.get("/quiz/"))
    assert (
        '<body class="widget" data-embed-origins="https://www.myspa.com http://localhost:8001">'
        in page
    )


# --- the loader -----------------------------------------------------------------


def test_loader_is_a_small_cacheable_script_any_site_may_load(client: FlaskClient) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.cache_control.public and response.cache_control.max_age == 3600
    assert "Set-Cookie" not in response.headers
    again = client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    body = response.get_data()
    assert len(gzip.compress(body, compresslevel=6)) < LOADER_GZIP_BUDGET
    source = (Path(__file__).parent.parent / "quiz/static/embed.js").read_text()
    assert len(body) < len(source)  # comments and indentation are not sent
    lines = body.decode().splitlines()
    assert not [line for line in lines if line.startswith((" ", "//"))]


def test_served_loader_is_valid_javascript(client: FlaskClient, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node (the setup step installs it for npm); none on PATH")
    script = tmp_path / "embed.js"
    script.write_bytes(client.get("/embed.js").get_data())
    check = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_demo_page_embeds_with_the_real_loader_and_shows_the_snippet(client: FlaskClient) -> None:
    page = text(client.get("/"))
    assert '<div data-relax-or-fill><noscript><iframe src="http://localhost/quiz/"' in page
    assert '<script src="http://localhost/embed.js" async></script>' in page
    snippet = (
        '<div data-relax-or-fill></div>\n<script src="http://localhost/embed.js" async></script>'
    )
    assert str(escape(snippet)) in page
    assert "No site is allowed yet: only this demo page may show the quiz." in page
    # What a webmaster sends to whoever runs the quiz server, ready to copy.
    assert "whoever runs the quiz server" in page
    assert str(escape("""QUIZ_EMBED_ORIGINS='["https://www.your-spa.com"]'""")) in page


@pytest.mark.parametrize("app_config", [{"EMBED_ORIGINS": ORIGINS}])
def test_demo_page_lists_the_allowed_origins(client: FlaskClient) -> None:
    assert (
        "Sites allowed now: <code>https://www.myspa.com</code>, <code>http://localhost:8001</code>."
        in text(client.get("/"))
    )


# --- the theme ------------------------------------------------------------------


def test_pages_link_one_versioned_stylesheet_with_the_theme(client: FlaskClient) -> None:
    href = stylesheet_href(text(client.get("/quiz/concern")))
    assert re.fullmatch(r"/quiz/style\.css\?v=[0-9a-f]{12}", href)
    response = client.get(href)
    assert response.mimetype == "text/css"
    assert response.cache_control.max_age == 365 * 24 * 60 * 60 and response.cache_control.immutable
    css = text(response)
    assert css.startswith("/* Relax or Fill")
    assert css.endswith(
        ":root{--accent:#7a3e6d;--tint:#f4f0f3;--text:#1f1d24;--font:system-ui, -apple-system, "
        '"Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;--radius:10px}\n'
    )
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert client.get("/quiz/style.css?v=old").cache_control.max_age == 300


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "THEME_ACCENT": "#1A6B5C",
            "THEME_TEXT": 222,  # as QUIZ_THEME_TEXT=222 arrives (parsed as JSON)
            "THEME_FONT": " Georgia, 'Times New Roman', serif ",
            "THEME_RADIUS": 4,
        }
    ],
)
def test_theme_comes_from_configuration(client: FlaskClient) -> None:
    css = text(client.get(stylesheet_href(text(client.get("/quiz/")))))
    assert css.endswith(
        ":root{--accent:#1a6b5c;--tint:#edf3f2;--text:#222222;"
        "--font:Georgia, 'Times New Roman', serif;--radius:4px}\n"
    )


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("THEME_ACCENT", "teal", "THEME_ACCENT must be a hex colour such as #7a3e6d, got 'teal'"),
        ("THEME_ACCENT", "#ffee00", "THEME_ACCENT #ffee00 is too light to read on #ffffff"),
        ("THEME_TEXT", "#999999", "THEME_TEXT #999999 is too light to read on #ececec"),
        ("THEME_FONT", "Arial; } body { display: none", "THEME_FONT must be a CSS font-family"),
        (
            "THEME_FONT",
            "url(https://fonts.example/a.woff2)",
            "THEME_FONT must be a CSS font-family",
        ),
        ("THEME_FONT", "'Open Sans, sans-serif", "THEME_FONT must be a CSS font-family"),
        ("THEME_RADIUS", "10vw", "THEME_RADIUS must be a length such as 10px"),
        ("THEME_RADIUS", "-2px", "THEME_RADIUS must be a length such as 10px"),
        ("THEME_RADIUS", True, "THEME_RADIUS must be a length such as 10px"),
    ],
)
def test_bad_theme_stops_start_up_with_a_clear_message(
    tmp_path: Path, setting: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_app(tmp_path, **{setting: value})


def test_container_accent_travels_with_every_step(client: FlaskClient) -> None:
    page = text(client.get("/quiz/concern?utm_source=site&accent=1A6B5C"))
    href = stylesheet_href(page)
    assert href.endswith("&accent=1a6b5c")
    # Hidden fields and the back link carry it, so every later page links the same stylesheet.
    assert '<input type="hidden" name="accent" value="1a6b5c">' in page
    assert "/quiz/?utm_source=site&amp;accent=1a6b5c" in page
    css = text(client.get(href))
    assert css.endswith(":root{--accent:#1a6b5c;--tint:#edf3f2}\n")
    # Still a pure function of its URL: the same bytes, so the same ETag.
    again = client.get("/quiz/concern?utm_source=site&accent=1A6B5C")
    assert (
        again.headers["ETag"]
        == client.get("/quiz/concern?utm_source=site&accent=1A6B5C").headers["ETag"]
    )


@pytest.mark.parametrize("accent", ["ffee00", "zzzzzz", "1a6b5c;}", "#1a6b5c5", "red"])
def test_unreadable_or_malformed_accent_is_ignored(client: FlaskClient, accent: str) -> None:
    page = text(client.get("/quiz/", query_string={"accent": accent}))
    assert "accent" not in stylesheet_href(page) and 'name="accent"' not in page
    plain = client.get(stylesheet_href(text(client.get("/quiz/")))).get_data()
    served = client.get("/quiz/style.css", query_string={"accent": accent}).get_data()
    assert served == plain


def test_accent_survives_the_callback_post_and_is_not_stored(
    app: Flask, client: FlaskClient
) -> None:
    data = valid_callback(client, RESULT_QUERY + "&accent=1a6b5c")
    assert data["accent"] == ["1a6b5c"]
    thanks = text(
        client.post("/quiz/callback", data=data, headers={"Sec-Fetch-Site": "same-origin"})
    )
    assert "will call you within one business day" in thanks
    assert stylesheet_href(thanks).endswith("&accent=1a6b5c")
    (lead,) = leads(app)
    assert "1a6b5c" not in repr({k: v for k, v in vars(lead).items() if not k.startswith("_")})
