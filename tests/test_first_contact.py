"""First contact: recorded once when staff first move a lead out of "new", shown and exported."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from quiz.core.clock import iso
from tests.support.staff import add_lead, get_lead, page_token, post_export, words


def move(client: Any, lead_id: int, status: str) -> None:
    response = client.post(
        f"/staff/leads/{lead_id}/status",
        data={"status": status, "csrf_token": page_token(client), "next": "/staff/"},
    )
    assert response.status_code == 303


def test_first_contact_is_recorded_once(app: Flask, admin: Any) -> None:
    lead_id = add_lead(app, created=datetime.now(UTC) - timedelta(minutes=6, seconds=30))
    assert get_lead(app, lead_id).first_contacted_at is None
    before = datetime.now(UTC)
    move(admin, lead_id, "contacted")
    first = get_lead(app, lead_id).first_contacted_at
    assert first is not None and before <= first.replace(tzinfo=UTC) <= datetime.now(UTC)
    for status in ("booked", "new", "contacted", "closed"):  # later changes keep the first
        move(admin, lead_id, status)
        assert get_lead(app, lead_id).first_contacted_at == first


def test_the_list_and_the_lead_page_say_how_soon_it_was_called(app: Flask, desk: Any) -> None:
    called = add_lead(
        app, name="Called Patient", created=datetime.now(UTC) - timedelta(minutes=6, seconds=20)
    )
    waiting = add_lead(app, name="Waiting Patient", created=datetime.now(UTC) - timedelta(hours=2))
    move(desk, called, "contacted")
    listed = words(desk.get("/staff/"))
    assert "called after 6 min" in listed
    assert "not called yet, waiting 2 h" in listed
    assert "called after 6 min" in words(desk.get(f"/staff/leads/{called}"))
    assert "not called yet, waiting 2 h" in words(desk.get(f"/staff/leads/{waiting}"))


def test_the_exports_end_with_first_contacted_at(app: Flask, admin: Any) -> None:
    called = add_lead(app, name="Called Patient")
    add_lead(app, name="Waiting Patient")
    move(admin, called, "contacted")
    response = post_export(admin, "csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    # The design's order for the appended columns: locale, then first_contacted_at
    # (later columns, such as the texting consent's, come after them).
    at = rows[0].index("first_contacted_at")
    assert rows[0][at - 2 : at + 1] == ["referrer", "locale", "first_contacted_at"]
    stamps = {row[3]: row[at] for row in rows[1:]}
    assert stamps == {
        "Called Patient": iso(get_lead(app, called).first_contacted_at.replace(tzinfo=UTC)),
        "Waiting Patient": "",
    }
