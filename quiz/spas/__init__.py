"""One install, many spas (issue 25), as one feature.

slugs.py (the slug rule, pure), registry.py (create, list, disable), cli.py
(`flask spas`), directory.py (the live spas as a worker serves them),
paths.py (/s/<slug>/… and the scope each request runs in; the scope itself
is quiz/db/scope.py, below every feature). An install that never creates a spa serves as before.
Other features import what they use from here, never from a module inside.
"""

from __future__ import annotations

from quiz.spas.directory import current_details, init_app, texting_spa
from quiz.spas.paths import SpaPaths
from quiz.spas.registry import SpaError, SpaInfo, create_spa, disable_spa, list_spas

__all__ = [
    "SpaError",
    "SpaInfo",
    "SpaPaths",
    "create_spa",
    "current_details",
    "disable_spa",
    "init_app",
    "list_spas",
    "texting_spa",
]
