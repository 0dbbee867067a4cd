"""The callback request's fixed choices: when the patient would like to be called."""

from __future__ import annotations

BEST_TIMES = {
    "anytime": "Any time",
    "morning": "Morning (9 am to noon)",
    "afternoon": "Afternoon (noon to 5 pm)",
    "evening": "Early evening (5 to 7 pm)",
}
# How the thank-you sentence names each choice.
BEST_TIME_PHRASES = {
    "anytime": "at any time of day, as you said suits you",
    "morning": "in the morning",
    "afternoon": "in the afternoon",
    "evening": "in the early evening",
}
