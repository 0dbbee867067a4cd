"""The speed-to-lead report's figures for a generated, known set of leads.

Builds a temporary SQLite database (the migrations' schema), stores N leads
(default 2,000, seeded, so every run prints the same figures) arriving at any
hour over 8 weeks, and gives each a first contact drawn in *opening hours*
(Mon–Fri 09:00–18:00, Sat 10:00–14:00, America/New_York): most within minutes,
a tail of hours, 8 % never contacted. It then prints, for the whole period and
week by week, what the staff page `/staff/speed` shows: median and 90th
percentile time to first contact, the share reached within 5 minutes and within
an hour, and leads never contacted.

As a cross-check it also prints the same figures computed straight from the
drawn waits, without the database or the opening-hours arithmetic that turns
stored times back into waits: the two lines must agree.

    .venv/bin/python bench/speed_report.py [--leads 2000] [--seed 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.core.opening_hours import after_open_time, parse_opening_hours  # noqa: E402
from quiz.db.engine import db  # noqa: E402
from quiz.db.models import Lead  # noqa: E402
from quiz.speed.figures import SpeedFigures, figures, spoken  # noqa: E402
from quiz.speed.report import speed_report  # noqa: E402

ZONE = "America/New_York"
HOURS = {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}
FIRST_DAY = date(2026, 9, 7)  # a Monday
WEEKS = 8


def draw_wait(rng: random.Random) -> timedelta | None:
    """A first contact in opening hours: mostly minutes, some hours, some never."""
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.55:
        return timedelta(seconds=rng.randint(30, 5 * 60))
    if roll < 0.85:
        return timedelta(seconds=rng.randint(5 * 60, 60 * 60))
    return timedelta(seconds=rng.randint(60 * 60, 12 * 60 * 60))


def line(label: str, f: SpeedFigures) -> str:
    def pct(share: float | None) -> str:
        return "–" if share is None else f"{share:6.1%}"

    return (
        f"{label:<14} leads {f.leads:5}  contacted {f.contacted:5}  "
        f"median {spoken(f.median):>9}  p90 {spoken(f.p90):>9}  "
        f"≤5 min {pct(f.share_5_min)}  ≤1 h {pct(f.share_1_h)}  never {f.never_contacted:4}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    tz = ZoneInfo(ZONE)
    hours = parse_opening_hours(HOURS)
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    span = WEEKS * 7 * 86400
    rows, drawn = [], []
    for _ in range(args.leads):
        created = start + timedelta(seconds=rng.randrange(span))
        wait = draw_wait(rng)
        contacted = None if wait is None else after_open_time(hours, tz, created, wait)
        drawn.append(wait)
        rows.append(lead_row(created, contacted))

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "ENV": "development",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/speed.db",
                "STAFF_TIMEZONE": ZONE,
                "STAFF_OPENING_HOURS": HOURS,
                "FUNNEL_FLUSH_SECONDS": 0,
            }
        )
        with app.app_context():
            flask_migrate.upgrade()
            db.session.execute(insert(Lead), rows)
            db.session.commit()
            until = FIRST_DAY + timedelta(days=WEEKS * 7 - 1)
            report = speed_report(FIRST_DAY, until, hours, tz)
            db.session.remove()
            db.engine.dispose()

    print(f"{args.leads} generated leads (seed {args.seed}), {FIRST_DAY} to {until}, {ZONE}")
    print(f"opening hours: {hours.describe()}")
    print(line("whole period", report.overall))
    for week in report.weeks:
        print(line(f"week of {week.start}", week.figures))
    print(line("cross-check", figures(drawn)) + "   (from the drawn waits, no database)")


def lead_row(created: datetime, contacted: datetime | None) -> dict[str, object]:
    return {
        "created_at": created,
        "updated_at": contacted or created,
        "status": "new" if contacted is None else "contacted",
        "first_contacted_at": contacted,
        "name": "Bench Patient",
        "phone": "+13018105740",
        "email": "",
        "best_time": "anytime",
        "concern": "expression",
        "areas": "between_brows",
        "goal": "prevent",
        "outcome": "relax",
        "consent_at": created,
        "consent_text_version": "bench",
        "consent_text": "bench",
        "consent_text_hash": "0" * 64,
        "form_nonce": uuid.uuid4().hex,
    }


if __name__ == "__main__":
    main()
