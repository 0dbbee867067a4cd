"""Speed to lead in figures: how long leads waited for a first call (pure Python).

`figures` takes each lead's wait (time to first contact in opening hours, or
None for a lead nobody has contacted) and gives the report's numbers:

- the median wait (the middle one; the mean of the two middle ones for an even count)
  and the 90th percentile (nearest rank: the smallest wait that at least 90 % of
  the contacted leads did not exceed), both over contacted leads only;
- the share of *all* leads reached within 5 minutes and within an hour (a lead
  never contacted was not reached in time);
- how many leads were never contacted.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

FAST = timedelta(minutes=5)
SAME_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SpeedFigures:
    leads: int
    contacted: int
    median: timedelta | None
    p90: timedelta | None
    within_5_min: int
    within_1_h: int

    @property
    def never_contacted(self) -> int:
        return self.leads - self.contacted

    @property
    def share_5_min(self) -> float | None:
        return self.within_5_min / self.leads if self.leads else None

    @property
    def share_1_h(self) -> float | None:
        return self.within_1_h / self.leads if self.leads else None


def percentile(ordered: Sequence[timedelta], share: float) -> timedelta | None:
    """Nearest-rank percentile of sorted values (None for none)."""
    if not ordered:
        return None
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def median(ordered: Sequence[timedelta]) -> timedelta | None:
    if not ordered:
        return None
    seconds = statistics.median(w.total_seconds() for w in ordered)
    return timedelta(seconds=seconds)


def figures(waits: Sequence[timedelta | None]) -> SpeedFigures:
    """The report's numbers for these leads' waits (None: never contacted)."""
    contacted = sorted(w for w in waits if w is not None)
    return SpeedFigures(
        leads=len(waits),
        contacted=len(contacted),
        median=median(contacted),
        p90=percentile(contacted, 0.9),
        within_5_min=sum(1 for w in contacted if w <= FAST),
        within_1_h=sum(1 for w in contacted if w <= SAME_HOUR),
    )


def spoken(wait: timedelta | None) -> str:
    """A wait the way the front desk says it: "45 s", "6 min", "2 h 5 min", "3 days"."""
    if wait is None:
        return "–"
    seconds = int(wait.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"
