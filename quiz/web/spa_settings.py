"""Each spa's own settings, and what every feature builds from them (issue 25).

The install's configuration is the default spa's. Another spa's settings are
the install's with the spa's own on top (`flask spas set SLUG --set
NAME=VALUE`, stored on its row); only the names in
`quiz.settings.schema.SPA_SETTINGS` may be a spa's own. The database, Redis,
the secret key, the SMTP relay and the SMS account stay install-wide.

A feature that builds something from settings at start-up (the outbox's
channels, the texting settings, the themed stylesheet, the opening hours)
`declare`s it: the install's is built at once, so a mistake stops start-up as
before, and a spa's is built the first time work for that spa asks
(`for_spa`) and again whenever its settings change. `check` runs every
declared build on a spa's proposed settings, so `flask spas set` refuses what
could not work, with the message start-up would give.

quiz.spas provides the spa's settings (`provide`); this layer cannot import a
feature, and each feature reads its own spa's settings through here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask

from quiz.db.scope import DEFAULT_SPA_ID, spa_for_insert

T = TypeVar("T")
# spa id -> (a stamp that changes with its settings, its whole configuration), or None
Provider = Callable[[int], "tuple[str, Mapping[str, Any]] | None"]

_PROVIDER = "quiz_spa_settings"
_BUILDERS = "quiz_spa_builders"
_BUILT = "quiz_spa_built"
_lock = threading.Lock()


def provide(app: Flask, provider: Provider) -> None:
    """Say where a spa's settings come from (quiz.spas, at start-up)."""
    app.extensions[_PROVIDER] = provider


def declare(app: Flask, name: str, build: Callable[[Mapping[str, Any]], T]) -> T:
    """Build `name` from the install's settings now; each spa's is built on first use."""
    value = build(app.config)
    app.extensions[name] = value
    app.extensions.setdefault(_BUILDERS, {})[name] = build
    return value


def settings(app: Flask, spa_id: int | None = None) -> Mapping[str, Any]:
    """The settings of `spa_id` (default: the spa the current work is for)."""
    own = _own(app, spa_for_insert() if spa_id is None else spa_id)
    return app.config if own is None else own[1]


def for_spa(app: Flask, name: str, spa_id: int | None = None) -> Any:
    """What `declare(app, name, …)` builds, from the settings of the current spa (or `spa_id`)."""
    spa = spa_for_insert() if spa_id is None else spa_id
    own = _own(app, spa)
    if own is None:
        return app.extensions[name]
    stamp, config = own
    built: dict[tuple[str, int], tuple[str, Any]] = app.extensions.setdefault(_BUILT, {})
    hit = built.get((name, spa))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with _lock:
        # Settings are checked when stored (`check`), so this raises only for a
        # row edited by hand: the spa's work fails loudly rather than borrowing
        # the install's recipients.
        value = app.extensions[_BUILDERS][name](config)
        built[(name, spa)] = (stamp, value)
    return value


def check(app: Flask, config: Mapping[str, Any]) -> None:
    """Build everything declared from `config`: ConfigError names the first setting wrong."""
    for build in app.extensions.get(_BUILDERS, {}).values():
        build(config)


def _own(app: Flask, spa: int) -> tuple[str, Mapping[str, Any]] | None:
    if spa == DEFAULT_SPA_ID:
        return None
    provider: Provider | None = app.extensions.get(_PROVIDER)
    return None if provider is None else provider(spa)
