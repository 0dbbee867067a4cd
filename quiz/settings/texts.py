"""Checks of the text-message settings: staff numbers in E.164 and the opening hours.

Each returns the value normalised or raises ConfigError naming the setting;
the checks that weigh several settings together (the account, the sender,
STAFF_BASE_URL) run where the SMS channel is built (quiz.notifications.settings).
"""

from __future__ import annotations

import json
from typing import Any

import phonenumbers

from quiz.core.opening_hours import OpeningHours, parse_opening_hours
from quiz.settings import ConfigError


def e164_numbers(value: Any, name: str) -> list[str]:
    """A list (JSON text, or commas) of phone numbers written with + and country code."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip().startswith("[") else value.split(",")
        except json.JSONDecodeError:
            raise ConfigError(f'{name} must be a JSON list such as ["+13015550100"].') from None
    if not isinstance(value, list | tuple):
        raise ConfigError(f'{name} must be a list of numbers such as ["+13015550100"].')
    numbers = []
    for entry in value:
        text = str(entry).strip()
        try:
            number = phonenumbers.parse(text, None)  # no region: + and country code required
            valid = text.startswith("+") and phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            raise ConfigError(
                f"{name}: {entry!r} is not a phone number in E.164 form "
                "(+, country code and number, e.g. +13015550100)."
            )
        numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return list(dict.fromkeys(numbers))  # one text per number, order kept


def check_staff_sms_to(value: Any) -> list[str]:
    return e164_numbers(value, "STAFF_SMS_TO")


def check_escalation_sms_to(value: Any) -> list[str]:
    return e164_numbers(value, "STAFF_ESCALATION_SMS_TO")


def check_opening_hours(value: Any) -> OpeningHours:
    """The weekly opening hours (see quiz.core.opening_hours for the format)."""
    try:
        return parse_opening_hours(value)
    except ValueError as err:
        raise ConfigError(f"STAFF_OPENING_HOURS {err}.") from None
