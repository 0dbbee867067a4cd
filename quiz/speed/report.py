"""First contact, recorded and measured: the status change that sets it, and the report.

`first_contacted_at` is the moment staff first moved the lead out of "new"
(to contacted, booked, closed or do-not-contact): set once and never moved,
so a lead put back to "new" and worked again keeps its first time. It is what
the "How fast do we call back?" report measures and what stops an escalation
text.

A lead's wait is the opening-hours time (STAFF_OPENING_HOURS in STAFF_TIMEZONE)
from its arrival to `first_contacted_at`: a request at 3 a.m. called at 9:04
when the spa opens at 9:00 waited 4 minutes. The figures themselves are
`quiz.speed.figures.figures`; weeks run Monday to Sunday in the spa's time zone,
and a lead belongs to the period (and the week) of the day it arrived.

First contact is human: the automatic first text to a patient never sets it;
a text typed by staff does (quiz/texts). Apart from it, `text_replies`
measures the first reply to a patient's text: from a text that waited for an
answer (the first since the last staff reply) to the next staff reply, in
opening hours, over texts that arrived in the period. STOP, START and HELP
are answered automatically and not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select

from quiz.core.opening_hours import OpeningHours, open_time
from quiz.db.engine import db
from quiz.db.models import Lead, TextMessage
from quiz.leads import LeadFilter
from quiz.speed.figures import SpeedFigures, figures


@dataclass(frozen=True)
class Week:
    start: date  # its Monday
    figures: SpeedFigures


@dataclass(frozen=True)
class SpeedReport:
    since: date
    until: date
    overall: SpeedFigures
    weeks: tuple[Week, ...]
    text_replies: SpeedFigures  # a patient's text to staff's first reply


def speed_report(since: date, until: date, hours: OpeningHours, tz: tzinfo) -> SpeedReport:
    """The report for leads that arrived from `since` to `until` (days in `tz`, inclusive)."""
    where = LeadFilter(since=since, until=until, tz=tz)
    rows = db.session.execute(
        where.apply(select(Lead.created_at, Lead.first_contacted_at)).order_by(Lead.created_at)
    )
    waits: list[timedelta | None] = []
    by_week: dict[date, list[timedelta | None]] = {}
    for created_at, contacted_at in rows:
        wait = None if contacted_at is None else open_time(hours, tz, created_at, contacted_at)
        waits.append(wait)
        day = created_at.astimezone(tz).date()
        by_week.setdefault(day - timedelta(days=day.weekday()), []).append(wait)
    weeks = []
    monday = since - timedelta(days=since.weekday())
    while monday <= until:  # every week of the period, an empty one too
        weeks.append(Week(monday, figures(by_week.get(monday, []))))
        monday += timedelta(days=7)
    return SpeedReport(since, until, figures(waits), tuple(weeks),
                       figures(_reply_waits(where, hours, tz)))  # fmt: skip


@dataclass(frozen=True)
class SpaSpeed:
    leads: int
    booked: int
    speed: SpeedFigures


NO_LEADS = SpaSpeed(0, 0, figures([]))  # a spa with no lead in the period


def speed_by_spa(
    since: date, until: date, tz: tzinfo, hours_of: Callable[[int], tuple[OpeningHours, tzinfo]]
) -> dict[int, SpaSpeed]:
    """Per spa, its leads from `since` to `until` (days in `tz`), booked, and speed to lead.

    One query for every spa the scope sees (the agency's: all), not a few per
    spa: 500 spas are one read. Each spa's waits count its own opening hours
    in its own zone (`hours_of`); a spa with no lead in the period is absent.
    """
    where = LeadFilter(since=since, until=until, tz=tz)
    rows = db.session.execute(
        where.apply(select(Lead.spa_id, Lead.created_at, Lead.first_contacted_at, Lead.status))
    )
    waits: dict[int, list[timedelta | None]] = {}
    booked: dict[int, int] = {}
    hours: dict[int, tuple[OpeningHours, tzinfo]] = {}
    for spa_id, created_at, contacted_at, status in rows:
        if spa_id not in hours:
            hours[spa_id] = hours_of(spa_id)
        spa_hours, spa_tz = hours[spa_id]
        wait = None if contacted_at is None else open_time(spa_hours, spa_tz, created_at,
                                                           contacted_at)  # fmt: skip
        waits.setdefault(spa_id, []).append(wait)
        booked[spa_id] = booked.get(spa_id, 0) + (status == "booked")
    return {
        spa_id: SpaSpeed(len(spa_waits), booked[spa_id], figures(spa_waits))
        for spa_id, spa_waits in waits.items()
    }


def _reply_waits(where: LeadFilter, hours: OpeningHours, tz: tzinfo) -> list[timedelta | None]:
    """Each patient text that waited for an answer: how long until staff replied (None: not yet)."""
    start, end = where.bounds()
    rows = db.session.execute(
        select(TextMessage.lead_id, TextMessage.direction, TextMessage.created_at)
        .where(
            TextMessage.lead_id.is_not(None),
            TextMessage.kind.in_(("patient", "reply")),
            TextMessage.created_at >= start,
        )
        .order_by(TextMessage.lead_id, TextMessage.id)
    )
    waits: list[timedelta | None] = []
    waiting: dict[int, datetime] = {}  # lead id → its unanswered text's arrival
    for lead_id, direction, at in rows:
        if direction == "in":
            if lead_id not in waiting and at < end:
                waiting[lead_id] = at
        elif lead_id in waiting:
            waits.append(open_time(hours, tz, waiting.pop(lead_id), at))
    waits += [None] * len(waiting)
    return waits


def change_status(lead: Lead, new_status: str, at: datetime) -> None:
    """Give the lead its new status; the first move out of "new" records `at` as first contact."""
    if lead.status == "new" and new_status != "new" and lead.first_contacted_at is None:
        lead.first_contacted_at = at
    lead.status = new_status
