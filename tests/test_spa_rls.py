"""PostgreSQL's row-level security backs the spa scope: a forgotten filter returns nothing.

The app connects as a role that is neither superuser nor BYPASSRLS (as
docs/operations.md asks of production); a query that leaves the spa filter
out on purpose, or raw SQL, still sees only the current spa's rows, a
transaction with no scope set sees none, and a row for another spa can't
be written. Then the patient's path and a spa's staff work under it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import DBAPIError

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import Lead
from quiz.db.scope import ALL_SPAS, DEFAULT_SPA_ID, spa_scope, unscoped
from tests.support.app import base_config, stop_background
from tests.support.database import (
    fresh_postgres_database,
    postgres_admin,
    postgres_missing_message,
)
from tests.support.environment import unavailable
from tests.support.patient import valid_callback
from tests.support.staff import PASSWORD, STAFF_CONFIG, add_lead, create_staff, signed_in_client

pytestmark = pytest.mark.database  # its own database and role, not the suite's fixtures


@pytest.fixture
def rls_app() -> Iterator[Flask]:
    """The app on a fresh PostgreSQL database, connected as an ordinary role."""
    role = f"quiz_app_{uuid.uuid4().hex[:8]}"
    admin = postgres_admin()
    if admin is None:
        unavailable(postgres_missing_message())
    admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    try:
        with fresh_postgres_database("quiz_rls") as url:
            with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as owner:
                owner.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
                owner.execute(
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                )
                owner.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
            as_role = make_url(url).set(username=role).render_as_string(hide_password=False)
            app = create_app(base_config(as_role, **STAFF_CONFIG, SPA_CHECK_SECONDS=0))
            yield app
            stop_background(app)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()


def make_spa(app: Flask, slug: str) -> int:
    result = app.test_cli_runner().invoke(
        args=["spas", "create", slug, "--name", slug.title(), "--origin", f"https://{slug}.example"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context(), spa_scope(ALL_SPAS):
        spa_id = db.session.execute(text("SELECT id FROM spa WHERE slug = :s"), {"s": slug})
        return int(spa_id.scalar_one())


def test_a_query_without_the_filter_still_sees_only_its_spa(rls_app: Flask) -> None:
    glow = make_spa(rls_app, "glow-downtown")
    add_lead(rls_app, name="Dana Default")
    with rls_app.app_context(), spa_scope(glow):
        db.session.add(Lead(**_lead_fields("Gina Glow")))
        db.session.commit()
    with rls_app.app_context():
        forgot = select(Lead.name).execution_options(**unscoped())
        with spa_scope(glow):
            assert db.session.execute(forgot).scalars().all() == ["Gina Glow"]
            raw_sql = db.session.execute(text("SELECT name FROM lead")).scalars().all()
            assert raw_sql == ["Gina Glow"]
        db.session.commit()
        assert db.session.execute(forgot).scalars().all() == ["Dana Default"]  # default scope
        db.session.commit()
        with spa_scope(ALL_SPAS):
            assert sorted(db.session.execute(forgot).scalars()) == ["Dana Default", "Gina Glow"]
        db.session.commit()
        # A scope changed inside one transaction reaches the database too.
        with spa_scope(glow):
            assert db.session.execute(forgot).scalars().all() == ["Gina Glow"]
        db.session.rollback()
        with spa_scope(glow), db.engine.connect() as raw:  # Core on a bare connection too
            assert raw.execute(text("SELECT name FROM lead")).scalars().all() == ["Gina Glow"]
        # A client that sets no spa at all (not the app): no rows.
        dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as bare:
            assert bare.execute("SELECT count(*) FROM lead").fetchone() == (0,)


def test_a_row_for_another_spa_cannot_be_written(rls_app: Flask) -> None:
    glow = make_spa(rls_app, "glow-downtown")
    with rls_app.app_context(), spa_scope(glow):
        db.session.add(Lead(**_lead_fields("Sneaky"), spa_id=DEFAULT_SPA_ID))
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.commit()
        db.session.rollback()
    with rls_app.app_context(), spa_scope(ALL_SPAS):
        assert db.session.execute(select(Lead.name)).scalars().all() == []


def test_the_patient_and_the_spas_staff_work_under_row_level_security(rls_app: Flask) -> None:
    make_spa(rls_app, "glow-downtown")
    patient = rls_app.test_client(use_cookies=False)
    prefix = "/s/glow-downtown"
    sent = patient.post(f"{prefix}/quiz/callback", data=valid_callback(patient, prefix=prefix))
    assert sent.status_code == 200
    dana = valid_callback(patient, name="Dana Default")
    assert patient.post("/quiz/callback", data=dana).status_code == 200
    create_staff(rls_app, "admin@glow.example", PASSWORD, "admin", "--spa", "glow-downtown")
    staff = signed_in_client(rls_app, "admin@glow.example", PASSWORD)
    listed = staff.get("/staff/").get_data(as_text=True)
    assert "Jane Patient" in listed and "Dana Default" not in listed


def _lead_fields(name: str) -> dict[str, object]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return dict(
        name=name, phone="+13018105740", best_time="morning", concern="expression",
        areas="between_brows", goal="prevent", outcome="relax", consent_at=now,
        consent_text_version="v1", consent_text="I agree.", consent_text_hash="0" * 64,
        form_nonce=uuid.uuid4().hex,
    )  # fmt: skip
