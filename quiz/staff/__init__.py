"""The staff console's shell at /staff: the blueprint, sign-in, roles, navigation, error pages.

The features put their own pages on `bp` (leads, content, funnel, speed,
deliveries) with what they import from here.

Every view here needs a signed-in, active staff account (see `auth`), every
POST carries Flask-WTF's CSRF token, and every response is `no-store` and may
not be framed (`quiz.web.headers` gives non-widget pages `frame-ancestors 'none'`
and `X-Frame-Options: DENY`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter

from quiz.core.opening_hours import Overdue
from quiz.web.spa_settings import declare


class RowId(IntegerConverter):
    """A row id in a URL: a larger number is a 404, not a database overflow."""

    def __init__(self, map, **kwargs) -> None:  # `map` is Werkzeug's own name
        super().__init__(map, min=1, max=2**31 - 1, **kwargs)


bp = Blueprint("staff", __name__, url_prefix="/staff")

# The shell's own views register themselves on bp; the features' views (quiz/__init__.py
# imports them) do too, with what they need from here.
from quiz.staff import auth, helpers  # noqa: E402,F401
from quiz.staff.auth import AGENCY_SPA, current_staff, safe_next, signed_in_staff  # noqa: E402
from quiz.staff.cli import staff_cli  # noqa: E402
from quiz.staff.forms import (  # noqa: E402
    OUTCOME_LABELS,
    STATUS_LABELS,
    EmptyForm,
    NoteForm,
    PeriodForm,
    StatusForm,
)
from quiz.staff.helpers import (  # noqa: E402
    answer_label,
    error_page,
    has_errors,
    opening_hours,
    read_filter,
    staff_tz,
)
from quiz.staff.roles import (  # noqa: E402
    ADMIN,
    AGENCY,
    APPROVE_CONTENT,
    CLINICAL,
    EDIT_CONTENT,
    READ_CONTENT,
    admin_required,
    is_admin,
    is_agency,
    role_required,
)

__all__ = [
    "ADMIN",
    "AGENCY",
    "AGENCY_SPA",
    "APPROVE_CONTENT",
    "CLINICAL",
    "EDIT_CONTENT",
    "OUTCOME_LABELS",
    "READ_CONTENT",
    "STATUS_LABELS",
    "EmptyForm",
    "NoteForm",
    "PeriodForm",
    "StatusForm",
    "admin_required",
    "answer_label",
    "bp",
    "current_staff",
    "error_page",
    "has_errors",
    "is_admin",
    "is_agency",
    "opening_hours",
    "read_filter",
    "register",
    "role_required",
    "safe_next",
    "signed_in_staff",
    "staff_tz",
]


def register(app: Flask) -> None:
    """Register the staff blueprint and the `flask staff` commands."""
    # STAFF_TIMEZONE was checked at start-up (quiz.settings.checks).
    # Built once (not per row), and once for each spa with hours or a zone of its own.
    declare(app, "staff_tz", lambda config: ZoneInfo(config["STAFF_TIMEZONE"]))
    declare(app, "staff_overdue", Overdue.from_config)
    app.url_map.converters["id"] = RowId
    app.register_blueprint(bp)
    app.cli.add_command(staff_cli)
