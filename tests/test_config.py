"""Configuration order and the start-up checks that refuse an unsafe setup."""

from __future__ import annotations

import pytest

from quiz import create_app
from quiz.settings import ConfigError
from quiz.settings.checks import check_origins

PRODUCTION = {"ENV": "production", "TESTING": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"}


@pytest.mark.parametrize("key", [None, "", "dev", "changeme", "short-key"])
def test_production_refuses_to_start_without_a_real_secret_key(key: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        create_app({**PRODUCTION, "SECRET_KEY": key})
    assert "QUIZ_SECRET_KEY" in str(err.value)  # says how to set one


def test_production_starts_with_a_real_secret_key() -> None:
    app = create_app({**PRODUCTION, "SECRET_KEY": "a-long-random-value-9f8e7d6c5b4a"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_runs_without_a_key_and_without_secure_cookies() -> None:
    app = create_app(
        {"ENV": "development", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    assert len(app.config["SECRET_KEY"]) >= 32
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_environment_overrides_defaults_and_test_mapping_overrides_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUIZ_SPA_NAME", "Glow Clinic")
    monkeypatch.setenv("QUIZ_MIN_FILL_SECONDS", "7")
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "MIN_FILL_SECONDS": 1}
    )
    assert app.config["SPA_NAME"] == "Glow Clinic"
    assert app.config["MIN_FILL_SECONDS"] == 1
    page = app.test_client().get("/quiz/result?concern=volume&area=cheeks&goal=repair")
    assert "Glow Clinic" in page.get_data(as_text=True)


def test_embed_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZ_EMBED_ORIGINS", '["https://www.myspa.com", "http://localhost:8001"]')
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["EMBED_ORIGINS"] == ["https://www.myspa.com", "http://localhost:8001"]


@pytest.mark.parametrize(
    "value",
    [
        "https://www.myspa.com",  # not a JSON list
        ["www.myspa.com"],
        ["https://www.myspa.com/blog"],
        ["https://*.myspa.com"],
        ["javascript:alert(1)"],
        ["https://www.myspa.com 'unsafe-inline'"],
        [42],
    ],
)
def test_malformed_embed_origin_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match="EMBED_ORIGINS"):
        check_origins(value)


def test_invalid_spa_phone_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="SPA_PHONE"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SPA_PHONE": "12"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("MIN_FILL_SECONDS", "abc"), ("FORM_MAX_AGE_SECONDS", 0), ("MAX_CONTENT_LENGTH", None)],
)
def test_a_bad_number_stops_start_up(name: str, value: object) -> None:
    with pytest.raises(ConfigError, match=name):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", name: value})


def test_an_all_digit_secret_key_from_the_environment_is_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUIZ_SECRET_KEY", "84729104738291047382910")
    app = create_app({**PRODUCTION})
    assert app.config["SECRET_KEY"] == "84729104738291047382910"
