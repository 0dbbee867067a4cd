"""The pure rules of texting patients: keywords, quiet hours, Twilio's signature.

Each rule must hold for every input, so the keyword and quiet-hour checks run
over Hypothesis draws (any text, any instant, numbers from many zones), and
the signature is checked against the vectors in Twilio's own library's tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiz.texts.keywords import HELP_WORDS, START_WORDS, STOP_WORDS, keyword, normalized
from quiz.texts.quiet_hours import allowed, next_allowed, zones_for
from quiz.texts.signature import is_signed, signature

# --- keywords ---------------------------------------------------------------------

ISSUE_STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                    "OPT OUT", "ALTO", "PARAR", "NO MÁS", "CANCELAR"]  # fmt: skip


@pytest.mark.parametrize("word", ISSUE_STOP_WORDS)
def test_every_stop_word_stops_in_any_case_and_with_or_without_accents(word: str) -> None:
    for written in (word, word.lower(), word.title(), f"  {word}. ", f"{word}!"):
        assert keyword(written) == "stop", written
    assert keyword(word.replace("Á", "A")) == "stop"


@pytest.mark.parametrize("body", ["START", "unstop", "Start.", "HELP", "help?", "Ayuda"])
def test_start_and_help(body: str) -> None:
    assert keyword(body) == ("help" if body.lower().startswith(("help", "ayuda")) else "start")


@pytest.mark.parametrize("body", ["stop by tomorrow?", "Can you stop the 3pm call", "helpful!",
                                  "", "🙂", "no", "ok thanks", "Yes", "Sí", "si!"])  # fmt: skip
def test_a_sentence_is_a_message_not_a_keyword(body: str) -> None:
    assert keyword(body) is None


@given(st.text(max_size=40))
def test_a_keyword_is_exactly_one_known_word_and_nothing_else(body: str) -> None:
    found = keyword(body)
    word = normalized(body)
    expected = {**dict.fromkeys(HELP_WORDS, "help"), **dict.fromkeys(START_WORDS, "start"),
                **dict.fromkeys(STOP_WORDS, "stop")}.get(word)  # fmt: skip
    assert found == expected
    assert (
        word == word.strip() and "  " not in word and all(c == " " or "a" <= c <= "z" for c in word)
    )


# --- quiet hours ------------------------------------------------------------------

NUMBERS = ["+13018105740", "+14155550100", "+19075550100", "+18085550100", "+18005551212",
           "+34911234567", "+525512345678", "+61255501234", "+999"]  # fmt: skip
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NUMBERS), instants)
def test_a_text_waits_for_the_first_allowed_moment_and_never_lands_in_quiet_hours(
    number: str, now: datetime
) -> None:
    zones = zones_for(number, "America/New_York")
    when = next_allowed(number, now, "America/New_York")
    assert when >= now
    wide = not any(allowed(now + timedelta(minutes=m), zones) for m in range(0, 24 * 60, 15))
    if wide:  # no moment of the day suits every zone: the westernmost zone alone
        return
    assert allowed(when, zones)
    # Nothing earlier was allowed: checked minute by minute from now.
    step = now
    while step + timedelta(minutes=1) <= when - timedelta(minutes=1):
        step += timedelta(minutes=1)
        assert not allowed(step, zones), (step, when)


def test_quiet_hours_follow_the_numbers_own_zone() -> None:
    evening_utc = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)  # 21:30 in New York, 18:30 in LA
    assert next_allowed("+14155550100", evening_utc) == evening_utc  # California: now
    new_york = next_allowed("+13018105740", evening_utc)
    assert new_york.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "08:00"
    assert new_york.date().isoformat() == "2026-12-07"


def test_a_number_without_a_known_zone_uses_the_spas() -> None:
    assert zones_for("+999", "America/Chicago") == (ZoneInfo("America/Chicago"),)


# --- Twilio's signature -----------------------------------------------------------

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
          "To": "+18005551212", "Caller": "+14158675309"}  # fmt: skip


def test_the_signature_is_twilios() -> None:
    assert signature("12345", URL, PARAMS.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert signature("12345", URL, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=5),
       st.text(min_size=1, max_size=4))  # fmt: skip
def test_any_change_to_the_request_breaks_the_signature(params: dict[str, str], extra: str) -> None:
    sent = signature("token", URL, params.items())
    assert is_signed("token", URL, params.items(), sent)
    assert not is_signed("other", URL, params.items(), sent)
    assert not is_signed("token", URL + "x", params.items(), sent)
    assert not is_signed("token", URL, [*params.items(), ("Body", extra)], sent)
    assert not is_signed("", URL, params.items(), signature("", URL, params.items()))
