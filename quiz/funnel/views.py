"""The funnel page (admins): where patients drop off, as an SVG drawn here and a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, make_response, request
from flask import render_template as render
from werkzeug.wrappers import Response

from quiz.db.engine import db
from quiz.funnel.counter import recorder
from quiz.funnel.report import FunnelReport, report
from quiz.staff import PeriodForm, admin_required, bp, staff_tz

DEFAULT_DAYS = 30
CHART_WIDTH = 640
LABEL_WIDTH = 230
BAR_HEIGHT = 28
GAP = 12


@dataclass(frozen=True)
class Bar:
    """One step's bar in the chart, in SVG user units."""

    label: str
    views: int
    y: int
    width: int
    text: str


def chart_bars(funnel: FunnelReport) -> list[Bar]:
    """Bars scaled to the largest step, each labelled with its count and drop-off."""
    biggest = max((s.views for s in funnel.steps), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 150
    bars = []
    for i, step in enumerate(funnel.steps):
        text = f"{step.views:,}"
        if step.key != "callback" and step.drop_off is not None:
            text += f" · {step.drop_off:.0%} leave"
        bars.append(
            Bar(
                label=step.label,
                views=step.views,
                y=i * (BAR_HEIGHT + GAP),
                width=max(round(room * step.views / biggest), 1 if step.views else 0),
                text=text,
            )
        )
    return bars


@bp.get("/funnel")
@admin_required("see the funnel")
def funnel() -> Response:
    """The funnel for a period (default: the last 30 days), chart and table."""
    # This process's last few seconds of counts first, so the page is current;
    # then end the request's read transaction so its snapshot includes them.
    recorder(current_app).flush()
    db.session.commit()
    form = PeriodForm(request.args)
    since, until, valid = form.period(datetime.now(staff_tz()).date(), DEFAULT_DAYS)
    result = report(since, until)
    bars = chart_bars(result)
    html = render(
        "staff/funnel.html",
        title="Funnel",
        form=form,
        funnel=result,
        bars=bars,
        chart_width=CHART_WIDTH,
        chart_height=max(len(bars) * (BAR_HEIGHT + GAP) - GAP, BAR_HEIGHT),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        time_zone=str(staff_tz()),
    )
    return make_response(html, 200 if valid else 400)
