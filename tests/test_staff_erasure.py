"""Erasure and retention: a lead, its history and its queued notifications go, for good."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from quiz.db.engine import db
from quiz.db.models import AuditLog, Lead, LeadEvent, OutboxMessage
from tests.support.app import leads
from tests.support.patient import valid_callback
from tests.support.staff import (
    STAFF_CONFIG,
    add_lead,
    cli,
    create_staff,
    csrf_token,
    page_token,
    signed_in_client,
    words,
)

NAME = "Zelda Quxworth"
PHONE_TYPED = "(301) 555-0187"
PHONE = "+13015550187"
EMAIL = "zelda.quxworth@example.com"
USER_AGENT = "ErasureTestBrowser/7.3 (unique)"
NOTE = "Zelda prefers Tuesdays"
TRACES = [NAME, "Quxworth", PHONE, "3015550187", EMAIL, USER_AGENT, NOTE]


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(STAFF_CONFIG)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """Erasing a lead is for admins (tests/test_staff_roles.py: a desk account can't)."""
    create_staff(app, role="admin")
    return signed_in_client(app)


def worked_lead(app: Flask, admin: FlaskClient) -> int:
    """A lead from the real quiz, worked by staff (status, note) with a queued notification."""
    patient = app.test_client(use_cookies=False)
    data = valid_callback(patient, name=NAME, phone=PHONE_TYPED, email=EMAIL)
    response = patient.post("/quiz/callback", data=data, headers={"User-Agent": USER_AGENT})
    assert response.status_code == 200
    [lead] = leads(app)
    token = page_token(admin)
    admin.post(f"/staff/leads/{lead.id}/status", data={"status": "contacted", "csrf_token": token})
    admin.post(f"/staff/leads/{lead.id}/note", data={"note": NOTE, "csrf_token": token})
    with app.app_context():
        db.session.add(
            OutboxMessage(
                lead_id=lead.id,
                channel="webhook",
                payload=json.dumps({"lead_id": lead.id, "name": NAME, "phone": PHONE}),
            )
        )
        db.session.commit()
    return lead.id


def every_stored_value(app: Flask) -> str:
    """Every value of every row of every table, as one text."""
    chunks = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                chunks.append(" ".join(str(v) for v in row))
        db.session.remove()
    return "\n".join(chunks)


def sqlite_files(app: Flask) -> list[Path]:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        return []
    main = Path(uri.removeprefix("sqlite:///"))
    return [p for p in (main, Path(f"{main}-wal")) if p.exists()]


def test_erasing_asks_for_confirmation_first(app: Flask, admin: FlaskClient) -> None:
    lead_id = add_lead(app, name=NAME)
    page = admin.get(f"/staff/leads/{lead_id}/erase")
    assert page.status_code == 200
    assert f"Erase lead #{lead_id}?" in words(page)
    assert "cannot be undone" in words(page)
    assert leads(app)  # looking at the question erases nothing


def test_erasure_leaves_no_trace_of_the_person(app: Flask, admin: FlaskClient) -> None:
    lead_id = worked_lead(app, admin)
    stored = every_stored_value(app)
    assert all(trace in stored for trace in TRACES)  # the check below can see them

    confirm = admin.get(f"/staff/leads/{lead_id}/erase").get_data(as_text=True)
    response = admin.post(f"/staff/leads/{lead_id}/erase", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 303
    assert f"Lead #{lead_id} was erased" in words(admin.get(response.headers["Location"]))

    with app.app_context():
        for model in (Lead, LeadEvent, OutboxMessage):
            assert db.session.execute(select(model)).first() is None, model.__name__
    stored = every_stored_value(app)
    for trace in TRACES:
        assert trace not in stored, trace
    # Not in the file's free pages or the write-ahead log either (SQLite).
    for path in sqlite_files(app):
        raw = path.read_bytes()
        for trace in TRACES:
            assert trace.encode() not in raw, (path.name, trace)
    assert admin.get(f"/staff/leads/{lead_id}").status_code == 404


def test_erasure_is_audited_by_id_only(app: Flask, admin: FlaskClient) -> None:
    lead_id = worked_lead(app, admin)
    admin.post(f"/staff/leads/{lead_id}/erase", data={"csrf_token": page_token(admin)})
    with app.app_context():
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "erase")).scalar_one()
    assert json.loads(entry.detail) == {"lead_id": lead_id}
    assert entry.actor == "desk@alazzo.example" and entry.row_count == 1


def test_erasing_needs_the_csrf_token(app: Flask, admin: FlaskClient) -> None:
    lead_id = add_lead(app)
    assert admin.post(f"/staff/leads/{lead_id}/erase").status_code == 400
    assert len(leads(app)) == 1


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def test_purge_erases_leads_older_than_the_given_days(app: Flask) -> None:
    old = add_lead(app, name="Old Patient", created=days_ago(400))
    add_lead(app, name="Recent Patient", created=days_ago(10))
    with app.app_context():
        db.session.add(OutboxMessage(lead_id=old, channel="email"))
        db.session.add(LeadEvent(lead_id=old, kind="note", text="old note"))
        db.session.commit()
    result = cli(app, "leads", "purge", "--older-than", "365")
    assert result.exit_code == 0, result.output
    assert "Erased 1 leads" in result.output
    assert [lead.name for lead in leads(app)] == ["Recent Patient"]
    with app.app_context():
        assert db.session.execute(select(OutboxMessage)).first() is None
        assert db.session.execute(select(LeadEvent)).first() is None
        entry = db.session.execute(select(AuditLog)).scalar_one()
    assert (entry.action, entry.actor, entry.row_count) == ("purge", "cli", 1)
    assert json.loads(entry.detail)["older_than_days"] == 365


@pytest.mark.parametrize("app_config", [{**STAFF_CONFIG, "RETENTION_DAYS": 30}])
def test_purge_uses_retention_days_by_default(app: Flask) -> None:
    add_lead(app, name="Old Patient", created=days_ago(31))
    add_lead(app, name="Recent Patient", created=days_ago(29))
    assert cli(app, "leads", "purge").exit_code == 0
    assert [lead.name for lead in leads(app)] == ["Recent Patient"]


def test_purge_without_a_period_refuses_to_guess(app: Flask) -> None:
    add_lead(app, created=days_ago(1000))
    result = cli(app, "leads", "purge")
    assert result.exit_code == 2
    assert "--older-than DAYS, or set RETENTION_DAYS" in result.output
    assert len(leads(app)) == 1


def test_purge_dry_run_only_counts(app: Flask) -> None:
    add_lead(app, created=days_ago(100))
    add_lead(app, name="Another", created=days_ago(100))
    result = cli(app, "leads", "purge", "--older-than", "90", "--dry-run")
    assert result.exit_code == 0
    assert "2 leads were received before" in result.output
    assert len(leads(app)) == 2


def test_purge_works_in_batches(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("quiz.leads.erasure.PURGE_BATCH", 2)
    for i in range(5):
        add_lead(app, name=f"Old {i}", created=days_ago(50))
    assert "Erased 5 leads" in cli(app, "leads", "purge", "--older-than", "7").output
    assert leads(app) == []


def test_purge_rejects_a_nonsense_period(app: Flask) -> None:
    for bad in ("0", "-3", "soon"):
        assert cli(app, "leads", "purge", "--older-than", bad).exit_code == 2


def test_foreign_keys_cascade_on_this_database(app: Flask) -> None:
    """The erasure relies on ON DELETE CASCADE being enforced by the database."""
    lead_id = add_lead(app)
    with app.app_context():
        db.session.add(LeadEvent(lead_id=lead_id, kind="note", text="x"))
        db.session.commit()
        db.session.execute(text("DELETE FROM lead"))
        db.session.commit()
        assert db.session.execute(select(LeadEvent)).first() is None
