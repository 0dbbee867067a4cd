"""Embedding: the loader script a webmaster pastes, and the widget's themed stylesheet.

`GET /embed.js` is quiz/static/embed.js with its comment lines and indentation
removed (a safe, dependency-free shrink; the file is written for it), and the
iframe's title in each of the quiz's languages filled in from the catalogs, so
a screen reader announces the widget in the language it speaks. Its URL
carries no version, because webmasters paste it once: it is cached for an hour
and revalidated with its ETag.

`GET /quiz/style.css` is quiz/static/quiz.css followed by the theme from
configuration (THEME_*; a spa's own at /s/<slug>/quiz/style.css) as CSS
custom properties, and, with `?accent=rrggbb`, the container's own accent.
Theming rides in the one stylesheet the page already links, so it costs no
extra request, needs no inline `<style>` (the CSP stays `style-src 'self'`),
and each page stays a pure function of its URL: the accent travels in the URL
like the answers do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from babel.support import Translations
from flask import Blueprint, Flask, Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

from quiz.core import BASE_LOCALE, N_
from quiz.core.colour import mix_with_white, read_accent
from quiz.embed.served import Served, versioned_response
from quiz.web import SPA_ORIGINS
from quiz.web.render_cache import render_cache
from quiz.web.spa_settings import declare, for_spa
from quiz.web.urls import fixed_url

bp = Blueprint("embed", __name__)

STATIC = Path(__file__).parent.parent / "static"
LOADER_SOURCE = STATIC / "embed.js"
STYLESHEET_SOURCE = STATIC / "quiz.css"
LOADER_MAX_AGE = 60 * 60
TINT_SHARE = 0.08  # how much accent is in the light background behind chosen answers
IFRAME_TITLE = N_("Relax or fill? A three-question guide")


def shrink_script(source: str) -> str:
    """The script without comment-only lines, blank lines and indentation."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


def iframe_titles(app: Flask) -> dict[str, str]:
    """The iframe's title in each of the quiz's languages, from the interface's catalogs."""
    folder = Path(app.root_path) / "translations"
    titles: dict[str, str] = {}
    for lang in app.extensions["quiz_languages"]:
        # English is the catalog's source language: no catalog to read.
        catalog = None if lang == BASE_LOCALE else Translations.load(str(folder), [lang])
        titles[lang] = catalog.ugettext(IFRAME_TITLE) if catalog else IFRAME_TITLE
    return titles


def loader_script(app: Flask) -> str:
    """embed.js as served: shrunk, with the titles and the default language filled in."""
    script = shrink_script(LOADER_SOURCE.read_text(encoding="utf-8"))
    # JSON is JavaScript; ensure_ascii keeps the served file ASCII whatever the language.
    titles = json.dumps(iframe_titles(app), sort_keys=True)
    default = json.dumps(app.config["DEFAULT_LANGUAGE"])
    filled = {
        "var TITLES = {};": f"var TITLES = {titles};",
        'var DEFAULT_LANG = "en";': f"var DEFAULT_LANG = {default};",
    }
    for placeholder, value in filled.items():
        if script.count(placeholder) != 1:
            raise RuntimeError(f"quiz/static/embed.js should say {placeholder!r} once")
        script = script.replace(placeholder, value)
    return script


def theme_rule(accent: str | None = None, config: Any = None) -> str:
    """The `:root` custom properties for the configured theme, or just an accent override."""
    if accent is not None:
        return f":root{{--accent:{accent};--tint:{mix_with_white(accent, TINT_SHARE)}}}\n"
    return (
        f":root{{--accent:{config['THEME_ACCENT']};"
        f"--tint:{mix_with_white(config['THEME_ACCENT'], TINT_SHARE)};"
        f"--text:{config['THEME_TEXT']};--font:{config['THEME_FONT']};"
        f"--radius:{config['THEME_RADIUS']}}}\n"
    )


@bp.get("/embed.js")
def loader() -> Response:
    """The loader script: finds `<div data-relax-or-fill>` and inserts the widget's iframe."""
    script: Served = current_app.extensions["quiz_loader"]
    response = Response(script.body, mimetype="text/javascript")
    response.set_etag(script.version)
    response.cache_control.public = True
    response.cache_control.max_age = LOADER_MAX_AGE
    # A classic <script> needs neither, but a host page with COEP, or one that
    # adds crossorigin="anonymous" for error reports, still gets the file.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/quiz/style.css")
def stylesheet() -> Response:
    """The widget's stylesheet with the configured theme (and an optional accent)."""
    base: Served = for_spa(current_app, "quiz_stylesheet")
    accent = read_accent(request.args.get("accent"))
    body = base.body + theme_rule(accent).encode() if accent else base.body
    return versioned_response(body, "text/css", base.version)


def stylesheet_url(accent: str | None = None) -> str:
    """URL of the themed stylesheet, versioned, with the accent when there is one."""
    url = fixed_url("embed.stylesheet", v=for_spa(current_app, "quiz_stylesheet").version)
    # The accent is a checked hex colour (read_accent): safe to append as it is.
    return f"{url}&accent={accent[1:]}" if accent else url


def register(app: Flask) -> None:
    """Build the loader and the stylesheet once, register the routes and template values."""
    app.extensions["quiz_loader"] = Served.of(loader_script(app).encode())
    source = STYLESHEET_SOURCE.read_text(encoding="utf-8").rstrip() + "\n"
    # Each spa's theme (THEME_* of its own) is its own stylesheet, at its own
    # /s/<slug>/quiz/style.css, with its own version in the URL.
    declare(app, "quiz_stylesheet", lambda config: Served.of(
        (source + theme_rule(config=config)).encode()))  # fmt: skip
    app.register_blueprint(bp)
    cache = render_cache(app)
    cache.cache("embed.loader", lambda _args: None)
    cache.cache("embed.stylesheet", lambda args: (
        args.get("v") == for_spa(app, "quiz_stylesheet").version,
        read_accent(args.get("accent"))))  # fmt: skip

    @app.context_processor
    def embed_context() -> dict[str, Any]:
        if not has_request_context():
            return {}
        accent = requested_accent() if request.blueprint == "patient" else None
        return {
            "stylesheet_url": stylesheet_url(accent),
            # A spa's pages (/s/<slug>/…) talk to that spa's own sites only.
            "embed_origins": " ".join(
                request.environ.get(SPA_ORIGINS) or app.config["EMBED_ORIGINS"]
            ),
        }


def requested_accent() -> str | None:
    """The accent of this patient request (checked): the query's, or the callback form's."""
    if "accent" in request.args or request.method != "POST":
        return read_accent(request.args.get("accent"))
    try:
        return read_accent(request.form.get("accent"))
    except HTTPException:
        return None  # e.g. a body over MAX_CONTENT_LENGTH, while its error page renders
