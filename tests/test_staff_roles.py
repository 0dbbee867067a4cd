"""Staff roles, least privilege: desk works leads; only admins export, erase, see deliveries
and the funnel. Enforced on the server (403), hidden in the pages, set from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import text as sql

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import AuditLog, OutboxMessage, StaffUser
from tests.support.app import base_config, leads
from tests.support.staff import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    EMAIL,
    PASSWORD,
    STAFF_CONFIG,
    add_lead,
    cli,
    create_staff,
    get_lead,
    page_token,
    post_export,
    text,
    words,
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(STAFF_CONFIG)


def failed_delivery(app: Flask, lead_id: int) -> int:
    with app.app_context():
        message = OutboxMessage(lead_id=lead_id, channel="webhook", status="failed", attempts=12)
        db.session.add(message)
        db.session.commit()
        return message.id


def delivery_status(app: Flask, message_id: int) -> str:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id).status  # type: ignore[union-attr]


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def role_of(app: Flask, email: str) -> str:
    with app.app_context():
        query = select(StaffUser.role).where(StaffUser.email == email)
        return db.session.execute(query).scalar_one()


ADMIN_ONLY = [
    ("POST", "/staff/export.csv", "Your account can't export leads; ask an admin."),
    ("POST", "/staff/export.xlsx", "Your account can't export leads; ask an admin."),
    ("GET", "/staff/leads/{lead}/erase", "Your account can't erase leads; ask an admin."),
    ("POST", "/staff/leads/{lead}/erase", "Your account can't erase leads; ask an admin."),
    ("GET", "/staff/outbox", "Your account can't see deliveries; ask an admin."),
    ("POST", "/staff/outbox/{message}/retry", "Your account can't retry deliveries; ask an admin."),
    ("GET", "/staff/funnel", "Your account can't see the funnel; ask an admin."),
]


@pytest.mark.parametrize(("method", "path", "message"), ADMIN_ONLY)
def test_a_desk_account_is_refused_what_needs_an_admin(
    app: Flask, desk: FlaskClient, method: str, path: str, message: str
) -> None:
    lead_id = add_lead(app, name="Jane Patient")
    message_id = failed_delivery(app, lead_id)
    url = path.format(lead=lead_id, message=message_id)
    data = {"csrf_token": page_token(desk)}  # a valid form: only the role refuses it
    response = desk.post(url, data=data) if method == "POST" else desk.get(url)
    assert response.status_code == 403
    assert message in words(response)
    assert "Content-Disposition" not in response.headers and "Jane" not in text(response)
    assert [lead.id for lead in leads(app)] == [lead_id]  # nothing erased
    assert delivery_status(app, message_id) == "failed"  # nothing retried
    assert audit_actions(app) == ["staff_create", "login"]  # no export, erase or retry
    assert desk.get("/staff/").status_code == 200  # still signed in


def test_a_desk_account_works_leads(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(app, name="Jane Patient")
    assert "Jane Patient" in words(desk.get("/staff/?status=new"))
    assert "Jane Patient" in words(desk.get(f"/staff/leads/{lead_id}"))
    token = page_token(desk)
    status = desk.post(
        f"/staff/leads/{lead_id}/status", data={"status": "contacted", "csrf_token": token}
    )
    note = desk.post(
        f"/staff/leads/{lead_id}/note", data={"note": "Voicemail", "csrf_token": token}
    )
    assert (status.status_code, note.status_code) == (303, 303)
    lead = get_lead(app, lead_id)
    assert lead is not None and (lead.status, lead.notes) == ("contacted", "Voicemail")


def test_a_desk_account_sees_no_link_it_cannot_use(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(app)
    listing = text(desk.get("/staff/"))
    assert ">Leads</a>" in listing
    for hidden in ("/staff/funnel", "/staff/outbox", "/staff/export.", "Export all"):
        assert hidden not in listing, hidden
    lead_page = text(desk.get(f"/staff/leads/{lead_id}"))
    assert "/erase" not in lead_page and "Erase this lead" not in lead_page
    assert "ask an admin to erase this lead" in lead_page


def test_an_admin_sees_and_uses_everything(app: Flask, admin: FlaskClient) -> None:
    lead_id = add_lead(app, name="Jane Patient")
    message_id = failed_delivery(app, lead_id)
    listing = text(admin.get("/staff/"))
    for shown in (">Funnel</a>", ">Deliveries</a>", 'action="/staff/export.csv"', ">CSV</button>"):
        assert shown in listing, shown
    assert "Erase this lead…" in text(admin.get(f"/staff/leads/{lead_id}"))
    for url in ("/staff/funnel", "/staff/outbox", f"/staff/leads/{lead_id}/erase"):
        assert admin.get(url).status_code == 200, url
    assert "Jane Patient" in post_export(admin, "csv").get_data(as_text=True)
    workbook = post_export(admin, "xlsx")
    assert workbook.headers["Content-Disposition"].endswith(".xlsx") and workbook.data
    token = page_token(admin)
    retried = admin.post(f"/staff/outbox/{message_id}/retry", data={"csrf_token": token})
    assert retried.status_code == 303 and delivery_status(app, message_id) == "pending"
    erased = admin.post(f"/staff/leads/{lead_id}/erase", data={"csrf_token": token})
    assert erased.status_code == 303 and leads(app) == []
    assert audit_actions(app)[2:] == ["export", "export", "outbox_retry", "erase"]


def test_exports_are_posts_with_a_csrf_token(app: Flask, admin: FlaskClient) -> None:
    add_lead(app, name="Jane Patient")
    for fmt in ("csv", "xlsx"):
        got = admin.get(f"/staff/export.{fmt}?status=new")  # a link from anywhere
        assert got.status_code == 405, fmt
        for token in ("", "forged"):
            posted = admin.post(f"/staff/export.{fmt}", data={"csrf_token": token})
            assert posted.status_code == 400, (fmt, token)
            assert "didn't come from this site" in words(posted)
        for refused in (got, posted):
            assert "Jane" not in text(refused) and "Content-Disposition" not in refused.headers
    assert "export" not in audit_actions(app)
    assert "Jane Patient" in post_export(admin, "csv").get_data(as_text=True)  # with the token


def test_exports_read_the_posted_filters_not_the_query_string(
    app: Flask, admin: FlaskClient
) -> None:
    add_lead(app, name="Fill Fay", outcome="fill")
    add_lead(app, name="Relax Rae", outcome="relax")
    data = {"outcome": "fill", "csrf_token": page_token(admin)}
    body = admin.post("/staff/export.csv?outcome=relax", data=data).get_data(as_text=True)
    assert "Fill Fay" in body and "Relax Rae" not in body


def test_a_role_change_applies_at_the_next_request_without_signing_out(
    app: Flask, admin: FlaskClient
) -> None:
    add_lead(app)
    assert "Jane Patient" in post_export(admin, "csv").get_data(as_text=True)
    assert cli(app, "staff", "set-role", ADMIN_EMAIL, "desk").exit_code == 0
    assert admin.get("/staff/").status_code == 200  # the session goes on
    assert post_export(admin, "csv").status_code == 403  # its very next export is refused
    assert admin.get("/staff/funnel").status_code == 403
    assert cli(app, "staff", "set-role", ADMIN_EMAIL, "ADMIN").exit_code == 0
    assert "Jane Patient" in post_export(admin, "csv").get_data(as_text=True)
    with app.app_context():
        changes = db.session.execute(
            select(AuditLog).where(AuditLog.action == "staff_role").order_by(AuditLog.id)
        ).scalars()
        details = [(e.actor, json.loads(e.detail)) for e in changes]
        staff_id = db.session.execute(select(StaffUser.id)).scalar_one()
    assert details == [
        ("cli", {"staff_id": staff_id, "role": "desk", "was": "admin"}),
        ("cli", {"staff_id": staff_id, "role": "admin", "was": "desk"}),
    ]


def test_create_makes_a_desk_account_unless_told_admin(app: Flask) -> None:
    first = cli(app, "staff", "create", EMAIL, input=PASSWORD + "\n")  # the very first account
    assert first.exit_code == 0, first.output
    assert "(desk:" in first.output and "set-role" in first.output
    made = cli(app, "staff", "create", ADMIN_EMAIL, "--role", "admin", input=ADMIN_PASSWORD + "\n")
    assert made.exit_code == 0 and "(admin:" in made.output
    wrong = cli(app, "staff", "create", "x@alazzo.example", "--role", "owner", input=PASSWORD)
    assert wrong.exit_code == 2 and "'owner' is not one of 'desk', 'admin'" in wrong.output
    assert (role_of(app, EMAIL), role_of(app, ADMIN_EMAIL)) == ("desk", "admin")
    with app.app_context():
        created = db.session.execute(select(AuditLog.detail).order_by(AuditLog.id)).scalars()
        assert [json.loads(d)["role"] for d in created] == ["desk", "admin"]
    lines = cli(app, "staff", "list").output.splitlines()
    assert [line.split()[:3] for line in lines] == [
        [EMAIL, "desk", "active"],
        [ADMIN_EMAIL, "admin", "active"],
    ]
    assert "--role" in cli(app, "staff", "create", "--help").output


def test_set_role_says_what_it_could_not_do(app: Flask) -> None:
    unknown = cli(app, "staff", "set-role", EMAIL, "admin")
    assert unknown.exit_code == 1 and "No staff account for desk@alazzo.example" in unknown.output
    create_staff(app, role="desk")
    assert cli(app, "staff", "set-role", EMAIL, "boss").exit_code == 2
    same = cli(app, "staff", "set-role", EMAIL, "desk")
    assert same.exit_code == 0 and "already desk" in same.output
    assert role_of(app, EMAIL) == "desk"
    assert audit_actions(app) == ["staff_create"]  # nothing changed, nothing recorded


def test_accounts_from_before_roles_become_admins(unmigrated_database_uri: str) -> None:
    app = create_app(base_config(unmigrated_database_uri, **STAFF_CONFIG))
    with app.app_context():
        flask_migrate.upgrade(revision="0002")  # the schema before roles
        db.session.execute(
            sql(
                "INSERT INTO staff_user (email, password_hash, active, created_at, session_version)"
                " VALUES (:email, 'scrypt:1024:8:1$x$y', :active, :at, 1)"
            ),
            {"email": EMAIL, "active": True, "at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
        db.session.commit()
        flask_migrate.upgrade()  # `flask db upgrade` to head
        db.session.remove()
    try:
        assert role_of(app, EMAIL) == "admin"  # until now every account could do everything
        create_staff(app, "new@alazzo.example", ADMIN_PASSWORD, role="desk")
        assert role_of(app, "new@alazzo.example") == "desk"
    finally:
        with app.app_context():
            db.engine.dispose()
