"""The theme's checks: colours that read, a font list, a radius."""

from __future__ import annotations

import re
from typing import Any

from quiz.core.colour import MIN_CONTRAST, contrast_ratio, parse_hex_colour
from quiz.settings import ConfigError

# Text sits on white and on the accent's light tint (never darker than this).
_DARKEST_TINT = "#ececec"
_FONT = re.compile(r"[A-Za-z0-9 ,_\-\"']{1,200}")
_RADIUS = re.compile(r"(0|\d{1,2}(\.\d{1,2})?(px|rem|em))")


def check_accent(value: Any) -> str:
    """THEME_ACCENT: a hex colour that reads on white."""
    return _readable("THEME_ACCENT", value, "#ffffff")


def check_text(value: Any) -> str:
    """THEME_TEXT: a hex colour that reads on white and on the accent's light tint."""
    return _readable("THEME_TEXT", value, _DARKEST_TINT)


def _readable(key: str, value: Any, background: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # QUIZ_THEME_TEXT=222222 arrives as a number
    colour = parse_hex_colour(value) if isinstance(value, str) else None
    if colour is None:
        raise ConfigError(f"{key} must be a hex colour such as #7a3e6d, got {value!r}")
    ratio = contrast_ratio(colour, background)
    if ratio < MIN_CONTRAST:
        raise ConfigError(
            f"{key} {colour} is too light to read on {background} (contrast "
            f"{ratio:.1f}:1, needs {MIN_CONTRAST}:1); pick a darker shade"
        )
    return colour


def check_font(font: Any) -> str:
    """THEME_FONT: a font-family list of installed fonts, nothing that could break the CSS."""
    if (
        not isinstance(font, str)
        or not _FONT.fullmatch(font.strip())
        or font.count('"') % 2
        or font.count("'") % 2
    ):
        raise ConfigError(
            f"THEME_FONT must be a CSS font-family list of installed fonts, such as "
            f"'Georgia, serif' (letters, digits, spaces, commas, hyphens, quotes), got {font!r}; "
            "web fonts are not loaded, so nothing comes from a third party"
        )
    return font.strip()


def check_radius(radius: Any) -> str:
    """THEME_RADIUS: a CSS length such as 10px, 0.5rem or 0 (a bare number means px)."""
    if isinstance(radius, int | float) and not isinstance(radius, bool) and 0 <= radius < 100:
        radius = f"{radius:g}px"  # QUIZ_THEME_RADIUS=4 arrives as a number
    if not isinstance(radius, str) or not _RADIUS.fullmatch(radius.strip()):
        raise ConfigError(
            f"THEME_RADIUS must be a length such as 10px, 0.5rem or 0, got {radius!r}"
        )
    return radius.strip()
