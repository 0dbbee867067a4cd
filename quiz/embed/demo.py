"""The demo spa page at `/`: the widget embedded as a webmaster would do it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from quiz.embed.loader import IFRAME_TITLE  # the demo page is in English, as the spa's

bp = Blueprint("demo", __name__)

# The line a webmaster sends to whoever runs the quiz server (an example origin to replace).
ORIGINS_LINE = """QUIZ_EMBED_ORIGINS='["https://www.your-spa.com"]'"""


@bp.get("/")
def index() -> str:
    """A plausible spa article page with the widget, loaded by the real loader, and the snippet."""
    loader_url = url_for("embed.loader", _external=True)
    widget_url = url_for("patient.intro", _external=True)
    snippet = f'<div data-relax-or-fill></div>\n<script src="{loader_url}" async></script>'
    fallback = (
        f'<iframe src="{widget_url}" title="{IFRAME_TITLE}"\n'
        f'        width="100%" height="720" loading="lazy" style="border:0"></iframe>'
    )
    return render_template(
        "embed/demo.html",
        loader_url=loader_url,
        widget_url=widget_url,
        snippet=snippet,
        fallback=fallback,
        origins_line=ORIGINS_LINE,
        iframe_title=IFRAME_TITLE,
        embed_origins=current_app.config["EMBED_ORIGINS"],
    )
