"""The funnel: anonymous step counts (counter.py, flushed by a thread), report.py, views.py."""

from quiz.funnel.counter import record_event

__all__ = ["record_event"]
