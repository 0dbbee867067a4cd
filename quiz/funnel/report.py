"""The funnel report: views per step, exits, drop-off and conversion over a period."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from quiz.core.model import OUTCOMES
from quiz.db.engine import db
from quiz.db.models import FunnelCount
from quiz.funnel.counter import EVENTS, STEPS


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    views: int
    exits: int  # left at this step: its views minus the next step's

    @property
    def drop_off(self) -> float | None:
        """Exits ÷ views, or None when nobody reached the step."""
        return self.exits / self.views if self.views else None


@dataclass(frozen=True)
class FunnelReport:
    since: date
    until: date
    steps: tuple[Step, ...]
    outcomes: dict[str, int]
    shown: int  # the widget was shown (intro)
    started: int
    callbacks: int

    @property
    def conversion(self) -> float | None:
        """Callbacks ÷ patients who started the quiz."""
        return self.callbacks / self.started if self.started else None

    @property
    def conversion_from_shown(self) -> float | None:
        return self.callbacks / self.shown if self.shown else None


STEP_LABELS = {
    "intro": "Saw the widget",
    "concern": "Started: question 1 (concern)",
    "area": "Question 2 (where)",
    "goal": "Question 3 (goal)",
    "result": "Saw a result",
    "form": "Opened the callback form",
    "callback": "Asked for a callback",
}


def totals(since: date, until: date) -> dict[str, int]:
    """Each event's total over the days since..until (inclusive)."""
    rows = db.session.execute(
        select(FunnelCount.event, FunnelCount.count).where(
            FunnelCount.day >= since, FunnelCount.day <= until
        )
    )
    found: Counter[str] = Counter()
    for event, count in rows:
        found[event] += count
    return {event: found.get(event, 0) for event in EVENTS}


def report(since: date, until: date) -> FunnelReport:
    """The funnel for a period: views per step, exits, drop-off and conversion."""
    counts = totals(since, until)
    chain = [*(f"view:{s}" for s in STEPS), "callback"]
    keys = [*STEPS, "callback"]
    steps = []
    for i, key in enumerate(keys):
        views = counts[chain[i]]
        following = counts[chain[i + 1]] if i + 1 < len(chain) else views
        steps.append(Step(key, STEP_LABELS[key], views, max(views - following, 0)))
    return FunnelReport(
        since=since,
        until=until,
        steps=tuple(steps),
        outcomes={o: counts[f"outcome:{o}"] for o in OUTCOMES},
        shown=counts["view:intro"],
        started=counts["view:concern"],
        callbacks=counts["callback"],
    )
