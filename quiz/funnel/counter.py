"""The anonymous funnel: how many patients reach each step, and where they leave.

Recording is on the patient's hot path, so it costs a dictionary increment
under a lock and nothing else: no cookie, no IP, no answers, no database
write in the request. Counts are kept per (UTC day, event) in memory and
written in one short upsert transaction at most every `FUNNEL_FLUSH_SECONDS`
by a background thread (one per worker process), so a burst of quiz traffic
never competes with lead writes for SQLite's write lock. A failure to count
is logged and never reaches the patient. The staff funnel page flushes its
own process first; other workers' last few seconds arrive with their next
flush. A worker killed with SIGKILL loses at most its unflushed seconds:
these are statistics, not records.

Events: `view:intro` (the widget was shown), `view:concern` (the quiz was
started), `view:area`, `view:goal`, `view:result`, `outcome:relax|fill|both|consult`,
`view:form` (the callback form was opened) and `callback` (a lead was stored).
A step counts when its page or fragment is served (200, or 304 to a browser
revalidating its copy); a question re-shown because an answer was missing is
not counted again. The intro, the questions and the result are cacheable, so a
view served from a shared cache in front of the app is not counted (nor is its
outcome); the form is never cached, so `view:form` and `callback` always are.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import Counter
from datetime import UTC, date, datetime

from flask import Flask, Response, current_app, request
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quiz.core.model import OUTCOMES
from quiz.db.engine import write_transaction
from quiz.db.models import FunnelCount
from quiz.db.scope import ALL_SPAS, spa_for_insert, spa_scope
from quiz.web import FUNNEL_EVENTS, UNCOUNTED

STEPS = ("intro", "concern", "area", "goal", "result", "form")
# The callback form has its own page (patient.callback_form): "form" is it being opened.
STEP_EVENTS = {f"patient.{step}": f"view:{step}" for step in STEPS[:-1]}
STEP_EVENTS["patient.callback_form"] = "view:form"
EVENTS = (*(f"view:{s}" for s in STEPS), *(f"outcome:{o}" for o in OUTCOMES), "callback")


class FunnelRecorder:
    """In-memory daily counters for one app, flushed to the database in the background."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._counts: Counter[tuple[int, date, str]] = Counter()  # (spa, day, event)
        self._pid: int | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Tests and the CLI flush explicitly; a serving process flushes in the background.
        self.background = not app.testing and app.config["FUNNEL_FLUSH_SECONDS"] > 0

    def record(self, event: str, *, today: date | None = None) -> None:
        """Count one event for today. Never raises for a known event."""
        # Days in the spa's time zone, so "today" on the staff page means the spa's today.
        day = today or datetime.now(self.app.extensions.get("staff_tz", UTC)).date()
        key = (spa_for_insert(), day, event)  # the spa whose page was served
        with self._lock:
            self._counts[key] += 1
            start = self.background and self._pid != os.getpid()
            if start:
                # First event in this process (e.g. a freshly forked gunicorn worker).
                self._pid = os.getpid()
        if start:
            self._start_thread()

    def pending(self, spa_id: int | None = None) -> dict[tuple[date, str], int]:
        """One spa's counts not yet written (the current scope's unless named): for tests."""
        spa = spa_for_insert() if spa_id is None else spa_id
        with self._lock:
            return {(d, e): n for (s, d, e), n in self._counts.items() if s == spa}

    def flush(self) -> int:
        """Write the buffered counts in one transaction; return how many keys were written."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        try:
            with self.app.app_context(), spa_scope(ALL_SPAS):  # every spa's counts at once
                _upsert(counts)
        except Exception:
            # Keep the counts for the next try; the patient never sees this.
            with self._lock:
                self._counts.update(counts)
            self.app.logger.exception("funnel counts could not be written; will retry")
            return 0
        return len(counts)

    def stop(self, *, flush: bool = True) -> None:
        """End the background writer and wait for it; then a last flush, unless told not to.

        For tests: an app's writer must not outlive its test's database (nor
        flush into it at exit). A serving process never calls it: its daemon
        thread ends with it, after the last flush registered at exit.
        """
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join()
        atexit.unregister(self.flush)
        if flush:
            self.flush()

    def _start_thread(self) -> None:
        thread = threading.Thread(target=self._run, name="funnel-flush", daemon=True)
        self._thread = thread
        thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        interval = float(self.app.config["FUNNEL_FLUSH_SECONDS"])
        while not self._wake.wait(interval):
            self.flush()


def _upsert(counts: Counter[tuple[int, date, str]]) -> None:
    with write_transaction() as session:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        rows = [{"spa_id": s, "day": d, "event": e, "count": n}
                for (s, d, e), n in sorted(counts.items())]  # fmt: skip
        stmt = insert(FunnelCount).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[FunnelCount.spa_id, FunnelCount.day, FunnelCount.event],
            set_={"count": FunnelCount.count + stmt.excluded["count"]},
        )
        session.execute(stmt)


def recorder(app: Flask) -> FunnelRecorder:
    return app.extensions["quiz_funnel"]


def record_event(event: str) -> None:
    """Count an event from inside a request; a failure is logged, never raised.

    When the render cache is keeping this response it lists the events under
    FUNNEL_EVENTS, and counts them again each time it serves the copy.
    """
    if request.environ.get(UNCOUNTED):
        return
    try:
        recorder(current_app).record(event)
    except Exception:  # counting must never break a patient's page
        current_app.logger.exception("funnel event %s not counted", event)
    kept = request.environ.get(FUNNEL_EVENTS)
    if kept is not None:
        kept.append(event)


def _count_step_view(response: Response) -> Response:
    event = STEP_EVENTS.get(request.endpoint or "")
    if event and request.method == "GET" and response.status_code in (200, 304):
        record_event(event)
    return response


def register(app: Flask) -> None:
    """Attach the recorder to the app and count the patient blueprint's step views."""
    app.extensions["quiz_funnel"] = FunnelRecorder(app)
    # Per app, not on the shared Blueprint object: it runs for the patient's pages only.
    app.after_request_funcs.setdefault("patient", []).append(_count_step_view)
