"""`flask staff ...`: accounts from the command line, and the password rules."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from quiz.db.engine import db
from quiz.db.models import AuditLog, StaffUser
from quiz.settings.schema import BY_NAME
from quiz.staff.passwords import common_passwords
from tests.support.staff import EMAIL, PASSWORD, STAFF_CONFIG, cli, create_staff, sign_in


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(STAFF_CONFIG)


def accounts(app: Flask) -> list[StaffUser]:
    with app.app_context():
        rows = list(db.session.execute(select(StaffUser).order_by(StaffUser.id)).scalars())
        db.session.expunge_all()
        return rows


def test_there_is_no_default_account(app: Flask) -> None:
    assert accounts(app) == []
    listed = cli(app, "staff", "list").output
    assert "No staff accounts yet" in listed and "flask staff create EMAIL --role admin" in listed


def test_create_reads_the_password_from_stdin_and_stores_only_a_hash(app: Flask) -> None:
    result = cli(app, "staff", "create", "Desk@Alazzo.Example", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created staff account desk@alazzo.example" in result.output
    [staff] = accounts(app)
    assert staff.email == "desk@alazzo.example"  # stored lower-case
    assert staff.active
    assert staff.role == "desk"  # without --role, even the first account
    assert PASSWORD not in staff.password_hash
    assert staff.password_hash.startswith(STAFF_CONFIG["STAFF_PASSWORD_METHOD"] + "$")
    assert sign_in(app.test_client(), "DESK@alazzo.example", PASSWORD).status_code == 303


def test_the_default_hash_is_scrypt_with_owasp_parameters(app_config: dict[str, Any]) -> None:
    assert BY_NAME["STAFF_PASSWORD_METHOD"].default == "scrypt:131072:8:1"  # N=2**17, r=8, p=1


@pytest.mark.parametrize("app_config", [{}])  # the real default, once
def test_a_real_account_gets_an_owasp_scrypt_hash(app: Flask) -> None:
    create_staff(app)
    [staff] = accounts(app)
    assert staff.password_hash.startswith("scrypt:131072:8:1$")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "at least 8 characters"),
        ("password1", "most common passwords"),
        ("iloveyou", "most common passwords"),
        ("Sunshine", "most common passwords"),
        ("aaaaaaaaaaaa", "too few different characters"),
        ("desk@alazzo.example", "email address"),
        ("x" * 257, "at most 256"),
    ],
)
def test_weak_passwords_are_refused(app: Flask, password: str, message: str) -> None:
    result = cli(app, "staff", "create", EMAIL, input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert accounts(app) == []


def test_long_passphrases_and_any_characters_are_allowed(app: Flask) -> None:
    passphrase = "ünïcode pässphrase with spaces, 64+ characters and no rules at all!"
    assert len(passphrase) >= 64
    assert cli(app, "staff", "create", EMAIL, input=passphrase + "\n").exit_code == 0
    assert sign_in(app.test_client(), EMAIL, passphrase).status_code == 303


def test_no_composition_rules(app: Flask) -> None:
    # All lower-case letters, no digit or symbol: fine when it is long and uncommon.
    assert cli(app, "staff", "create", EMAIL, input="quietmarblepelican\n").exit_code == 0


def test_the_common_password_list_is_shipped(app: Flask) -> None:
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty", "letmein"} <= common


def test_creating_an_existing_account_is_refused(app: Flask) -> None:
    create_staff(app)
    result = cli(app, "staff", "create", EMAIL.upper(), input="another good passphrase\n")
    assert result.exit_code == 1
    assert "already has an account" in result.output
    assert len(accounts(app)) == 1


def test_an_invalid_email_is_refused(app: Flask) -> None:
    result = cli(app, "staff", "create", "not-an-email", input=PASSWORD + "\n")
    assert result.exit_code == 2
    assert "is not an email address" in result.output
    assert accounts(app) == []


def test_set_password_replaces_the_old_one(app: Flask) -> None:
    create_staff(app)
    result = cli(app, "staff", "set-password", EMAIL, input="harbour violet kites\n")
    assert result.exit_code == 0
    assert sign_in(app.test_client(), EMAIL, PASSWORD).status_code == 200
    assert sign_in(app.test_client(), EMAIL, "harbour violet kites").status_code == 303


def test_set_password_for_an_unknown_account_says_so(app: Flask) -> None:
    result = cli(app, "staff", "set-password", EMAIL, input="harbour violet kites\n")
    assert result.exit_code == 1
    assert "No staff account for desk@alazzo.example" in result.output


def test_disable_and_enable(app: Flask) -> None:
    create_staff(app)
    assert cli(app, "staff", "disable", EMAIL).exit_code == 0
    assert not accounts(app)[0].active
    assert sign_in(app.test_client()).status_code == 200
    assert cli(app, "staff", "enable", EMAIL).exit_code == 0
    assert sign_in(app.test_client()).status_code == 303


def test_list_shows_each_account_its_role_and_its_state(app: Flask) -> None:
    create_staff(app, role="desk")
    create_staff(app, "manager@alazzo.example", "seven lucky harbour gulls", role="admin")
    cli(app, "staff", "disable", "manager@alazzo.example")
    sign_in(app.test_client())
    lines = cli(app, "staff", "list").output.splitlines()
    assert len(lines) == 2
    desk = next(line for line in lines if line.startswith(EMAIL))
    manager = next(line for line in lines if line.startswith("manager@"))
    assert desk.split()[1:3] == ["desk", "active"] and "never signed in" not in desk
    assert manager.split()[1:3] == ["admin", "disabled"] and "never signed in" in manager
    assert PASSWORD not in "\n".join(lines)


def test_account_changes_are_audited_without_passwords(app: Flask) -> None:
    create_staff(app)
    cli(app, "staff", "set-password", EMAIL, input="harbour violet kites\n")
    cli(app, "staff", "set-role", EMAIL, "desk")
    cli(app, "staff", "disable", EMAIL)
    with app.app_context():
        entries = list(db.session.execute(select(AuditLog).order_by(AuditLog.id)).scalars())
    assert [e.action for e in entries] == [
        "staff_create",
        "staff_password",
        "staff_role",
        "staff_disable",
    ]
    assert {e.actor for e in entries} == {"cli"}
    assert all("harbour" not in e.detail and "lantern" not in e.detail for e in entries)
