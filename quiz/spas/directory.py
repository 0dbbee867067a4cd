"""The spas as each worker serves them: slug -> id, details, embed origins, settings.

Read from the `spa` table in one query and kept in memory; a worker reads it
again when it is older than SPA_CHECK_SECONDS (2 s by default; 0: every
request), so `flask spas create` and `disable`, run in another process,
reach every worker within that time with no signal to send. 500 spas are
one small query per worker every two seconds; the patient's request itself
never waits on it otherwise.

A spa's settings are the install's with the spa's own on top: its name
always, and whatever its `settings` hold (names from SPA_SETTINGS, checked
by `flask spas set`; `--copy-from` copies them). A spa given no phone of its
own shows the install's: a chain's locations often share one line. Every
feature reads them through quiz.web.spa_settings, which this directory
provides; a disabled spa's settings stay known, so its last leads'
notifications still go to its own recipients, never the install's.
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
from quiz.settings.loading import validate
from quiz.settings.schema import SPA_SETTINGS
from quiz.settings.spa import Spa, spa_from_config
from quiz.web.spa_settings import provide

EXTENSION = "quiz_spa_directory"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedSpa:
    """A spa as its work uses it: its patient pages, its notifications, its staff."""

    id: int
    slug: str
    origins: tuple[str, ...]
    details: Spa
    config: Mapping[str, Any]  # the install's settings with the spa's own on top
    own: Mapping[str, Any]  # the spa's own settings alone
    stamp: str  # changes whenever its name, origins or settings do (the render cache's key)
    live: bool


class SpaDirectory:
    """Every spa, by slug and by id, read again every SPA_CHECK_SECONDS."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config["SPA_CHECK_SECONDS"])
        self._lock = threading.Lock()
        self._by_slug: dict[str, ServedSpa] = {}  # live spas only: the patient's addresses
        self._by_id: dict[int, ServedSpa] = {}  # every spa, disabled ones too (their outbox)
        self._broken: dict[int, str] = {}  # id -> why its stored settings can't be used
        self._loaded_at = float("-inf")
        self._missed_at = float("-inf")
        self.failing = False  # the database problem was logged; say so again only once fixed

    def by_slug(self, slug: str) -> ServedSpa | None:
        """The live spa with this slug; None for an unknown or disabled one."""
        self._fresh()
        return self._by_slug.get(slug)

    def live(self) -> list[ServedSpa]:
        """Every live spa besides the default one."""
        self._fresh()
        return list(self._by_slug.values())

    def by_id(self, spa_id: int) -> ServedSpa | None:
        """The spa with this id, live or disabled; a spa created a moment ago is read at once."""
        self._fresh()
        found = self._by_id.get(spa_id)
        if found is None and spa_id not in self._broken and spa_id != DEFAULT_SPA_ID:
            # Created in another process since the last read (its first lead's
            # message can reach the deliverer first): read again, at most once a second.
            if time.monotonic() - self._missed_at > 1:
                self._missed_at = time.monotonic()
                self._loaded_at = float("-inf")
                self._fresh()
                found = self._by_id.get(spa_id)
        return found

    def details(self, spa_id: int) -> Spa:
        """The spa's details; the install's own for the default spa."""
        served = self.by_id(spa_id) if spa_id != DEFAULT_SPA_ID else None
        return served.details if served is not None else self.app.extensions["quiz_spa"]

    def own_settings(self, spa_id: int) -> tuple[str, Mapping[str, Any]] | None:
        """(stamp, settings) of a spa for quiz.web.spa_settings; None: the install's."""
        served = self.by_id(spa_id)
        if served is None and spa_id in self._broken:
            raise ConfigError(f"spa {spa_id}: {self._broken[spa_id]}")
        return None if served is None else (served.stamp, served.config)

    def texted_at(self, number: str, service_sid: str = "") -> int:
        """The spa whose own texting number (SMS_FROM) or Messaging Service this is.

        The default spa for anything else: the install's number is its own.
        A disabled spa's number still routes to it (its patients may reply).
        """
        self._fresh()
        for key, wanted in (("SMS_FROM", number), ("SMS_MESSAGING_SERVICE_SID", service_sid)):
            wanted = sender_key(wanted)
            for spa in self._by_id.values():
                if wanted and sender_key(spa.own.get(key)) == wanted:
                    return spa.id
        return DEFAULT_SPA_ID

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.interval:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self.interval:
                return  # another thread just read it
            try:
                with self.app.app_context():
                    rows = db.session.execute(
                        select(SpaRow).where(SpaRow.id != DEFAULT_SPA_ID)
                    ).scalars()
                    read = [(row.id, row.slug, self._served(row)) for row in rows]
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
            served = [spa for _id, _slug, spa in read if isinstance(spa, ServedSpa)]
            self._broken = {id_: why for id_, _slug, why in read if isinstance(why, str)}
            self._by_slug = {spa.slug: spa for spa in served if spa.live}
            self._by_id = {spa.id: spa for spa in served}
            self._loaded_at = time.monotonic()

    def _served(self, row: SpaRow) -> ServedSpa | str:
        """The spa as served (kept while its row is unchanged), or why it can't be."""
        stamp = hashlib.sha256(f"{row.name}\n{row.origins}\n{row.settings}".encode()).hexdigest()
        stamp = "." + stamp[:12]
        live = row.disabled_at is None
        kept = self._by_id.get(row.id)
        if kept is not None and kept.stamp == stamp and kept.live == live:
            return kept  # 500 spas cost one query every two seconds, not 500 rebuilds
        own: Mapping[str, Any] = json.loads(row.settings or "{}")
        try:
            config = spa_config(self.app.config, own, row.name)
            details = spa_from_config(config)
        except ConfigError as err:  # checked when stored; a hand-edited row is not served
            if kept is None or kept.stamp != stamp:
                log.error("spa %s is not served: %s", row.slug, err)
            return str(err)
        return ServedSpa(
            id=row.id,
            slug=row.slug,
            origins=tuple(json.loads(row.origins or "[]")),
            details=details,
            config=config,
            own={key: config[key] for key in own if key in SPA_SETTINGS},
            stamp=stamp,
            live=live,
        )


def spa_config(base: Mapping[str, Any], own: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A spa's settings: the install's, the spa's own on top, checked and normalised.

    A spa with its own booking page does not inherit the install's per-outcome
    booking pages (they are another spa's services), and one with its own
    webhook needs its own secret (the install's would be handed to the spa's
    receiver). Only SPA_SETTINGS may be
    a spa's own; anything else stored is ignored (ConfigError names it when set).
    """
    mine = {key: value for key, value in own.items() if key in SPA_SETTINGS}
    config = {**base, **mine, "SPA_NAME": name}
    if "SPA_BOOKING_URL" in mine and "SPA_BOOKING_URLS" not in mine:
        config["SPA_BOOKING_URLS"] = {}
    if mine.get("WEBHOOK_URL") and "WEBHOOK_SECRET" not in mine:
        config["WEBHOOK_SECRET"] = ""  # its own receiver never gets the install's key
    validate(config, mine)
    return config


def sender_key(value: Any) -> str:
    """A texting number's digits (+1 301-555-0123 and +13015550123 are one), or a
    Messaging Service SID as written: what routing and the one-spa rule compare."""
    text = str(value or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    return text if text.upper().startswith("MG") else digits


def directory(app: Flask) -> SpaDirectory:
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = SpaDirectory(app)
        provide(app, found.own_settings)  # each feature's per-spa settings read from here
    return found


def current_details(app: Flask) -> Spa:
    """The details of the spa the current work is for (the request's, or a message's)."""
    return directory(app).details(spa_for_insert())


def texting_spa(app: Flask, number: str, service_sid: str = "") -> int:
    """The spa a text to (or from) our `number` belongs to (quiz.texts routes by it)."""
    return directory(app).texted_at(number, service_sid)


def init_app(app: Flask) -> None:
    """Make the directory now, so every feature's per-spa settings come from it."""
    directory(app)
