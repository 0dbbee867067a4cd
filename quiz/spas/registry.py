"""The spas an install serves: create (optionally from another's snapshot), list, disable.

A spa created with `copy_from` starts with that spa's settings (but not its
texting number or webhook: NOT_COPIED) and its live content (as its version
1), the way an agency's snapshot starts a client: no leads, no staff, no
clinical approvals. Without it, the default spa's content.
Nothing is ever half-created: the checks run first, and the row and its
content go in one write transaction, so a second `create` of the same slug
at the same moment is refused by the unique slug, not stored twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from quiz.content import copy_live
from quiz.core.clock import utcnow
from quiz.db.engine import db, write_transaction
from quiz.db.models import Spa
from quiz.db.scope import DEFAULT_SPA_ID
from quiz.settings import ConfigError
from quiz.settings.checks import check_origins
from quiz.settings.schema import SPA_SETTINGS
from quiz.settings.spa import spa_from_config
from quiz.spas.directory import sender_key, spa_config
from quiz.spas.slugs import check_slug

MAX_NAME = 120
# What a snapshot (--copy-from) leaves behind: what identifies the source spa
# to the outside. A number texts for one spa only, and a webhook receiver (with
# its secret) is the source's own system.
NOT_COPIED = ("SMS_FROM", "SMS_MESSAGING_SERVICE_SID", "WEBHOOK_URL", "WEBHOOK_SECRET")


class SpaError(ValueError):
    """A spa that can't be created or changed; the message says why."""


@dataclass(frozen=True)
class SpaInfo:
    slug: str
    name: str
    origins: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None
    copied_from: str

    @property
    def live(self) -> bool:
        return self.disabled_at is None


def create_spa(slug: str, name: str, origins: list[str], copy_from: str = "") -> SpaInfo:
    """Check everything, then store the spa; SpaError (nothing stored) when it can't be."""
    try:
        check_slug(slug)
    except ValueError as err:
        raise SpaError(str(err)) from None
    name = _checked_name(name)
    if not origins:
        raise SpaError("give at least one --origin: the site that embeds this spa's quiz")
    try:
        checked = check_origins(list(origins))
    except ConfigError as err:
        raise SpaError(str(err).replace("EMBED_ORIGINS entry", "--origin")) from None
    settings = "{}"
    source_id = DEFAULT_SPA_ID
    if copy_from:
        source = db.session.execute(select(Spa).where(Spa.slug == copy_from)).scalar_one_or_none()
        if source is None:
            raise SpaError(f"--copy-from {copy_from!r}: there is no spa with that slug")
        own = json.loads(source.settings or "{}")
        settings = json.dumps({k: v for k, v in own.items() if k not in NOT_COPIED},
                              sort_keys=True)  # fmt: skip
        source_id = source.id
    db.session.rollback()  # end the reads: the write starts its own transaction
    try:
        with write_transaction() as session:
            spa = Spa(slug=slug, name=name, origins=json.dumps(checked), settings=settings,
                      copied_from=copy_from, created_at=utcnow())  # fmt: skip
            session.add(spa)
            session.flush()
            # Its content starts as the source's live version (the default spa's
            # unless --copy-from): its own from then on.
            copy_live(session, source_id, spa.id, f"copied from {copy_from or 'the default spa'}")
    except IntegrityError:
        raise SpaError(f"a spa with the slug {slug!r} exists already") from None
    return _info(spa)


def update_spa(
    slug: str,
    *,
    name: str | None = None,
    origins: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    unset: list[str] | None = None,
    base: Mapping[str, Any] | None = None,
    check: Callable[[Mapping[str, Any]], None] | None = None,
) -> SpaInfo:
    """Change a spa's name, origins or settings; SpaError (nothing changed) when one is wrong.

    `base` is the install's configuration the settings go on top of; `check`
    builds from both what every feature builds (quiz.web.spa_settings.check),
    so a spa's settings are refused with the message start-up would give.
    """
    for key in [*(settings or {}), *(unset or [])]:
        if key not in SPA_SETTINGS:
            raise SpaError(f"{key} is not a setting a spa may have of its own; those are: "
                           + ", ".join(SPA_SETTINGS))  # fmt: skip
    with write_transaction() as session:
        spa = session.execute(select(Spa).where(Spa.slug == slug)).scalar_one_or_none()
        if spa is None or spa.id == DEFAULT_SPA_ID:
            raise SpaError(
                f"there is no spa with the slug {slug!r} (the default spa's settings are the "
                "install's configuration)"
            )
        if name is not None:
            spa.name = _checked_name(name)
        if origins:
            try:
                spa.origins = json.dumps(check_origins(list(origins)))
            except ConfigError as err:
                raise SpaError(str(err).replace("EMBED_ORIGINS entry", "--origin")) from None
        if settings or unset:
            own = {**json.loads(spa.settings or "{}"), **(settings or {})}
            for key in unset or []:
                own.pop(key, None)
            _check_number_is_free(session, spa, own, base or {})
            try:
                config = spa_config(base or {}, own, spa.name)
                spa_from_config(config)
                if check is not None:
                    check(config)
            except ConfigError as err:
                raise SpaError(str(err)) from None
            spa.settings = json.dumps(own, sort_keys=True)
    return _info(spa)


def _check_number_is_free(
    session: Any, spa: Spa, own: Mapping[str, Any], base: Mapping[str, Any]
) -> None:
    """A texting number (or Messaging Service) is one spa's: inbound texts route by it."""
    for key in ("SMS_FROM", "SMS_MESSAGING_SERVICE_SID"):
        mine = sender_key(own.get(key))
        if not mine:
            continue
        if mine == sender_key(base.get(key)):
            raise SpaError(f"{key} {own[key]} is the install's own (the default spa's)")
        others = session.execute(select(Spa).where(Spa.id != spa.id)).scalars()
        for other in others:
            if mine == sender_key(json.loads(other.settings or "{}").get(key)):
                raise SpaError(f"{key} {own[key]} is the spa {other.slug}'s already: "
                               "a number texts for one spa")  # fmt: skip


def _checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise SpaError(f"--name must be the spa's name, 1 to {MAX_NAME} characters")
    return name


def spa_settings_of(slug: str) -> dict[str, Any]:
    """The settings a spa has of its own (the rest are the install's); SpaError if none."""
    spa = db.session.execute(select(Spa).where(Spa.slug == slug)).scalar_one_or_none()
    if spa is None or spa.id == DEFAULT_SPA_ID:
        raise SpaError(f"there is no spa with the slug {slug!r}")
    return dict(json.loads(spa.settings or "{}"))


def list_spas() -> list[SpaInfo]:
    query = select(Spa).where(Spa.id != DEFAULT_SPA_ID).order_by(Spa.slug)
    return [_info(spa) for spa in db.session.scalars(query)]


def disable_spa(slug: str) -> SpaInfo:
    """Stop serving the spa (its addresses will answer 404); its data stays."""
    with write_transaction() as session:
        spa = session.execute(select(Spa).where(Spa.slug == slug)).scalar_one_or_none()
        if spa is None:
            raise SpaError(f"there is no spa with the slug {slug!r}")
        if spa.id == DEFAULT_SPA_ID:
            raise SpaError("the default spa is the install's own (/quiz/); it cannot be disabled")
        if spa.disabled_at is None:
            spa.disabled_at = utcnow()
    return _info(spa)


def _info(spa: Spa) -> SpaInfo:
    return SpaInfo(
        slug=spa.slug,
        name=spa.name,
        origins=tuple(json.loads(spa.origins or "[]")),
        created_at=spa.created_at,
        disabled_at=spa.disabled_at,
        copied_from=spa.copied_from,
    )
