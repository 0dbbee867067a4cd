"""The widget's one script: htmx and our small widget.js, served as a single file.

One file keeps the whole quiz within its request budget (page,
stylesheet, script, then one request per step). htmx comes from the npm
registry; the setup step copies it to quiz/static/vendor/ (it is not committed).
The bundle is built once at start-up and served with a content hash in its URL,
so browsers and proxies may keep it for a year.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app

from quiz.embed.served import Served, versioned_response
from quiz.web.render_cache import render_cache
from quiz.web.urls import fixed_url

bp = Blueprint("assets", __name__)

STATIC = Path(__file__).parent.parent / "static"
PARTS = (STATIC / "vendor" / "htmx.min.js", STATIC / "widget.js")


def build_bundle(app: Flask) -> Served:
    """Concatenate the script parts; without htmx the quiz still works, as plain pages."""
    chunks = []
    for part in PARTS:
        if part.exists():
            chunks.append(part.read_bytes().rstrip() + b"\n")
        else:
            app.logger.warning("%s is missing (run `make setup`); the widget runs without it", part)
    body = b";\n".join(chunks)
    return Served.of(body)


@bp.get("/quiz/widget.js")
def widget_js() -> Response:
    """htmx plus widget.js, one cacheable file."""
    bundle: Served = current_app.extensions["quiz_bundle"]
    return versioned_response(bundle.body, "text/javascript", bundle.version)


def register(app: Flask) -> None:
    app.extensions["quiz_bundle"] = build_bundle(app)
    app.register_blueprint(bp)
    # Only whether `v` is the current version changes the response (its lifetime).
    version = app.extensions["quiz_bundle"].version
    render_cache(app).cache("assets.widget_js", lambda args: args.get("v") == version)

    @app.context_processor
    def script_url() -> dict[str, str]:
        return {
            "widget_script": fixed_url("assets.widget_js", v=app.extensions["quiz_bundle"].version)
        }
