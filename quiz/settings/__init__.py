"""Settings: every one declared once (schema), loaded in order, checked at start-up."""

from __future__ import annotations


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says how to fix it."""
