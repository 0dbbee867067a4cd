"""The "How fast do we call back?" report, against a known set of leads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from quiz.speed.figures import figures, spoken
from tests.support.staff import add_lead, words

HOURS = {"mon-fri": "09:00-17:00"}  # UTC (STAFF_TIMEZONE's default)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"STAFF_OPENING_HOURS": HOURS}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# (arrived, first contacted) and the wait in opening hours, worked out by hand.
KNOWN = [
    (at(2, 10), at(2, 10, 3)),  # Mon: 3 min
    (at(2, 10), at(2, 10, 5)),  # 5 min: "within 5 minutes" includes 5
    (at(3, 16, 50), at(4, 9, 20)),  # Tue 16:50, closed at 17:00, Wed 09:20: 30 min
    (at(7, 3), at(9, 9, 4)),  # Saturday night, the weekend closed, Monday 09:04: 4 min
    (at(4, 12), None),  # never contacted
    (at(9, 9), at(9, 11)),  # week 2, Monday: 2 h
    (at(10, 14), at(10, 14, 1)),  # 1 min
    (at(12, 9), None),  # never contacted
    (at(16, 9), at(16, 9, 1)),  # after the period: not counted
]


def test_figures_from_waits() -> None:
    minutes = [3, 5, 30, 4, None, 120, 1, None]
    result = figures([None if m is None else timedelta(minutes=m) for m in minutes])
    assert (result.leads, result.contacted, result.never_contacted) == (8, 6, 2)
    assert result.median == timedelta(minutes=4, seconds=30)  # between 4 and 5
    assert result.p90 == timedelta(minutes=120)  # nearest rank: the 6th of 6
    assert (result.within_5_min, result.within_1_h) == (4, 5)
    assert result.share_5_min == 0.5 and result.share_1_h == 5 / 8
    empty = figures([])
    assert empty.median is None and empty.p90 is None and empty.share_5_min is None


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(45, "45 s"), (360, "6 min"), (3600, "1 h"), (7500, "2 h 5 min"), (3 * 86400, "3 days")],
)
def test_waits_are_said_the_way_the_desk_says_them(seconds: int, said: str) -> None:
    assert spoken(timedelta(seconds=seconds)) == said


def test_the_speed_page_shows_the_known_figures_in_its_table_and_chart(
    app: Flask, admin: Any
) -> None:
    for arrived, contacted in KNOWN:
        add_lead(app, created=arrived, first_contacted_at=contacted,
                 status="new" if contacted is None else "contacted")  # fmt: skip
    response = admin.get("/staff/speed?since=2026-11-02&until=2026-11-15")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [words_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
        )
        if cells
    }
    assert rows["2026-11-02"] == ["5", "4", "4 min", "30 min", "60% (3 of 5)", "80% (4 of 5)", "1"]
    assert rows["2026-11-09"] == ["3", "2", "1 h", "2 h", "33% (1 of 3)", "33% (1 of 3)", "1"]
    assert rows["Whole period"][:5] == ["8", "6", "4 min", "2 h", "50% (4 of 8)"]
    assert rows["Whole period"][5:] == ["62% (5 of 8)", "2"]
    assert "<svg" in page and "Time to first contact, week by week" in page
    assert "median 4 min · 90% 30 min" in page  # the chart's label for week 1
    summary = words(admin.get("/staff/speed?since=2026-11-02&until=2026-11-15"))
    assert "8 callback requests, 6 contacted" in summary
    assert "mon 09:00-17:00" in summary  # the hours the waits were counted in


def words_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_desk_accounts_cannot_open_the_report(desk: Any) -> None:
    response = desk.get("/staff/speed")
    assert response.status_code == 403
    assert "can't see the speed report" in words(response)


def test_a_bad_period_gets_a_message_not_a_500(admin: Any) -> None:
    response = admin.get("/staff/speed?since=2020-01-01&until=2026-01-01")
    assert response.status_code == 400 and "Choose at most" in words(response)
    response = admin.get("/staff/speed?since=yesterday")
    assert response.status_code == 400 and "How fast do we call back?" in words(response)


def test_the_default_period_is_the_last_eight_weeks(admin: Any) -> None:
    shown = words(admin.get("/staff/speed"))
    today = datetime.now(UTC).date()  # the report's days are STAFF_TIMEZONE's: UTC here
    assert f"From {(today - timedelta(days=55)).isoformat()} to {today.isoformat()}" in shown
    assert "0 callback requests" in shown
