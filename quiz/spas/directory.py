"""The live spas as each worker serves them: slug -> id, details, embed origins.

Read from the `spa` table in one query and kept in memory; a worker reads it
again when it is older than SPA_CHECK_SECONDS (2 s by default; 0: every
request), so `flask spas create` and `disable`, run in another process,
reach every worker within that time with no signal to send. 500 spas are
one small query per worker every two seconds; the patient's request itself
never waits on it otherwise.

A spa's details (name, phone, callback window, booking links) are the
install's SPA_* settings with the spa's own on top: its name always, and
whatever its `settings` hold (the same SPA_* names; `--copy-from` copies
them). A spa given no phone of its own shows the install's: a chain's
locations often share one line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from quiz.db.engine import db
from quiz.db.models import Spa as SpaRow
from quiz.db.scope import DEFAULT_SPA_ID, spa_for_insert
from quiz.settings import ConfigError
from quiz.settings.spa import Spa, spa_from_config

EXTENSION = "quiz_spa_directory"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedSpa:
    """A live spa as the patient's pages use it."""

    id: int
    slug: str
    origins: tuple[str, ...]
    details: Spa
    stamp: str  # changes whenever its name, origins or settings do (the render cache's key)


class SpaDirectory:
    """The live spas, by slug and by id, read again every SPA_CHECK_SECONDS."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config["SPA_CHECK_SECONDS"])
        self._lock = threading.Lock()
        self._by_slug: dict[str, ServedSpa] = {}
        self._by_id: dict[int, ServedSpa] = {}
        self._loaded_at = float("-inf")
        self.failing = False  # the database problem was logged; say so again only once fixed

    def by_slug(self, slug: str) -> ServedSpa | None:
        """The live spa with this slug; None for an unknown or disabled one."""
        self._fresh()
        return self._by_slug.get(slug)

    def live(self) -> list[ServedSpa]:
        """Every live spa besides the default one."""
        self._fresh()
        return list(self._by_id.values())

    def by_id(self, spa_id: int) -> ServedSpa | None:
        self._fresh()
        return self._by_id.get(spa_id)

    def details(self, spa_id: int) -> Spa:
        """The spa's details; the install's own for the default spa (or one just disabled)."""
        served = self.by_id(spa_id) if spa_id != DEFAULT_SPA_ID else None
        return served.details if served is not None else self.app.extensions["quiz_spa"]

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.interval:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self.interval:
                return  # another thread just read it
            try:
                with self.app.app_context():
                    rows = db.session.execute(
                        select(SpaRow).where(
                            SpaRow.disabled_at.is_(None), SpaRow.id != DEFAULT_SPA_ID
                        )
                    ).scalars()
                    served = [spa for spa in map(self._served, rows) if spa is not None]
            except SQLAlchemyError as exc:
                # Keep serving the list read last (none yet: a spa's address answers
                # the calm 404); the class only, the driver's message may quote data.
                if not self.failing:
                    log.warning("spas: the database is unreachable (%s); serving the list in use",
                                type(exc).__name__)  # fmt: skip
                self.failing = True
                self._loaded_at = time.monotonic()
                return
            self.failing = False
            self._by_slug = {spa.slug: spa for spa in served}
            self._by_id = {spa.id: spa for spa in served}
            self._loaded_at = time.monotonic()

    def _served(self, row: SpaRow) -> ServedSpa | None:
        own: Mapping[str, Any] = json.loads(row.settings or "{}")
        try:
            details = spa_from_config(spa_config(self.app.config, own, row.name))
        except ConfigError as err:  # checked when stored; a hand-edited row is not served
            log.error("spa %s is not served: %s", row.slug, err)
            return None
        stamp = hashlib.sha256(f"{row.name}\n{row.origins}\n{row.settings}".encode()).hexdigest()
        return ServedSpa(
            id=row.id,
            slug=row.slug,
            origins=tuple(json.loads(row.origins or "[]")),
            details=details,
            stamp="." + stamp[:12],
        )


def spa_config(base: Mapping[str, Any], own: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The settings a spa's details are built from: the install's, the spa's own on top.

    A spa with its own booking page does not inherit the install's per-outcome
    booking pages (they are another spa's services).
    """
    config = {**base, **own, "SPA_NAME": name}
    if "SPA_BOOKING_URL" in own and "SPA_BOOKING_URLS" not in own:
        config["SPA_BOOKING_URLS"] = {}
    return config


def directory(app: Flask) -> SpaDirectory:
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = SpaDirectory(app)
    return found


def current_details(app: Flask) -> Spa:
    """The details of the spa the current work is for (the request's, or a message's)."""
    return directory(app).details(spa_for_insert())
