"""The staff console at /staff: sign-in, the lead list, lead pages, exports, funnel.

Every view here needs a signed-in, active staff account (see `auth`), every
POST carries Flask-WTF's CSRF token, and every response is `no-store` and may
not be framed (`quiz.web.headers` gives non-widget pages `frame-ancestors 'none'`
and `X-Frame-Options: DENY`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter


class RowId(IntegerConverter):
    """A row id in a URL: a larger number is a 404, not a database overflow."""

    def __init__(self, map, **kwargs) -> None:  # `map` is Werkzeug's own name
        super().__init__(map, min=1, max=2**31 - 1, **kwargs)


bp = Blueprint("staff", __name__, url_prefix="/staff")

# The views register themselves on bp.
from quiz.staff import (  # noqa: E402,F401
    auth,
    content_publish_views,
    content_views,
    exports,
    funnel_views,
    helpers,
    outbox_views,
    speed_views,
    views,
)
from quiz.staff.cli import staff_cli  # noqa: E402
from quiz.staff.content_cli import content_cli  # noqa: E402


def register(app: Flask) -> None:
    """Register the staff blueprint and the `flask staff` commands."""
    # STAFF_TIMEZONE was checked at start-up (quiz.settings.checks).
    app.extensions["staff_tz"] = ZoneInfo(app.config["STAFF_TIMEZONE"])
    app.url_map.converters["id"] = RowId
    app.register_blueprint(bp)
    app.before_request(content_views.guard_previews)  # a draft's preview: admins only
    app.cli.add_command(staff_cli)
    app.cli.add_command(content_cli)  # `flask content`: published versions
