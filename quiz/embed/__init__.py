"""What a spa's page loads: loader.py (/embed.js and the themed stylesheet), bundle.py (htmx
and widget.js as one cacheable script), served.py (versioned, conditional responses),
demo.py (the demo spa page at /).
"""

from quiz.embed.loader import requested_accent  # noqa: E402  (the patient path's accent)

__all__ = ["requested_accent"]
