"""`flask leads export`: the contract's columns, streaming, dates, and formula safety."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import Lead
from quiz.leads import query as lead_query
from quiz.leads.export import COLUMNS, neutralise
from tests.support.app import base_config
from tests.support.patient import valid_callback
from tests.support.staff import add_lead

CONTRACT = (
    "id,created_at,status,name,phone,email,best_time,outcome,concern,areas,goal,"
    "consent_at,consent_text_version,source_url,utm_source,utm_medium,utm_campaign"
).split(",")


def export_rows(runner: FlaskCliRunner, *args: str) -> list[list[str]]:
    result = runner.invoke(args=["leads", "export", *args])
    assert result.exit_code == 0, result.output
    return list(csv.reader(io.StringIO(result.output)))


def test_columns_start_with_the_contract_in_order(app: Flask, runner: FlaskCliRunner) -> None:
    add_lead(app, created=datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC))
    header, row = export_rows(runner)
    assert header[: len(CONTRACT)] == CONTRACT
    record = dict(zip(header, row, strict=True))
    assert record["id"] == "1"
    assert record["created_at"] == "2026-11-20T14:30:05Z"
    assert record["phone"] == "+13018105740"
    assert record["areas"] == "between_brows;cheeks"
    assert record["consent_at"] == "2026-11-20T14:30:05Z"
    assert (record["outcome"], record["concern"], record["goal"]) == (
        "both",
        "expression",
        "prevent",
    )
    assert record["utm_campaign"] == "spring"


def test_a_lead_from_the_quiz_appears_in_the_export(app: Flask, runner: FlaskCliRunner) -> None:
    client = app.test_client(use_cookies=False)
    response = client.post("/quiz/callback", data=valid_callback(client, name="Maria Lopez"))
    assert response.status_code == 200
    header, row = export_rows(runner)
    assert dict(zip(header, row, strict=True))["name"] == "Maria Lopez"


def test_since_and_until_are_inclusive_utc_days(app: Flask, runner: FlaskCliRunner) -> None:
    for day in (1, 2, 3, 4):
        add_lead(app, created=datetime(2026, 11, day, 23, 59, tzinfo=UTC), name=f"d{day}")
    rows = export_rows(runner, "--since", "2026-11-02", "--until", "2026-11-03")
    assert [r[3] for r in rows[1:]] == ["d2", "d3"]
    assert len(export_rows(runner, "--since", "2026-11-04")) == 2
    assert len(export_rows(runner, "--until", "2026-10-31")) == 1  # header only


def test_output_file(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    add_lead(app, created=datetime(2026, 11, 20, tzinfo=UTC))
    out = tmp_path / "leads.csv"
    result = runner.invoke(args=["leads", "export", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("id,created_at,status")


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "yesterday"],
        ["--until", "2026-13-01"],
        ["--until", "9999-12-31"],
        ["--since", "0001-01-01"],
        ["--format", "xml"],
    ],
)
def test_bad_options_get_a_clear_message(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=["leads", "export", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Invalid value" in result.output


@pytest.mark.parametrize(
    "payload",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        ";=1+1",
        "|calc",
    ],
)
def test_free_text_formulas_are_neutralised(
    app: Flask, runner: FlaskCliRunner, payload: str
) -> None:
    add_lead(
        app,
        created=datetime(2026, 11, 20, tzinfo=UTC),
        name=payload,
        email=payload,
        source_url=payload,
        utm_source=payload,
        utm_medium=payload,
        utm_campaign=payload,
    )
    header, row = export_rows(runner)
    record = dict(zip(header, row, strict=True))
    for column in ("name", "email", "source_url", "utm_source", "utm_medium", "utm_campaign"):
        assert record[column] == "'" + payload, column


# Every column that holds text, whatever its source: the times, the id and the
# yes/no of the texting consent are ours.
OURS = ("id", "created_at", "consent_at", "first_contacted_at", "sms_consent", "sms_opted_out_at")
TEXT_COLUMNS = [c for c in COLUMNS if c not in OURS]
# The shortest of those columns (locale) holds 8 characters.
cell_text = st.text(alphabet=st.sampled_from("=+-@;|\t\r\n 'a1é"), min_size=1, max_size=8).filter(
    lambda t: t.strip(";") == t
)  # areas are ids joined with ";"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=cell_text, column=st.sampled_from(TEXT_COLUMNS))
def test_no_text_cell_of_any_column_is_a_formula(
    app: Flask, runner: FlaskCliRunner, column: str, value: str
) -> None:
    with app.app_context():
        db.session.execute(db.delete(Lead))
        db.session.commit()
    add_lead(app, **{column: value})
    result = runner.invoke(args=["leads", "export"])
    assert result.exit_code == 0, result.output
    # The bytes as written (click's .output turns \r\n into \n, even inside a cell).
    text = result.stdout_bytes.decode("utf-8")
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    cell = dict(zip(header, row, strict=True))[column]
    plus_number = value[0] == "+" and value[1:].isdigit() and value[1:].isascii()
    if value.startswith(("=", "+", "-", "@", "\t", "\r", "\n", ";", "|")) and not plus_number:
        assert cell == "'" + value  # quoted, and nothing of it lost
    else:
        assert cell == value


def test_validated_columns_are_written_as_they_are(app: Flask, runner: FlaskCliRunner) -> None:
    add_lead(app, created=datetime(2026, 11, 20, tzinfo=UTC), phone="+442079460958")
    header, row = export_rows(runner)
    record = dict(zip(header, row, strict=True))
    # E.164 starts with "+" but is digits only: no formula to run, and staff need it dialable.
    assert record["phone"] == "+442079460958"
    assert record["created_at"] == "2026-11-20T00:00:00Z"


def test_plain_text_is_untouched() -> None:
    assert neutralise("Jane O'Brien-Smith") == "Jane O'Brien-Smith"
    assert neutralise("") == ""


def store_leads(app: Flask, count: int) -> None:
    """`count` leads stored at once, p0 to p{count-1}, oldest first."""
    with app.app_context():
        now = datetime(2026, 11, 20, tzinfo=UTC)
        db.session.add_all(
            Lead(
                created_at=now,
                updated_at=now,
                form_nonce=str(i),
                name=f"p{i}",
                phone="+13018105740",
                best_time="anytime",
                concern="volume",
                areas="cheeks",
                goal="repair",
                outcome="fill",
                consent_at=now,
                consent_text_version="v",
                consent_text="t",
                consent_text_hash="h",
            )
            for i in range(count)
        )
        db.session.commit()


def test_export_writes_thousands_of_leads_oldest_first(app: Flask, runner: FlaskCliRunner) -> None:
    store_leads(app, 2500)
    rows = export_rows(runner)
    assert len(rows) == 2501
    assert [r[0] for r in rows[1:4]] == ["1", "2", "3"]
    assert rows[-1][3] == "p2499"
    assert len(COLUMNS) == len(rows[0])


class CountingCursor:
    """A database cursor that records how many rows each fetch brought back."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.fetched: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        self.fetched.append(0 if row is None else 1)
        return row

    def fetchmany(self, *size: int) -> list[Any]:
        rows = self._cursor.fetchmany(*size)
        self.fetched.append(len(rows))
        return rows

    def fetchall(self) -> list[Any]:
        rows = self._cursor.fetchall()
        self.fetched.append(len(rows))
        return rows


def test_export_reads_the_leads_from_the_database_in_batches(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays flat: never the whole table at once, at most BATCH rows per fetch."""
    monkeypatch.setattr(lead_query, "BATCH", 100)
    store_leads(app, 450)
    cursors: list[CountingCursor] = []

    def count_fetches(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if statement.startswith("SELECT") and "FROM lead" in statement and "ORDER BY" in statement:
            context.cursor = CountingCursor(cursor)  # what the result will fetch from
            cursors.append(context.cursor)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", count_fetches)
    try:
        rows = export_rows(runner)
    finally:
        event.remove(engine, "after_cursor_execute", count_fetches)
    assert len(rows) == 451 and rows[-1][3] == "p449"
    [cursor] = cursors  # the export's one query
    assert sum(cursor.fetched) == 450
    assert max(cursor.fetched) == 100  # batches of BATCH rows ...
    assert len([n for n in cursor.fetched if n]) >= 5  # ... so at least five fetches for 450


def test_export_before_the_schema_exists_says_what_to_do(unmigrated_database_uri: str) -> None:
    app = create_app(base_config(unmigrated_database_uri))
    result = app.test_cli_runner().invoke(args=["leads", "export"])
    assert result.exit_code == 1
    assert "run `flask db upgrade`" in result.output
    assert "Traceback" not in result.output
