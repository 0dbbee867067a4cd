"""One install, many spas: each spa's quiz at /s/<slug>/, its leads its own, its staff kept in.

What a patient, a spa's staff and another spa's staff would notice: the
quiz under a spa's address stays there and names that spa; a lead belongs
to the spa whose quiz took it; a spa's account never sees another spa's
patients (list, search, lead pages, exports, audit). The scope itself
(quiz/db/scope.py) is checked on SELECT, UPDATE and DELETE.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import AuditLog, Lead, OutboxMessage, Spa, StaffUser
from quiz.db.scope import ALL_SPAS, DEFAULT_SPA_ID, spa_scope
from quiz.notifications import delivery
from tests.support.app import base_config
from tests.support.outbox import notify_config
from tests.support.patient import RESULT_QUERY, valid_callback
from tests.support.peers import SmtpPeer
from tests.support.staff import (
    PASSWORD,
    STAFF_CONFIG,
    add_lead,
    cli,
    create_staff,
    page_token,
    post_export,
    signed_in_client,
    text,
)

GLOW = "/s/glow-downtown"
DEFAULT_ORIGIN, GLOW_ORIGIN = "https://alazzo.example", "https://glow.example"


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    peer = SmtpPeer()
    yield peer
    peer.stop()


@pytest.fixture
def app_config(smtp: SmtpPeer) -> dict[str, Any]:
    return {
        **STAFF_CONFIG,
        **notify_config(smtp, None),
        "EMBED_ORIGINS": [DEFAULT_ORIGIN],
        "SPA_CHECK_SECONDS": 0,
    }


def make_spa(app: Flask, slug: str, name: str, origin: str) -> int:
    result = cli(app, "spas", "create", slug, "--name", name, "--origin", origin)
    assert result.exit_code == 0, result.output
    with app.app_context():
        return db.session.execute(select(Spa.id).where(Spa.slug == slug)).scalar_one()


@pytest.fixture
def glow(app: Flask) -> int:
    return make_spa(app, "glow-downtown", "Glow Downtown", GLOW_ORIGIN)


def all_leads(app: Flask) -> list[Lead]:
    with app.app_context(), spa_scope(ALL_SPAS):
        rows = list(db.session.execute(select(Lead).order_by(Lead.id)).scalars())
        db.session.expunge_all()
        return rows


def local_links(html: str) -> list[str]:
    """Every address in the page that points back into this app (href, src, action, hx-*)."""
    found = re.findall(r'(?:href|src|action|hx-get|hx-post)="(/[^"]*)"', html)
    return [link for link in found if not link.startswith("//")]


# --- the patient's side -------------------------------------------------------------------


def test_a_spas_quiz_lives_under_its_slug_and_every_link_stays_there(
    app: Flask, client: FlaskClient, glow: int
) -> None:
    for path in ("/quiz/", "/quiz/concern", f"/quiz/result?{RESULT_QUERY}"):
        page = client.get(GLOW + path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        links = local_links(html)
        assert links and all(link.startswith(GLOW + "/") for link in links), links
    for asset in {link for link in links if "/static/" in link}:
        assert client.get(asset).status_code == 200, asset
    result = text(client.get(f"{GLOW}/quiz/result?{RESULT_QUERY}"))
    assert "Glow Downtown" in result
    assert "Set-Cookie" not in client.get(GLOW + "/quiz/").headers


def test_a_spas_pages_may_be_framed_by_its_own_origins_only(
    app: Flask, client: FlaskClient, glow: int
) -> None:
    spa_csp = client.get(GLOW + "/quiz/").headers["Content-Security-Policy"]
    default_csp = client.get("/quiz/").headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {GLOW_ORIGIN}" in spa_csp and DEFAULT_ORIGIN not in spa_csp
    assert f"frame-ancestors 'self' {DEFAULT_ORIGIN}" in default_csp
    assert GLOW_ORIGIN not in default_csp


@pytest.mark.parametrize(
    "path", ["/s/no-such-spa/quiz/", "/s/glow-downtown/staff/", "/s/glow-downtown/", "/s/"]
)
def test_unknown_slugs_and_other_addresses_under_a_spa_get_a_calm_404(
    app: Flask, client: FlaskClient, glow: int, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 404
    assert "We couldn't find that page." in text(page) and "Traceback" not in text(page)


def test_a_disabled_spa_answers_404_and_its_leads_stay(
    app: Flask, client: FlaskClient, glow: int
) -> None:
    sent = client.post(GLOW + "/quiz/callback", data=valid_callback(client, prefix=GLOW))
    assert sent.status_code == 200
    assert cli(app, "spas", "disable", "glow-downtown").exit_code == 0
    assert client.get(GLOW + "/quiz/").status_code == 404
    assert client.get("/quiz/").status_code == 200  # the default spa is not touched
    assert [lead.spa_id for lead in all_leads(app)] == [glow]


def test_a_lead_belongs_to_the_spa_whose_quiz_took_it(
    app: Flask, client: FlaskClient, glow: int
) -> None:
    to_glow = valid_callback(client, prefix=GLOW, name="Gina Glow")
    assert client.post(GLOW + "/quiz/callback", data=to_glow).status_code == 200
    to_default = valid_callback(client, name="Dana Default")
    assert client.post("/quiz/callback", data=to_default).status_code == 200
    stored = {lead.name: lead for lead in all_leads(app)}
    assert stored["Gina Glow"].spa_id == glow and stored["Dana Default"].spa_id == DEFAULT_SPA_ID
    assert "Glow Downtown" in stored["Gina Glow"].consent_text  # the consent named that spa
    assert "Glow Downtown" not in stored["Dana Default"].consent_text


def test_one_delivery_run_sends_every_spas_notifications_each_in_its_spas_name(
    app: Flask, client: FlaskClient, glow: int, smtp: SmtpPeer
) -> None:
    sent = client.post(GLOW + "/quiz/callback", data=valid_callback(client, prefix=GLOW))
    assert sent.status_code == 200
    assert client.post("/quiz/callback", data=valid_callback(client)).status_code == 200
    smtp.start()
    with app.app_context():
        report = delivery.deliver_due()
    assert report.delivered == 2
    bodies = sorted(str(message["Subject"]) + message.get_content() for message in smtp.messages)
    assert len(bodies) == 2
    assert sum("Glow Downtown" in body for body in bodies) == 1
    with app.app_context(), spa_scope(ALL_SPAS):
        owners = db.session.execute(select(OutboxMessage.spa_id, OutboxMessage.status)).all()
    assert sorted(owners) == [(DEFAULT_SPA_ID, "delivered"), (glow, "delivered")]


# --- the staff's side ---------------------------------------------------------------------


def test_staff_create_with_spa_names_a_live_spa_or_creates_nothing(app: Flask, glow: int) -> None:
    refused = cli(app, "staff", "create", "x@glow.example", "--spa", "nope", input=PASSWORD + "\n")
    assert refused.exit_code == 1 and "no spa with that slug" in refused.output
    create_staff(app, "desk@glow.example", PASSWORD, "desk", "--spa", "glow-downtown")
    listed = cli(app, "staff", "list").output
    assert re.search(r"desk@glow\.example .* spa glow-downtown", listed)
    with app.app_context(), spa_scope(ALL_SPAS):
        spas = {email: spa for email, spa in db.session.execute(
            select(StaffUser.email, StaffUser.spa_id))}  # fmt: skip
    assert spas == {"desk@glow.example": glow}


def _two_spas_staff(app: Flask) -> tuple[FlaskClient, FlaskClient]:
    create_staff(app, "admin@glow.example", PASSWORD, "admin", "--spa", "glow-downtown")
    create_staff(app, "admin@alazzo.example", PASSWORD, "admin")
    return (
        signed_in_client(app, "admin@glow.example", PASSWORD),
        signed_in_client(app, "admin@alazzo.example", PASSWORD),
    )


def test_a_spas_staff_never_see_another_spas_patients(app: Flask, glow: int) -> None:
    glow_staff, default_staff = _two_spas_staff(app)
    gina = add_lead(app, name="Gina Glow", spa_id=glow)
    dana = add_lead(app, name="Dana Default")
    for staff, own, other, own_id, other_id in (
        (glow_staff, "Gina Glow", "Dana Default", gina, dana),
        (default_staff, "Dana Default", "Gina Glow", dana, gina),
    ):
        listed = text(staff.get("/staff/"))
        assert own in listed and other not in listed
        assert other not in text(staff.get("/staff/?q=" + other.split()[0]))
        assert staff.get(f"/staff/leads/{own_id}").status_code == 200
        assert staff.get(f"/staff/leads/{other_id}").status_code == 404
        assert staff.post(f"/staff/leads/{other_id}/status", data={
            "csrf_token": page_token(staff), "status": "contacted"}).status_code == 404  # fmt: skip
        exported = post_export(staff, "csv").get_data(as_text=True)
        names = [row["name"] for row in csv.DictReader(io.StringIO(exported))]
        assert names == [own]
    with app.app_context(), spa_scope(ALL_SPAS):
        exports = db.session.execute(
            select(AuditLog.spa_id, AuditLog.actor).where(AuditLog.action == "export")
        ).all()
        statuses = db.session.execute(select(Lead.name, Lead.status)).all()
    assert sorted(exports) == [
        (DEFAULT_SPA_ID, "admin@alazzo.example"),
        (glow, "admin@glow.example"),
    ]
    assert sorted(statuses) == [("Dana Default", "new"), ("Gina Glow", "new")]  # 404: untouched


PATIENT = st.from_regex(r"Zq[a-z]{4,8} Xv[a-z]{4,8}", fullmatch=True)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(leads=st.lists(st.tuples(st.sampled_from([0, 1, 2]), PATIENT), min_size=1, max_size=6))
def test_no_response_to_one_spas_account_names_another_spas_patient(
    app: Flask, leads: list[tuple[int, str]]
) -> None:
    """Any spas, any leads: every page an account opens names only its own spa's patients."""
    with app.app_context(), spa_scope(ALL_SPAS):
        db.session.execute(delete(Lead))
        db.session.commit()
    if "test_accounts" not in app.extensions:  # the spas and their signed-in admins, once
        create_staff(app, "admin@default.example", PASSWORD, "admin")
        accounts = {DEFAULT_SPA_ID: signed_in_client(app, "admin@default.example", PASSWORD)}
        for slug in ("spa-one", "spa-two"):
            spa_id = make_spa(app, slug, slug.title(), f"https://{slug}.example")
            create_staff(app, f"admin@{slug}.example", PASSWORD, "admin", "--spa", slug)
            accounts[spa_id] = signed_in_client(app, f"admin@{slug}.example", PASSWORD)
        app.extensions["test_accounts"] = accounts
    accounts = app.extensions["test_accounts"]
    spa_ids = list(accounts)
    ids = [(spa_ids[which], name, add_lead(app, name=name, spa_id=spa_ids[which]))
           for which, name in leads]  # fmt: skip
    for spa_id, staff in accounts.items():
        foreign = {name for owner, name, _ in ids if owner != spa_id}
        foreign -= {name for owner, name, _ in ids if owner == spa_id}  # one name drawn twice
        pages = [staff.get("/staff/"), post_export(staff, "csv"), post_export(staff, "xlsx")]
        pages += [staff.get(f"/staff/?q={name.split()[0]}") for name in foreign]
        pages += [staff.get(f"/staff/leads/{lead_id}") for _, _, lead_id in ids]
        for page in pages:
            assert page.status_code in (200, 404), page.request.path
            body = page.get_data()
            shown = _xlsx_text(body) if page.mimetype.endswith(".sheet") else body.decode()
            assert not any(name in shown for name in foreign), (spa_id, page.request.path)


def _xlsx_text(data: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(cell) for row in book.active.iter_rows(values_only=True) for cell in row)


# --- the scope itself ---------------------------------------------------------------------


def test_every_select_update_and_delete_in_a_scope_reaches_its_spa_only(
    app: Flask, glow: int
) -> None:
    gina = add_lead(app, name="Gina Glow", spa_id=glow)
    dana = add_lead(app, name="Dana Default")
    with app.app_context():
        with spa_scope(glow):
            assert db.session.execute(select(Lead.name)).scalars().all() == ["Gina Glow"]
            assert db.session.get(Lead, dana) is None
            assert db.session.execute(select(db.func.count()).select_from(Lead)).scalar() == 1
            db.session.execute(update(Lead).values(notes="changed"))
            db.session.commit()
        assert db.session.execute(select(Lead.name)).scalars().all() == ["Dana Default"]
        with spa_scope(glow):
            db.session.execute(delete(Lead))
            db.session.commit()
        with spa_scope(ALL_SPAS):
            rest = db.session.execute(select(Lead.id, Lead.notes)).all()
    assert rest == [(dana, "")]  # neither changed nor deleted by the other spa's work
    assert gina not in [lead_id for lead_id, _ in rest]


def test_a_spas_details_are_set_checked_and_shown_at_once(
    app: Flask, client: FlaskClient, glow: int
) -> None:
    result = f"{GLOW}/quiz/result?{RESULT_QUERY}"
    assert "tel:+13018105740" in text(client.get(result))  # the install's line, cached now
    refused = cli(app, "spas", "set", "glow-downtown", "--phone", "12345")
    assert refused.exit_code == 1 and "not a valid phone number" in refused.output
    assert "Nothing was changed" in refused.output
    changed = cli(app, "spas", "set", "glow-downtown", "--phone", "+1 617 253 1000",
                  "--booking-url", "https://glow.example/book")  # fmt: skip
    assert changed.exit_code == 0, changed.output
    page = text(client.get(result))
    assert "tel:+16172531000" in page and "tel:+13018105740" not in page
    assert "https://glow.example/book?utm_source=relax-or-fill" in page
    assert "tel:+13018105740" in text(client.get(f"/quiz/result?{RESULT_QUERY}"))  # default kept
    assert cli(app, "spas", "set", "default", "--phone", "+1 617 253 1000").exit_code == 1


def test_a_spas_address_answers_calmly_while_the_database_is_down(
    app: Flask, client: FlaskClient, glow: int, unreachable_database_uri: str
) -> None:
    assert client.get(GLOW + "/quiz/").status_code == 200
    broken = create_app(base_config(unreachable_database_uri, SPA_CHECK_SECONDS=0))
    page = broken.test_client().get(GLOW + "/quiz/")
    assert page.status_code == 404 and "We couldn't find that page." in text(page)
