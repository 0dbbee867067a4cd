"""A wall clock that moves only when the test says so.

Tests about time windows (a rate limit per minute, a form that must not be
sent too fast or too late) freeze `time.time` (the `frozen_time` fixture in
tests/conftest.py) and advance it explicitly, so a loaded machine taking
seconds between two requests changes nothing.
"""

from __future__ import annotations


class FrozenClock:
    """Stands in for `time.time`: `now` stays put until `advance`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
