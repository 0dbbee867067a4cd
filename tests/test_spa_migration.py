"""Upgrading an install of the current release: its data becomes the default spa, nothing lost.

A database made by the migrations up to 0010 (the release before spas owned
rows) is filled with leads, their history, staff, audit entries, outbox
messages, funnel counts, content versions with an approval, a draft, texts
and an opted-out number, plus a spa created under 0010. After `flask db
upgrade` every row is still there, each belongs to the default spa, the
0010 spa is still listed, and the app serves the old data as before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import flask_migrate
from sqlalchemy import text

from quiz import create_app
from quiz.db.engine import db
from quiz.db.scope import DEFAULT_SPA_ID
from tests.support.app import base_config
from tests.support.staff import PASSWORD, STAFF_CONFIG, signed_in_client

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
TABLES = ("lead", "lead_event", "staff_user", "audit_log", "outbox", "funnel_count",
          "content_version", "content_approval", "content_draft", "text_message",
          "text_opt_out")  # fmt: skip


def _insert(table: str, **values: Any) -> None:
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    db.session.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _fill_release_0010() -> None:
    """Rows as the release before 0011 stored them (its columns only)."""
    from quiz.staff.passwords import hash_password

    _insert(
        "staff_user",
        id=1,
        email="admin@alazzo.example",
        password_hash=hash_password(PASSWORD),
        active=True,
        created_at=AT,
        session_version=1,
        role="admin",
        name="",
        credential="",
    )
    _insert(
        "staff_user",
        id=2,
        email="dr@alazzo.example",
        password_hash="x",
        active=True,
        created_at=AT,
        session_version=1,
        role="clinical",
        name="Dr. Ana Ruiz",
        credential="MD",
    )
    for lead_id, name in ((1, "Olga Oldlead"), (2, "Pat Previous")):
        _insert(
            "lead",
            id=lead_id,
            created_at=AT,
            updated_at=AT,
            status="new",
            name=name,
            phone="+13018105740",
            email="",
            best_time="morning",
            concern="expression",
            areas="between_brows",
            goal="prevent",
            outcome="relax",
            consent_at=AT,
            consent_text_version="v1",
            consent_text_hash="0" * 64,
            consent_text="I agree.",
            consent_ip="",
            consent_user_agent="",
            consent_origin="",
            source_url="",
            referrer="",
            utm_source="",
            utm_medium="",
            utm_campaign="",
            utm_term="",
            utm_content="",
            notes="",
            locale="en",
            sms_consent=False,
            sms_consent_text="",
            sms_consent_text_hash="",
            sms_consent_text_version="",
            form_nonce=f"n{lead_id}",
        )
    _insert(
        "lead_event",
        lead_id=1,
        at=AT,
        staff_id=1,
        kind="note",
        old_status="",
        new_status="",
        text="Called, no answer",
    )
    _insert(
        "audit_log", at=AT, staff_id=1, actor="admin@alazzo.example", action="login", detail="{}"
    )
    _insert(
        "outbox",
        lead_id=1,
        channel="email",
        payload="{}",
        status="delivered",
        attempts=1,
        next_attempt_at=AT,
        claimed_by="",
        last_error="",
        created_at=AT,
    )
    _insert("funnel_count", day=date(2026, 12, 1), event="view:intro", count=41)
    for version in (1, 2):
        _insert(
            "content_version",
            id=version,
            published_at=AT,
            author="file",
            note="",
            based_on=version - 1 or None,
            content_hash="h",
            document="{}",
            medical_hash="m",
            needs_approval=version == 2,
        )
    _insert(
        "content_approval",
        version_id=2,
        medical_hash="m",
        approved_at=AT,
        staff_id=2,
        email="dr@alazzo.example",
        name="Dr. Ana Ruiz",
        credential="MD",
        via="cli",
    )
    _insert("content_draft", staff_id=1, based_on=2, updated_at=AT, document="{}")
    _insert(
        "text_message",
        created_at=AT,
        lead_id=1,
        direction="in",
        kind="patient",
        number="+13018105740",
        body="Is Friday ok?",
        status="received",
        error="",
    )
    _insert("text_opt_out", number="+13015550199", opted_out_at=AT, changed_at=AT)
    _insert("spa", id=1, slug="glow-downtown", name="Glow Downtown", origins='["https://g.example"]',
            settings="{}", copied_from="", created_at=AT)  # fmt: skip
    db.session.commit()  # fmt: skip


def test_the_current_releases_data_becomes_the_default_spa(unmigrated_database_uri: str) -> None:
    app = create_app(base_config(unmigrated_database_uri, **STAFF_CONFIG))
    try:
        with app.app_context():
            flask_migrate.upgrade(revision="0010")
            _fill_release_0010()
            before = {
                t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES
            }
            db.session.remove()
            flask_migrate.upgrade()
            after = {
                t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES
            }
            owners = {
                t: set(db.session.execute(text(f"SELECT DISTINCT spa_id FROM {t}")).scalars())
                for t in TABLES
            }
            spas = db.session.execute(text("SELECT id, slug FROM spa ORDER BY id")).all()
            db.session.remove()
        assert after == before and all(before.values())  # every row of every table is kept
        assert owners == {t: {DEFAULT_SPA_ID} for t in TABLES}
        assert [tuple(row) for row in spas] == [(1, "default"), (2, "glow-downtown")]
        listed = app.test_cli_runner().invoke(args=["spas", "list"]).output
        assert "glow-downtown" in listed and "default" not in listed
        staff = signed_in_client(app, "admin@alazzo.example", PASSWORD)
        page = staff.get("/staff/").get_data(as_text=True)
        assert "Olga Oldlead" in page and "Pat Previous" in page
        lead = staff.get("/staff/leads/1").get_data(as_text=True)
        assert "Called, no answer" in lead, lead
        assert app.test_client().get("/quiz/").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()
