"""What every staff page shares: time and phone formatting, filters, no-store, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

import phonenumbers
from flask import Response, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from quiz.content import current_bundle, is_medical, live_id, signoff_banner
from quiz.core.callback import BEST_TIMES
from quiz.core.clock import iso, utcnow
from quiz.core.opening_hours import OpeningHours, Overdue, open_time
from quiz.db.models import Lead
from quiz.leads import LeadFilter
from quiz.speed import spoken
from quiz.staff import bp
from quiz.staff.forms import OUTCOME_LABELS, STATUS_LABELS, FilterForm, LoginForm
from quiz.web.spa_settings import for_spa
from quiz.web.spa_settings import settings as spa_settings

MESSAGES = {
    400: "That request wasn't quite right.",
    403: "You can't do that.",
    404: "There is nothing here: the lead may have been erased.",
    405: "That isn't something this page can do.",
    429: "Too many failed sign-ins. Please wait a few minutes and try again.",
}


def staff_tz() -> tzinfo:
    """The spa's time zone for showing times and reading date filters."""
    return for_spa(current_app, "staff_tz")


@bp.app_template_filter("staff_age")
def staff_age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, as the speed report says a wait ("12 min ago", "5 h ago"; quiz.speed)."""
    wait = (now or utcnow()) - moment
    return "just now" if wait < timedelta(minutes=1) else f"{spoken(wait)} ago"


@bp.app_template_filter("staff_time")
def staff_time(moment: datetime | None) -> str:
    """A time in the spa's zone, e.g. "2026-11-20 09:30 EST"."""
    if moment is None:
        return ""
    return moment.astimezone(staff_tz()).strftime("%Y-%m-%d %H:%M %Z")


def opening_hours() -> OpeningHours:
    """The spa's opening hours (STAFF_OPENING_HOURS, parsed once at start-up)."""
    return overdue().hours


def overdue() -> Overdue:
    """The overdue rule (quiz.core.opening_hours.Overdue), built once by quiz.staff.register."""
    return for_spa(current_app, "staff_overdue")


def is_stale(lead: Lead, now: datetime) -> bool:
    """A "new" lead nobody has called for longer than the threshold, in opening hours."""
    return lead.status == "new" and overdue().past(lead.created_at, now)


def first_contact(lead: Lead, now: datetime) -> str:
    """ "called after 6 min" (and its opening-hours time when that differs), or "not called yet"."""
    if lead.first_contacted_at is None:
        return (
            f"not called yet, waiting {spoken(now - lead.created_at)}"
            if lead.status == "new"
            else ""
        )
    wall = lead.first_contacted_at - lead.created_at
    text = f"called after {spoken(wall)}"
    counted = open_time(opening_hours(), staff_tz(), lead.created_at, lead.first_contacted_at)
    if spoken(counted) != spoken(wall):
        text += f" ({spoken(counted)} in opening hours)"
    return text


@bp.app_template_filter("staff_iso")
def staff_iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC, for <time datetime>."""
    return iso(moment)


@bp.app_template_filter("staff_phone")
def staff_phone(e164: str) -> str:
    """A stored E.164 number the way the front desk dials it: national in the spa's region."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = spa_settings(current_app).get("PHONE_DEFAULT_REGION", "US")
    local = phonenumbers.region_code_for_number(number) == region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if local
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def answer_label(question: str, option_id: str) -> str:
    """An answer in the words the patient chose it by."""
    option = current_bundle().english.question(question).option(option_id)
    return option.label if option else option_id


def best_time_label(value: str) -> str:
    return BEST_TIMES.get(value, value)


# The language the patient used, named for the (English-speaking) console.
LANGUAGE_LABELS = {"en": "English", "es": "Spanish"}


def language_label(code: str) -> str:
    return LANGUAGE_LABELS.get(code, code)


@bp.context_processor
def staff_globals() -> dict[str, Any]:
    # Blueprint-only: the patient's pages never pay for these.
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "is_stale": is_stale,
        "first_contact": first_contact,
        "answer_label": answer_label,
        "best_time_label": best_time_label,
        "language_label": language_label,
        "signoff_banner": signoff_banner,
        "live_version": live_id,
        "content_is_medical": is_medical,
    }


@bp.after_request
def no_store(response: Response) -> Response:
    """Staff pages show patients' details: never cache them anywhere."""
    response.cache_control.no_store = True
    response.cache_control.private = True
    response.headers["Pragma"] = "no-cache"
    return response


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError) -> Response:
    """A form without a valid CSRF token: reload for htmx, a calm page otherwise."""
    if "HX-Request" in request.headers:
        response = make_response("This page was open too long. Reloading…", 400)
        response.headers["HX-Refresh"] = "true"
        return response
    message = "This form expired or didn't come from this site. Go back, reload and try again."
    return error_page(400, message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Staff errors in the staff layout."""
    code = exc.code or 500
    message = MESSAGES.get(code) or exc.name
    if code == 400 and exc.description and exc.description != type(exc).description:
        message = exc.description
    return error_page(code, message)


def error_page(code: int, message: str) -> Response:
    """A staff error in the staff layout; too many sign-ins shows the sign-in form again."""
    if code == 429:
        html = render_template(
            "staff/login.html", title="Staff sign-in", error=message, form=LoginForm(formdata=None)
        )
    else:
        html = render_template("staff/error.html", title="Sorry", message=message)
    return make_response(html, code)


# --- filters ------------------------------------------------------------------


def read_filter(formdata: MultiDict[str, str] | None = None) -> tuple[FilterForm, LeadFilter]:
    """The list's filters; invalid fields are reported and ignored.

    From the query string (the list, a GET form), or from `formdata` (an
    export's POSTed fields, which carry the same names: `LeadFilter.args()`).
    """
    form = FilterForm(request.args if formdata is None else formdata)
    form.validate()
    where = LeadFilter(
        status=form.status.data if not form.status.errors else "",
        outcome=form.outcome.data if not form.outcome.errors else "",
        since=form.since.data if not form.since.errors else None,
        until=form.until.data if not form.until.errors else None,
        search=(form.q.data or "") if not form.q.errors else "",
        tz=staff_tz(),
    )
    return form, where


def has_errors(form: FilterForm) -> bool:
    """True when any filter field was refused."""
    return any(field.errors for field in form)
