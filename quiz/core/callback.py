"""The callback request's fixed choices: when the patient would like to be called.

The words are English and marked for the catalog (N_); pages show them translated.
"""

from __future__ import annotations

import hashlib

from quiz.core import N_

BEST_TIMES = {
    "anytime": N_("Any time"),
    "morning": N_("Morning (9 am to noon)"),
    "afternoon": N_("Afternoon (noon to 5 pm)"),
    "evening": N_("Early evening (5 to 7 pm)"),
}
# How the thank-you sentence names each choice.
BEST_TIME_PHRASES = {
    "anytime": N_("at any time of day, as you said suits you"),
    "morning": N_("in the morning"),
    "afternoon": N_("in the afternoon"),
    "evening": N_("in the early evening"),
}


def consent_fingerprint(text: str, version: str) -> str:
    """What the form says it showed: the consent's version and a short hash of its exact text.

    Sent back with the callback form, so a sentence published (or a spa name
    changed) between the form and the request is noticed, not stored unseen.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{version}:{digest}"
