"""The patient's path: the widget's pages under /quiz/, one blueprint.

`rendering` is what every page shares; `steps` the intro, questions and result;
`callback` the form and the lead it stores.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("patient", __name__, url_prefix="/quiz")

from quiz.patient import callback, offline, steps  # noqa: E402,F401  (the views register on bp)
from quiz.patient.params import blank_tracking, cache_key  # noqa: E402
from quiz.patient.tokens import issue_form_token  # noqa: E402
from quiz.web.extensions import csrf  # noqa: E402
from quiz.web.render_cache import render_cache  # noqa: E402


def register(app: Flask) -> None:
    """The blueprint, cookie-less (its form has its own signed token), its steps render-cached
    (rendered once per set of tracking keys, each visitor's values filled in)."""
    app.register_blueprint(bp)
    csrf.exempt(bp)
    offline.register(app)  # `flask offline-page`
    for step in steps.CACHED:
        render_cache(app).cache(f"patient.{step}", cache_key, blank_tracking)
    # The form is rendered once per page shape too; each request gets a token of its own.
    render_cache(app).cache(
        "patient.callback_form",
        cache_key,
        blank_tracking,
        fresh=lambda: {"token": issue_form_token(app)},
    )
