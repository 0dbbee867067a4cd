"""Colour maths for the theme: hex colours, WCAG contrast, light tints. Pure Python."""

from __future__ import annotations

import re

# WCAG AA for normal text: the accent colours links, and button text sits on it.
MIN_CONTRAST = 4.5
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def read_accent(value: str | None) -> str | None:
    """A readable accent colour as "#rrggbb", or None for anything else."""
    colour = parse_hex_colour(value or "")
    if colour is None or contrast_ratio(colour, "#ffffff") < MIN_CONTRAST:
        return None
    return colour


def parse_hex_colour(value: str) -> str | None:
    """Parse #abc, abc, #aabbcc or aabbcc into lower-case #aabbcc; None otherwise."""
    match = _HEX.fullmatch(value.strip())
    if not match:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two "#rrggbb" colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mix_with_white(colour: str, share: float) -> str:
    """`colour` at `share` (0..1) over white: the light tint behind chosen answers."""
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * share):02x}" for c in channels)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
