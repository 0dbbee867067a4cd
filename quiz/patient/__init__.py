"""The patient's path: the widget's pages under /quiz/, one blueprint.

`rendering` is what every page shares; `steps` the intro, questions and result;
`callback` the form and the lead it stores.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("patient", __name__, url_prefix="/quiz")

from quiz.patient import callback, steps  # noqa: E402,F401  (the views register on bp)
