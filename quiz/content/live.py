"""Serving the latest published content version, in every worker, within seconds.

At start-up (create_app) the app asks the database for the newest version and
serves it; on a database without versions it first stores the content files
as version 1 (in a write transaction; workers starting together store it
once). Then a background thread per worker process asks every
CONTENT_CHECK_SECONDS for the newest live version's number (the newest that
needed no clinician's approval or has one) and the newest approval's, two
small queries;
the patient's request itself never touches the database (but for the first
request to another spa in a worker, which loads that spa's version: see
LiveContent; each spa has its own versions). Under gunicorn the
thread starts as the worker boots (gunicorn.conf.py's post_worker_init calls
start()), so a worker that gets no request still switches; under any other
server, or a preloaded app forked later, a process's first request starts it.
When the number changed, the new version is parsed and checked and the app's
ContentBundle is replaced by one assignment, logged at INFO ("content version
7 served by worker 1234"): one line per worker and version, the signal that
every worker switched (gunicorn.conf.py sends it to gunicorn's error log).

A WSGI wrapper in front of the render cache takes the bundle once per request
into its environ, so the render cache's key and the page it renders come from
the same version, and a request that started before the switch finishes with
the old content: nothing mixes. A database that is unreachable or not
migrated is logged once and the content in use (the files) is served: the
patient never sees a 500 for it. CONTENT_CHECK_SECONDS = 0 checks in every
request instead of a thread; tests (TESTING) get no thread and call check().
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from quiz.content import approval as content_approval
from quiz.content import publishing as content_publishing
from quiz.content import versions as content_versions
from quiz.content.document import ContentBundle, ContentDocument
from quiz.content.locales import parse_document
from quiz.core.model import Content, ContentError
from quiz.db import scope
from quiz.db.engine import db
from quiz.db.scope import DEFAULT_SPA_ID
from quiz.web import CONTENT_BUNDLE
from quiz.web.languages import current_language

ENVIRON_KEY = CONTENT_BUNDLE  # quiz.web: the bundle this request took
PARSED_KEPT = 256  # distinct parsed documents each worker keeps (spas share them)
EXTENSION = "quiz_content_bundle"
StartResponse = Callable[..., Any]
log = logging.getLogger(__name__)


@dataclass
class _Slot:
    """One spa's served content and what the switch remembers about it."""

    bundle: ContentBundle
    refused: int | None = None  # a stored version that failed the checks (logged once)
    stamp: int | None = None  # the newest approval seen (the reviewed line's source)
    own: bool = True  # False while the install's content stands in for a spa's first load


class LiveContent:
    """Keeps each spa on its newest published version (the default spa's in
    app.extensions[EXTENSION]).

    Every spa has its own versions (quiz/db/scope.py keeps each spa's queries
    to its rows): a publish reaches only its spa. Spas other than the default
    are loaded at their first request in a worker and then polled with the
    default, in one query for all of them; spas whose versions hold the same
    document share one parsed copy, so 500 spas copied from one snapshot cost
    about one spa's memory.
    """

    def __init__(
        self,
        app: Flask,
        wsgi_app: Callable[..., Iterable[bytes]],
        files: ContentDocument,
        bundle: ContentBundle,
    ) -> None:
        """Serve `bundle` (the files) until the database has a version (quiz/stack.py wraps it)."""
        app.extensions[EXTENSION] = bundle
        app.extensions["quiz_live_content"] = self
        self.app = app
        self.wsgi_app = wsgi_app
        self.files = files
        self.interval = float(app.config["CONTENT_CHECK_SECONDS"])
        # Tests check explicitly (or turn this on); a serving process checks in the background.
        self.background = not app.testing and self.interval > 0
        self.lock = threading.Lock()
        self.failing = False  # the database problem was logged; say so again only once fixed
        self.slots: dict[int, _Slot] = {DEFAULT_SPA_ID: _Slot(bundle)}
        self._parsed: OrderedDict[str, Mapping[str, Content]] = OrderedDict()
        self._pid: int | None = None
        self._starting = threading.Lock()  # not `lock`: a request never waits for a check
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.interval == 0:
            self.check()
        elif self.background and self._pid != os.getpid():
            self.start()
        environ[ENVIRON_KEY] = self.bundle_for(scope.current_spa())
        return self.wsgi_app(environ, start_response)

    def bundle_for(self, spa_id: int) -> ContentBundle:
        """The spa's served content; a spa this worker has not served yet is loaded now."""
        if spa_id in (DEFAULT_SPA_ID, scope.ALL_SPAS):
            return self.app.extensions[EXTENSION]
        slot = self.slots.get(spa_id)
        if slot is None:
            with self.lock:  # blocking: this request needs it (once per spa and worker)
                if spa_id not in self.slots:
                    # Until its first version loads, the install's content stands in.
                    self.slots[spa_id] = _Slot(self.app.extensions[EXTENSION], own=False)
                    self._guarded(lambda: self._refresh_one(spa_id))
            slot = self.slots[spa_id]
        return slot.bundle

    @property
    def refused(self) -> int | None:
        return self.slots[DEFAULT_SPA_ID].refused

    def stop(self) -> None:
        """End the background thread and wait for it (a daemon thread ends with its process)."""
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def start(self) -> None:
        """Start this process's checking thread, once (a gunicorn worker at boot)."""
        if not self.background:
            return
        with self._starting:
            if self._pid == os.getpid():
                return  # started already in this process
            self._pid = os.getpid()  # a fresh process (a gunicorn worker): its own thread
            self._thread = threading.Thread(target=self._run, name="content-check", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._wake.wait(self.interval):
            try:
                self.check()
            except Exception:  # never let the thread die: the next check may succeed
                log.exception("content versions: the check failed")

    def check(self) -> None:
        """Ask for each served spa's newest version; load the ones that changed."""
        if not self.lock.acquire(blocking=False):
            return  # another thread is checking: serve what there is
        try:
            self._guarded(self._refresh_all)
        finally:
            self.lock.release()

    def _guarded(self, refresh: Callable[[], None]) -> None:
        """Run a refresh; a database or content problem is logged, the content in use stays."""
        try:
            with self.app.app_context():
                refresh()
            if self.failing:
                log.warning("content versions: the database answers again")
            self.failing = False
        except SQLAlchemyError as exc:
            if not self.failing:
                # The class only: the driver's message may quote data.
                log.warning(
                    "content versions: the database is unreachable or not migrated (%s); "
                    "serving the content in use (run `flask db upgrade`)",
                    type(exc.orig if hasattr(exc, "orig") else exc).__name__,
                )
            self.failing = True
        except ContentError as exc:  # a stored version the app cannot serve: keep the current
            log.error("content versions: the latest version is not served: %s", exc)

    def _refresh_all(self) -> None:
        with scope.spa_scope(DEFAULT_SPA_ID):
            self._refresh(DEFAULT_SPA_ID)
        others = [spa for spa in self.slots if spa != DEFAULT_SPA_ID]
        if not others:
            return
        db.session.commit()  # end the default spa's reads before the install-wide ones
        with scope.spa_scope(scope.ALL_SPAS):
            newest = content_versions.live_ids_by_spa(db.session)
            stamps = content_versions.approval_stamps_by_spa(db.session)
        db.session.commit()
        for spa in others:
            slot = self.slots[spa]
            changed = newest.get(spa) != slot.bundle.version_id or stamps.get(spa) != slot.stamp
            if changed or not slot.own:
                try:
                    self._refresh_one(spa)
                except ContentError as exc:  # this spa keeps what it serves; the others go on
                    log.error("content versions: spa %s's latest version is not served: %s",
                              spa, exc)  # fmt: skip

    def _refresh_one(self, spa: int) -> None:
        with scope.spa_scope(spa):
            self._refresh(spa)
        db.session.commit()

    def _refresh(self, spa: int) -> None:
        """Bring one spa's slot to its newest live version (run in that spa's scope)."""
        session = db.session
        slot = self.slots[spa]
        newest = content_versions.live_id(session)
        if newest is None and content_versions.latest_id(session) is None:
            content_versions.store_first(self.files)
            newest = content_versions.live_id(session)
        stamp = content_versions.approval_stamp(session)
        served = slot.bundle
        if newest in (None, slot.refused):
            return
        if slot.own and newest == served.version_id:
            if stamp != slot.stamp:  # an approval: the reviewed line may have changed
                row = content_versions.get(session, newest)
                assert row is not None
                reviewed = content_approval.reviewed(session, row)
                slot.stamp = stamp
                if reviewed != served.reviewed:
                    self._serve(spa, replace(served, reviewed=reviewed))
                    log.info("content version %s reviewed line updated in worker %s (spa %s)",
                             newest, os.getpid(), spa)  # fmt: skip
            return
        row = content_versions.get(session, newest)
        assert row is not None  # versions are never deleted
        # Until it parses: a broken version (even one that is not JSON) is logged once.
        slot.refused = row.id
        contents = self._contents(row)
        if set(contents) != set(self.app.extensions["quiz_languages"]):
            raise ContentError(f"version {row.id} does not have the languages the quiz serves")
        slot.refused = None
        slot.stamp = stamp
        reviewed = content_approval.reviewed(session, row)
        self._serve(spa, ContentBundle.of(contents, row.id, reviewed))  # the one switch
        log.info("content version %s served by worker %s (spa %s)", row.id, os.getpid(), spa)

    def _serve(self, spa: int, bundle: ContentBundle) -> None:
        self.slots[spa].bundle = bundle
        self.slots[spa].own = True
        if spa == DEFAULT_SPA_ID:
            self.app.extensions[EXTENSION] = bundle

    def _contents(self, row: Any) -> Mapping[str, Content]:
        """The version's parsed languages; one copy per distinct document across spas."""
        key = f"{row.content_hash}:{hashlib.sha256(row.document.encode()).hexdigest()}"
        contents = self._parsed.get(key)
        if contents is None:
            contents = parse_document(content_publishing.stored(row))
            self._parsed[key] = contents
            while len(self._parsed) > PARSED_KEPT:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(key)
        return contents


def live_content(app: Flask) -> LiveContent:
    return app.extensions["quiz_live_content"]


def bundle_of(environ: dict[str, Any], app: Flask) -> ContentBundle:
    """The bundle this request took (the app's current one outside a wrapped request)."""
    return environ.get(ENVIRON_KEY) or app.extensions[EXTENSION]


def current_bundle() -> ContentBundle:
    """This request's content version: the same for everything one response shows."""
    if not has_request_context():  # a delivery run or a command: the current spa's
        return live_content(current_app).bundle_for(scope.spa_for_insert())
    if "quiz_bundle" not in g:
        g.quiz_bundle = bundle_of(request.environ, current_app)
    return g.quiz_bundle


def localized_content() -> Content:
    """The quiz content in this request's language."""
    # One bundle per request: a published version switches every language at
    # once, never in the middle of a page.
    return current_bundle().contents[current_language()]
