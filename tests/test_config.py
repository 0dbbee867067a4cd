"""Configuration order and the start-up checks that refuse an unsafe setup."""

from __future__ import annotations

import pytest

from quiz import create_app
from quiz.settings import ConfigError
from quiz.settings.checks import check_origins

PRODUCTION = {
    "ENV": "production",
    "TESTING": False,
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "TRUSTED_HOSTS": ["quiz.myspa.example"],
}
GOOD_KEY = "a-long-random-value-9f8e7d6c5b4a-Qx"


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "dev",
        "changeme",
        "short-key",
        "a" * 16,  # passed the old length-only check
        "a" * 64,
        "abababababababababababababababab",
        "changeme-changeme-changeme-changeme",
        "0123456789abcdef0123456789abcde",  # 31 characters
    ],
)
def test_production_refuses_to_start_without_a_real_secret_key(key: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        create_app({**PRODUCTION, "SECRET_KEY": key})
    assert "QUIZ_SECRET_KEY" in str(err.value)  # says how to set one


def test_production_starts_with_a_real_secret_key() -> None:
    app = create_app({**PRODUCTION, "SECRET_KEY": GOOD_KEY})
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
    monkeypatch.setenv("QUIZ_SECRET_KEY", "847291047382910473829105618273645091")
    app = create_app({**PRODUCTION})
    assert app.config["SECRET_KEY"] == "847291047382910473829105618273645091"


@pytest.mark.parametrize(
    "debug", [{"DEBUG": True}, {"DEBUG": "true"}], ids=["QUIZ_DEBUG", "debug-as-text"]
)
def test_production_refuses_debug_mode(debug: dict) -> None:
    with pytest.raises(ConfigError, match="Debug mode is on"):
        create_app({**PRODUCTION, "SECRET_KEY": GOOD_KEY, **debug})


def test_flask_debug_in_the_environment_cannot_switch_production_into_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="Debug mode is on"):
        create_app({**PRODUCTION, "SECRET_KEY": GOOD_KEY})


def test_debug_does_not_relax_the_production_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Debug once made a missing key acceptable; now it relaxes nothing."""
    monkeypatch.setenv("QUIZ_DEBUG", "true")
    with pytest.raises(ConfigError):
        create_app({**PRODUCTION, "SECRET_KEY": None})


def test_production_needs_trusted_hosts_and_says_how() -> None:
    config = {k: v for k, v in PRODUCTION.items() if k != "TRUSTED_HOSTS"}
    with pytest.raises(ConfigError, match="QUIZ_TRUSTED_HOSTS") as err:
        create_app({**config, "SECRET_KEY": GOOD_KEY})
    assert "TRUSTED_HOSTS must name the host names" in str(err.value)


def test_an_untrusted_host_gets_a_plain_400_in_production() -> None:
    app = create_app({**PRODUCTION, "SECRET_KEY": GOOD_KEY})
    client = app.test_client(use_cookies=False)
    assert client.get("/quiz/", base_url="http://quiz.myspa.example").status_code == 200
    forged = client.get("/quiz", base_url="http://evil.example")
    assert forged.status_code == 400
    assert "evil.example" not in forged.get_data(as_text=True)
