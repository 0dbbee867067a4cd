"""The speed report (admins): how fast the spa calls leads back, as an SVG and a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import make_response, request
from flask import render_template as render
from werkzeug.wrappers import Response

from quiz.speed.figures import spoken
from quiz.speed.report import SpeedReport, speed_report
from quiz.staff import PeriodForm, admin_required, bp, opening_hours, staff_tz

DEFAULT_DAYS = 8 * 7
MAX_DAYS = 2 * 366  # a week a row: two years is already a long page
CHART_WIDTH = 640
LABEL_WIDTH = 130
BAR_HEIGHT = 12  # median and 90th percentile, one above the other
ROW_HEIGHT = 2 * BAR_HEIGHT + 14


@dataclass(frozen=True)
class WeekBars:
    """One week's two bars (median, 90th percentile) in SVG user units."""

    label: str
    y: int
    median_width: int
    p90_width: int
    text: str


def chart_rows(result: SpeedReport) -> list[WeekBars]:
    """Bars scaled to the slowest week's 90th percentile, each labelled with its figures."""
    slowest = max((w.figures.p90.total_seconds() for w in result.weeks if w.figures.p90), default=0)
    room = CHART_WIDTH - LABEL_WIDTH - 200
    rows = []
    for i, week in enumerate(result.weeks):
        f = week.figures
        if f.contacted:
            text = f"median {spoken(f.median)} · 90% {spoken(f.p90)}"
        else:
            text = "no lead contacted" if f.leads else "no leads"
        rows.append(
            WeekBars(
                label=f"Week of {week.start.isoformat()}",
                y=i * ROW_HEIGHT,
                median_width=_width(f.median, slowest, room),
                p90_width=_width(f.p90, slowest, room),
                text=text,
            )
        )
    return rows


def _width(wait: timedelta | None, slowest: float, room: int) -> int:
    if wait is None or not slowest:
        return 0
    return max(round(room * wait.total_seconds() / slowest), 1)


@bp.get("/speed")
@admin_required("see the speed report")
def speed() -> Response:
    """How fast do we call back? For a period (default: the last 8 weeks), chart and table."""
    form = PeriodForm(request.args)
    since, until, valid = form.period(datetime.now(staff_tz()).date(), DEFAULT_DAYS)
    if (until - since).days >= MAX_DAYS:
        form.until.errors = [f"Choose at most {MAX_DAYS} days."]  # type: ignore[assignment]
        valid = False
        since = until - timedelta(days=DEFAULT_DAYS - 1)
    hours = opening_hours()
    result = speed_report(since, until, hours, staff_tz())
    rows = chart_rows(result)
    html = render(
        "staff/speed.html",
        title="Speed to lead",
        form=form,
        report=result,
        rows=rows,
        hours=hours.describe(),
        chart_width=CHART_WIDTH,
        chart_height=max(len(rows) * ROW_HEIGHT - 14, ROW_HEIGHT),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        time_zone=str(staff_tz()),
        spoken=spoken,
    )
    return make_response(html, 200 if valid else 400)
