"""The settings are declared once, validated generically, and documented from the schema."""

from __future__ import annotations

import pytest

from quiz import create_app
from quiz.settings import ConfigError
from quiz.settings.docs import TARGET, render
from quiz.settings.schema import SETTINGS, Setting

BASE = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}


def test_docs_configuration_md_is_generated_from_the_schema() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `make docs` and commit it"
    )


def test_every_setting_is_documented_once() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    page = render()
    for setting in SETTINGS:
        assert page.count(f"| `QUIZ_{setting.name}` |") == 1, setting.name
        assert setting.doc.strip(), setting.name


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if s.kind in ("int", "number")], ids=lambda s: s.name
)
def test_every_number_is_checked_at_start_up(setting: Setting) -> None:
    for bad in ("many", True, setting.low - 1, setting.high + 1):
        with pytest.raises(ConfigError, match=setting.name):
            create_app({**BASE, setting.name: bad})


def test_staff_page_size_zero_stops_start_up_instead_of_dividing_by_it() -> None:
    with pytest.raises(ConfigError, match="STAFF_PAGE_SIZE must be from 1 to 500, got 0"):
        create_app({**BASE, "STAFF_PAGE_SIZE": 0})


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.kind == "bool"], ids=lambda s: s.name)
def test_every_switch_takes_true_or_false_only(setting: Setting) -> None:
    with pytest.raises(ConfigError, match=f"{setting.name} must be true or false"):
        create_app({**BASE, setting.name: "maybe"})


def test_a_choice_outside_its_list_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="SMTP_SECURITY must be one of starttls, tls, none"):
        create_app({**BASE, "SMTP_SECURITY": "ssl"})


def test_numbers_and_switches_from_the_environment_are_read_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUIZ_STAFF_PAGE_SIZE", "25")
    monkeypatch.setenv("QUIZ_WEBHOOK_INCLUDE_LEAD_FIELDS", "true")
    monkeypatch.setenv("QUIZ_TRUSTED_HOSTS", "Quiz.MySpa.example, quiz.other.example")
    app = create_app(dict(BASE))
    assert app.config["STAFF_PAGE_SIZE"] == 25
    assert app.config["WEBHOOK_INCLUDE_LEAD_FIELDS"] is True
    assert app.config["TRUSTED_HOSTS"] == ["quiz.myspa.example", "quiz.other.example"]


def test_a_bad_time_zone_or_region_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="STAFF_TIMEZONE 'Mars/Olympus' is not a time zone"):
        create_app({**BASE, "STAFF_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="PHONE_DEFAULT_REGION"):
        create_app({**BASE, "PHONE_DEFAULT_REGION": "XX"})


def test_a_secret_is_never_repeated_in_a_message() -> None:
    with pytest.raises(ConfigError) as err:
        create_app({**BASE, "SMTP_PASSWORD": ["hunter2-very-secret"]})
    assert "hunter2" not in str(err.value)
