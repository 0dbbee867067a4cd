"""What a spa's page loads: loader.py (/embed.js and the themed stylesheet), bundle.py (htmx
and widget.js as one cacheable script), served.py (versioned, conditional responses),
demo.py (the demo spa page at /).
"""

from quiz.embed.loader import requested_accent  # the patient path reads the accent here

__all__ = ["requested_accent"]
