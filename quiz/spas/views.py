"""The agency's console: the spa switcher and the cross-spa report (agency accounts only).

An agency account belongs to no spa. It works one spa at a time, as that
spa's admin: the switcher (in every staff page's header) stores the chosen
spa in its session, and `auth.require_staff` scopes each request to it, so
every other page (leads, exports, content, the audit) is that spa's and no
other's, exactly as for the spa's own staff. `/staff/agency` is the one page
that reads every spa at once: per spa, its leads in a period, how many
were booked (conversion) and the speed to lead, each spa's figures read in
its own scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from flask import abort, current_app, g, redirect, request, session
from flask import render_template as render
from werkzeug.wrappers import Response

from quiz.core.opening_hours import OpeningHours
from quiz.db import scope
from quiz.spas.directory import directory
from quiz.speed import NO_LEADS, SpeedFigures, speed_by_spa, spoken
from quiz.staff import (
    AGENCY,
    AGENCY_SPA,
    EmptyForm,
    PeriodForm,
    bp,
    is_agency,
    role_required,
    safe_next,
    staff_tz,
)
from quiz.web.spa_settings import for_spa

DEFAULT_DAYS = 30
MAX_DAYS = 366
AGENCY_ONLY = (AGENCY,)


@dataclass(frozen=True)
class SpaChoice:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class SpaFigures:
    spa: SpaChoice
    leads: int
    booked: int
    speed: SpeedFigures

    @property
    def conversion(self) -> float | None:
        return self.booked / self.leads if self.leads else None


def spa_choices() -> list[SpaChoice]:
    """The default spa, then every live spa by name: what an agency account may work on."""
    spas = directory(current_app)
    default = current_app.extensions["quiz_spa"]
    choices = [SpaChoice(scope.DEFAULT_SPA_ID, "default", default.name)]
    live = sorted(spas.live(), key=lambda spa: spa.details.name.lower())
    return choices + [SpaChoice(spa.id, spa.slug, spa.details.name) for spa in live]


@bp.app_context_processor
def agency_switcher() -> dict[str, object]:
    """The switcher's choices for an agency account's pages (nothing for anyone else)."""
    if not is_agency(g.get("staff")):
        return {}
    return {"agency_spas": spa_choices(), "agency_current": scope.current_spa()}


@bp.post("/spa")
@role_required("switch spas", AGENCY_ONLY, "only agency accounts work several spas")
def switch_spa() -> Response:
    """Work on another spa from the next page on (the session remembers it)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400, "The form expired. Reload the page and try again.")
    try:
        chosen = int(request.form.get("spa", ""))
    except ValueError:
        abort(400, "Choose a spa from the list.")
    if chosen not in {choice.id for choice in spa_choices()}:
        abort(400, "That spa is not served here (or was disabled). Choose one from the list.")
    session[AGENCY_SPA] = chosen
    return redirect(safe_next(request.form.get("next")))


@bp.get("/agency")
@role_required("see every spa's report", AGENCY_ONLY, "only agency accounts see every spa")
def agency_report() -> Response | str:
    """Per spa: leads in the period, booked, conversion, speed to lead."""
    form = PeriodForm(request.args)
    since, until, valid = form.period(datetime.now(staff_tz()).date(), DEFAULT_DAYS)
    if (until - since).days >= MAX_DAYS:
        valid = False
        form.until.errors = [f"Choose at most {MAX_DAYS} days."]  # type: ignore[assignment]
    rows = figures_for(spa_choices(), since, until)
    html = render(
        "staff/agency.html",
        title="Every spa",
        form=form,
        rows=rows,
        since=since,
        until=until,
        time_zone=str(staff_tz()),
        spoken=spoken,
    )
    return html if valid else (html, 400)  # type: ignore[return-value]


def figures_for(choices: list[SpaChoice], since: date, until: date) -> list[SpaFigures]:
    """Each spa's figures: one install-wide read (agency only), each spa's waits in its hours."""

    def hours_of(spa_id: int) -> tuple[OpeningHours, tzinfo]:
        overdue = for_spa(current_app, "staff_overdue", spa_id)
        return overdue.hours, overdue.tz

    with scope.spa_scope(scope.ALL_SPAS):
        found = speed_by_spa(since, until, staff_tz(), hours_of)
    return [
        SpaFigures(choice, speed.leads, speed.booked, speed.speed)
        for choice in choices
        for speed in [found.get(choice.id, NO_LEADS)]
    ]
