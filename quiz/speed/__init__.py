"""Speed to lead: first contact, the "How fast do we call back?" figures and report.

figures.py (median, p90, shares; pure), report.py (the status change that
records first contact, and the figures for a period), views.py (/staff/speed).
Opening hours themselves are a pure helper in quiz/core/opening_hours.py.
"""

from quiz.speed.figures import SpeedFigures, spoken
from quiz.speed.report import NO_LEADS, SpaSpeed, change_status, speed_by_spa, speed_report

__all__ = [
    "NO_LEADS",
    "SpaSpeed",
    "SpeedFigures",
    "change_status",
    "speed_by_spa",
    "speed_report",
    "spoken",
]
