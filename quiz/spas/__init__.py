"""One install, many spas (issue 25), as one feature: so far the spas themselves.

slugs.py (the slug rule, pure), registry.py (create, list, disable), cli.py
(`flask spas`). An install that never creates a spa serves as before.
Other features import what they use from here, never from a module inside.
"""

from __future__ import annotations

from quiz.spas.registry import SpaError, SpaInfo, create_spa, disable_spa, list_spas

__all__ = ["SpaError", "SpaInfo", "create_spa", "disable_spa", "list_spas"]
