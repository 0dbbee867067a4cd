"""What an inbound text asks for: STOP, START or HELP, in English or Spanish.

Carriers and the TCPA expect any reasonable opt-out word to work, in any case,
with or without accents and stray punctuation ("Stop.", "no más", "NO MAS!").
The whole message must be the word: "stop by tomorrow?" is a patient's
sentence for staff to read, not an opt-out. Pure: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Keyword = Literal["stop", "start", "help"]

STOP_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "opt out", "optout"}
    | {"alto", "parar", "no mas", "cancelar", "baja"}
)
# Not "yes" or "sí": patients answer staff's questions with them, and a keyword is
# answered automatically and never shown to staff as new.
START_WORDS = frozenset({"start", "unstop", "subscribe"} | {"comenzar", "alta"})
HELP_WORDS = frozenset({"help", "info"} | {"ayuda"})

_NOT_LETTERS = re.compile(r"[^a-z]+")


def normalized(body: str) -> str:
    """Lower case, accents dropped, every run of non-letters one space, trimmed."""
    decomposed = unicodedata.normalize("NFKD", body.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_LETTERS.sub(" ", plain).strip()


def keyword(body: str) -> Keyword | None:
    """The keyword the whole message is, or None for an ordinary message."""
    word = normalized(body)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None
