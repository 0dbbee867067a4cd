"""The agency account: every spa, one at a time, with the switcher and the cross-spa report."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz.db.engine import db
from quiz.db.models import AuditLog
from quiz.db.scope import ALL_SPAS, DEFAULT_SPA_ID, spa_scope
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
from tests.test_spa_isolation import make_spa

AGENCY = "ops@agency.example"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {**STAFF_CONFIG, "SPA_CHECK_SECONDS": 0}


@pytest.fixture
def glow(app: Flask) -> int:
    return make_spa(app, "glow-downtown", "Glow Downtown", "https://glow.example")


@pytest.fixture
def agency(app: Flask, glow: int) -> FlaskClient:
    create_staff(app, AGENCY, PASSWORD, "agency")
    return signed_in_client(app, AGENCY, PASSWORD)


def switch(client: FlaskClient, spa_id: int | str) -> Any:
    return client.post("/staff/spa", data={"csrf_token": page_token(client), "spa": str(spa_id),
                                           "next": "/staff/"})  # fmt: skip


def names(client: FlaskClient) -> list[str]:
    return re.findall(
        r'<a class="name" href="/staff/leads/\d+">([^<]+)</a>', text(client.get("/staff/"))
    )


def test_an_agency_account_belongs_to_no_spa_and_is_made_only_by_create(
    app: Flask, glow: int
) -> None:
    refused = cli(app, "staff", "create", AGENCY, "--role", "agency", "--spa", "glow-downtown",
                  input=PASSWORD + "\n")  # fmt: skip
    assert refused.exit_code == 2 and "works every spa" in refused.output
    create_staff(app, AGENCY, PASSWORD, "agency")
    create_staff(app, "desk@glow.example", PASSWORD, "desk", "--spa", "glow-downtown")
    moved = cli(app, "staff", "set-role", "desk@glow.example", "agency")
    assert moved.exit_code == 1 and "Nothing changed" in moved.output
    assert "agency" in cli(app, "staff", "list").output


def test_the_agency_works_one_spa_at_a_time(app: Flask, glow: int, agency: FlaskClient) -> None:
    dana = add_lead(app, name="Dana Default")
    add_lead(app, name="Gina Glow", spa_id=glow)
    page = text(agency.get("/staff/"))
    assert re.search(r'<option value="1" selected>', page) and "Glow Downtown</option>" in page
    assert names(agency) == ["Dana Default"]  # the default spa first
    assert switch(agency, glow).status_code == 302
    assert names(agency) == ["Gina Glow"]
    assert agency.get(f"/staff/leads/{dana}").status_code == 404  # not this spa's
    exported = post_export(agency, "csv").get_data(as_text=True)
    assert [row["name"] for row in csv.DictReader(io.StringIO(exported))] == ["Gina Glow"]
    with app.app_context(), spa_scope(ALL_SPAS):
        audit = (
            db.session.execute(
                select(AuditLog.spa_id).where(AuditLog.action == "export", AuditLog.actor == AGENCY)
            )
            .scalars()
            .all()
        )
    assert audit == [glow]  # the export is in that spa's log
    assert switch(agency, DEFAULT_SPA_ID).status_code == 302
    assert names(agency) == ["Dana Default"]


@pytest.mark.parametrize("bad", ["999", "0", "x", ""])
def test_the_switcher_takes_only_a_spa_that_is_served(
    app: Flask, glow: int, agency: FlaskClient, bad: str
) -> None:
    add_lead(app, name="Dana Default")
    assert switch(agency, bad).status_code == 400
    assert names(agency) == ["Dana Default"]


def test_the_report_gives_each_spa_its_leads_conversion_and_speed(
    app: Flask, glow: int, agency: FlaskClient
) -> None:
    add_lead(app, name="Dana Default", status="booked")
    add_lead(app, name="Dora Default")
    add_lead(app, name="Gina Glow", spa_id=glow)
    html = text(agency.get("/staff/agency"))
    default_row = html[html.index('id="spa-default"') :].split("</tr>")[0]
    glow_row = html[html.index('id="spa-glow-downtown"') :].split("</tr>")[0]
    cells = lambda row: re.findall(r"<td>([^<]*)</td>", row)  # noqa: E731
    assert cells(default_row)[:3] == ["2", "1", "50%"]
    assert cells(glow_row)[:3] == ["1", "0", "0%"]
    assert "Dana Default" not in html and "Gina Glow" not in html  # figures, never patients


def test_a_spas_own_staff_can_neither_switch_nor_see_every_spa(app: Flask, glow: int) -> None:
    create_staff(app, "admin@glow.example", PASSWORD, "admin", "--spa", "glow-downtown")
    admin = signed_in_client(app, "admin@glow.example", PASSWORD)
    assert admin.get("/staff/agency").status_code == 403
    assert switch(admin, DEFAULT_SPA_ID).status_code == 403
    assert 'name="spa"' not in text(admin.get("/staff/"))
