"""Clear text is allowed to loopback only: decided by the address, not by how the name looks.

The webhook over http, the SMS API over http (its auth token rides in every
request) and SMTP without TLS but with a password are refused in production
unless they go to this machine. A name that merely starts with `127.` (any
DNS name can) is not this machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from quiz import create_app
from quiz.settings import ConfigError
from quiz.settings.checks import is_loopback

PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "a-real-production-secret-0123456789",
    "TRUSTED_HOSTS": ["quiz.alazzo.example"],
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "STAFF_BASE_URL": "https://quiz.alazzo.example",
}
LOOK_ALIKES = ["127.evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "127.1.x"]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "[::1]", "localhost"]


def webhook(host: str) -> dict[str, Any]:
    return {"WEBHOOK_URL": f"http://{host}:9/hook", "WEBHOOK_SECRET": "s" * 32}


def sms_api(host: str) -> dict[str, Any]:
    return {
        "SMS_API_BASE": f"http://{host}:9",
        "STAFF_SMS_TO": ["+13015550101"],
        "SMS_ACCOUNT_SID": "AC" + "0" * 32,
        "SMS_AUTH_TOKEN": "t" * 32,
        "SMS_FROM": "+13015550199",
    }


def smtp(host: str) -> dict[str, Any]:
    return {
        "NOTIFY_EMAIL_TO": ["desk@alazzo.example"],
        "NOTIFY_EMAIL_FROM": "quiz@alazzo.example",
        "SMTP_SECURITY": "none",
        "SMTP_HOST": host.strip("[]"),
        "SMTP_USERNAME": "quiz",
        "SMTP_PASSWORD": "secret",
    }


CHANNELS = {"webhook": webhook, "SMS API": sms_api, "SMTP": smtp}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("host", LOOK_ALIKES)
def test_a_look_alike_of_loopback_gets_no_clear_text(channel: str, host: str) -> None:
    with pytest.raises(ConfigError, match="https://|clear text"):
        create_app({**PRODUCTION, **CHANNELS[channel](host)})


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_itself_may_be_clear_text(channel: str, host: str) -> None:
    create_app({**PRODUCTION, **CHANNELS[channel](host)})


def test_only_loopback_addresses_count() -> None:
    assert [is_loopback(h) for h in LOOPBACK] == [True] * len(LOOPBACK)
    assert not any(is_loopback(h) for h in [*LOOK_ALIKES, "", None, "10.0.0.1", "::", "0.0.0.0"])
