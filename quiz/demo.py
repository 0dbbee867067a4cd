"""The demo spa page at `/`: the widget embedded as a webmaster would do it."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

bp = Blueprint("demo", __name__)


@bp.get("/")
def index() -> str:
    """A plausible spa article page with the widget in an iframe, and the snippet to copy."""
    widget_url = url_for("patient.intro", _external=True)
    host = request.host_url.rstrip("/")
    snippet = (
        f'<iframe src="{widget_url}" title="Relax or fill? A three-question guide"\n'
        f'        width="100%" height="720" loading="lazy" style="border:0"></iframe>'
    )
    return render_template("demo.html", widget_url=widget_url, snippet=snippet, host=host)
