"""The lead list and the lead page: what the front desk sees and changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz.db.engine import db
from quiz.db.models import AuditLog, LeadEvent
from tests.support.staff import (
    EMAIL,
    STAFF_CONFIG,
    add_lead,
    create_staff,
    get_lead,
    page_token,
    post_export,
    text,
    words,
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {**STAFF_CONFIG, "STAFF_PAGE_SIZE": 3, "STAFF_STALE_LEAD_MINUTES": 30}


def names_in_list(html: str) -> list[str]:
    """Patient names in the list's rows, top to bottom."""
    return re.findall(r'<a class="name" href="/staff/leads/\d+">([^<]+)</a>', html)


def row(html: str, lead_id: int) -> str:
    start = html.index(f'<tr id="lead-{lead_id}"')
    return html[start : html.index("</tr>", start)]


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def test_newest_first_with_ages(app: Flask, desk: FlaskClient) -> None:
    add_lead(app, name="Old Olga", created=ago(days=3))
    add_lead(app, name="Hour Hana", created=ago(hours=5))
    add_lead(app, name="Fresh Fay", created=ago(minutes=12, seconds=5))
    html = text(desk.get("/staff/"))
    assert names_in_list(html) == ["Fresh Fay", "Hour Hana", "Old Olga"]
    assert ">12 min ago<" in html
    assert ">5 h ago<" in html
    assert ">3 days ago<" in html


def test_uncalled_leads_past_the_threshold_are_flagged(app: Flask, desk: FlaskClient) -> None:
    waiting = add_lead(app, name="Waiting Wanda", created=ago(minutes=45))
    called = add_lead(app, name="Called Carla", created=ago(minutes=50), status="contacted")
    fresh = add_lead(app, name="Fresh Fay", created=ago(minutes=5))
    html = text(desk.get("/staff/"))
    assert "Not called yet" in row(html, waiting)
    assert "Not called yet" not in row(html, called)
    assert "Not called yet" not in row(html, fresh)


def test_filters_by_status_outcome_and_dates(app: Flask, desk: FlaskClient) -> None:
    add_lead(app, name="Nov Relax", outcome="relax", created=datetime(2026, 11, 3, 15, tzinfo=UTC))
    add_lead(app, name="Nov Fill", outcome="fill", created=datetime(2026, 11, 20, 9, tzinfo=UTC))
    add_lead(
        app,
        name="Oct Booked",
        outcome="fill",
        status="booked",
        created=datetime(2026, 10, 30, 23, 59, tzinfo=UTC),
    )
    assert names_in_list(text(desk.get("/staff/?outcome=fill"))) == ["Nov Fill", "Oct Booked"]
    assert names_in_list(text(desk.get("/staff/?status=booked"))) == ["Oct Booked"]
    november = text(desk.get("/staff/?since=2026-11-01&until=2026-11-20"))
    assert names_in_list(november) == ["Nov Fill", "Nov Relax"]  # until is inclusive
    both = text(desk.get("/staff/?status=new&outcome=fill&since=2026-11-01"))
    assert names_in_list(both) == ["Nov Fill"]


@pytest.mark.parametrize("app_config", [{**STAFF_CONFIG, "STAFF_TIMEZONE": "America/New_York"}])
def test_date_filters_use_the_spas_time_zone(app: Flask, desk: FlaskClient) -> None:
    # 02:00 UTC on 21 Nov is still the evening of 20 Nov in New York.
    add_lead(app, name="Late Lena", created=datetime(2026, 11, 21, 2, tzinfo=UTC))
    assert names_in_list(text(desk.get("/staff/?since=2026-11-20&until=2026-11-20"))) == [
        "Late Lena"
    ]
    assert names_in_list(text(desk.get("/staff/?since=2026-11-21"))) == []


def test_search_by_name_phone_or_email(app: Flask, desk: FlaskClient) -> None:
    add_lead(app, name="María López", phone="+13015550123", email="maria@example.com")
    add_lead(app, name="Jane Patient", phone="+13018105740", email="jp@mail.example")
    assert names_in_list(text(desk.get("/staff/?q=lópez"))) == ["María López"]
    assert names_in_list(text(desk.get("/staff/?q=(301) 810-5740"))) == ["Jane Patient"]
    assert names_in_list(text(desk.get("/staff/?q=555-0123"))) == ["María López"]
    assert names_in_list(text(desk.get("/staff/?q=MAIL.EXAMPLE"))) == ["Jane Patient"]
    assert names_in_list(text(desk.get("/staff/?q=%25"))) == []  # a wildcard is just text


def test_bad_filters_are_explained_not_crashed(app: Flask, desk: FlaskClient) -> None:
    add_lead(app, name="Jane Patient")
    response = desk.get("/staff/?since=yesterday&status=lost")
    assert response.status_code == 400
    html = text(response)
    assert "Not a valid date value" in html
    assert "Jane Patient" in html  # the list still shows, without the bad filters
    reversed_dates = desk.get("/staff/?since=2026-02-01&until=2026-01-01")
    assert reversed_dates.status_code == 400
    assert "“To” is before “From”" in text(reversed_dates)


def test_pagination(app: Flask, desk: FlaskClient) -> None:
    for i in range(7):
        add_lead(app, name=f"Patient {i}", created=ago(minutes=70 - i))
    first = text(desk.get("/staff/"))
    assert names_in_list(first) == ["Patient 6", "Patient 5", "Patient 4"]
    assert "Page 1 of 3" in first and 'href="/staff/?page=2"' in first
    third = text(desk.get("/staff/?page=3"))
    assert names_in_list(third) == ["Patient 0"]
    beyond = text(desk.get("/staff/?page=9"))
    assert "No leads on this page" in beyond
    kept = text(desk.get("/staff/?status=new&page=2"))
    assert 'href="/staff/?status=new&page=3"' in kept  # filters survive paging


def test_the_list_exports_with_its_filters_by_post(app: Flask, admin: FlaskClient) -> None:
    html = text(admin.get("/staff/?status=new&q=jane&outcome=&since=2026-11-01"))
    start = html.index('<form class="exports"')
    form = html[start : html.index("</form>", start)]
    assert 'method="post" action="/staff/export.csv"' in form
    assert '<button type="submit" class="link">CSV</button>' in form
    assert 'formaction="/staff/export.xlsx">Excel (.xlsx)</button>' in form
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert hidden.pop("csrf_token")
    assert hidden == {"status": "new", "since": "2026-11-01", "q": "jane"}
    assert "/staff/export." not in html.replace(form, "")  # no export link left anywhere


def test_do_not_contact_is_unmistakable(app: Flask, desk: FlaskClient) -> None:
    opted_out = add_lead(app, name="Opted Out", status="do_not_contact", phone="+13015550199")
    html = text(desk.get("/staff/"))
    line = row(html, opted_out)
    assert 'class="dnc' in line and "DO NOT CONTACT" in line
    assert "tel:" not in line and "(301) 555-0199 (do not call)" in line
    page = text(desk.get(f"/staff/leads/{opted_out}"))
    assert "This patient asked not to be contacted" in page
    assert 'href="tel:' not in page


def test_changing_status_with_htmx_returns_the_row_and_records_who(
    app: Flask, desk: FlaskClient
) -> None:
    lead_id = add_lead(app, name="Jane Patient")
    token = page_token(desk)
    response = desk.post(
        f"/staff/leads/{lead_id}/status",
        data={"status": "contacted", "next": "/staff/"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    html = text(response)
    assert html.strip().startswith(f'<tr id="lead-{lead_id}"')
    assert re.search(r'<option value="contacted" selected>', html)
    assert get_lead(app, lead_id).status == "contacted"  # type: ignore[union-attr]
    with app.app_context():
        event = db.session.execute(select(LeadEvent)).scalar_one()
    assert (event.kind, event.old_status, event.new_status) == ("status", "new", "contacted")
    history = words(desk.get(f"/staff/leads/{lead_id}"))
    assert f"{EMAIL}: status New → Contacted" in history


def test_changing_status_without_javascript_goes_back_to_the_list(
    app: Flask, desk: FlaskClient
) -> None:
    lead_id = add_lead(app)
    response = desk.post(
        f"/staff/leads/{lead_id}/status",
        data={"status": "booked", "next": "/staff/?status=new", "csrf_token": page_token(desk)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/?status=new"
    assert "is now “Booked”" in text(desk.get("/staff/"))


def test_an_unknown_status_is_refused(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(app)
    response = desk.post(
        f"/staff/leads/{lead_id}/status",
        data={"status": "lost"},
        headers={"HX-Request": "true", "X-CSRFToken": page_token(desk)},
    )
    assert response.status_code == 400
    assert "Choose one of the listed statuses" in text(response)
    assert get_lead(app, lead_id).status == "new"  # type: ignore[union-attr]


def test_notes_change_in_place_and_keep_their_history(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(app)
    token = page_token(desk)
    for note in ["Left a voicemail", "Booked for Tue 3 pm"]:
        response = desk.post(
            f"/staff/leads/{lead_id}/note",
            data={"note": note},
            headers={"HX-Request": "true", "X-CSRFToken": token},
        )
        assert response.status_code == 200
        assert f">{note}</textarea>" in text(response)
    assert get_lead(app, lead_id).notes == "Booked for Tue 3 pm"  # type: ignore[union-attr]
    page = words(desk.get(f"/staff/leads/{lead_id}"))
    assert "note “Left a voicemail”" in page and "note “Booked for Tue 3 pm”" in page


def test_a_note_with_markup_is_kept_as_typed_and_shown_as_text(
    app: Flask, desk: FlaskClient
) -> None:
    lead_id = add_lead(app)
    note = "<script>alert(1)</script>"
    response = desk.post(
        f"/staff/leads/{lead_id}/note",
        data={"note": note, "csrf_token": page_token(desk), "next": "/staff/"},
    )
    assert response.status_code == 303
    assert get_lead(app, lead_id).notes == note  # type: ignore[union-attr]
    for page in ("/staff/", f"/staff/leads/{lead_id}"):  # the list and the lead page show it
        html = desk.get(page).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page  # as text, escaped
        assert note not in html, page  # never as markup


def test_a_note_over_2000_characters_is_refused(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(app)
    too_long = desk.post(
        f"/staff/leads/{lead_id}/note",
        data={"note": "x" * 2001},
        headers={"HX-Request": "true", "X-CSRFToken": page_token(desk)},
    )
    assert too_long.status_code == 422
    assert "Keep the note under 2000 characters" in text(too_long)
    assert get_lead(app, lead_id).notes == ""  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/staff/leads/{id}/status", {"status": "booked"}),
        ("/staff/leads/{id}/note", {"note": "hi"}),
        ("/staff/leads/{id}/erase", {}),
        ("/staff/outbox/1/retry", {}),
        ("/staff/export.csv", {"status": "new"}),
        ("/staff/export.xlsx", {}),
        ("/staff/logout", {}),
    ],
)
def test_every_staff_form_needs_its_csrf_token(
    app: Flask, admin: FlaskClient, path: str, data: dict[str, str]
) -> None:
    lead_id = add_lead(app)
    for headers in ({}, {"HX-Request": "true"}, {"X-CSRFToken": "forged"}):
        response = admin.post(path.format(id=lead_id), data=data, headers=headers)
        assert response.status_code == 400, headers
        assert "Content-Disposition" not in response.headers  # nothing exported
    lead = get_lead(app, lead_id)
    assert lead is not None and lead.status == "new" and lead.notes == ""
    assert admin.get("/staff/").status_code == 200  # still signed in
    with app.app_context():
        actions = set(db.session.execute(select(AuditLog.action)).scalars())
    assert actions == {"staff_create", "login"}  # no export, erasure or retry recorded


def test_the_lead_page_tells_the_whole_story(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(
        app,
        name="Jane Patient",
        concern="volume",
        areas="cheeks;marionette",
        goal="repair",
        outcome="fill",
        utm_term="filler",
        referrer="https://www.google.example/",
    )
    page = text(desk.get(f"/staff/leads/{lead_id}"))
    for expected in [
        "Your answers point to a dermal filler.",  # in words
        "Lost volume, such as hollow cheeks",
        "Cheeks",
        "Down from the corners of the mouth (marionette lines)",
        "Smooth the lines I already have",
        "Morning (9 am to noon)",
        "2026-11-25",  # consent text version
        "I agree that Alazzo Med Spa may call me.",  # the exact text shown
        "203.0.113.7",
        "Mozilla/5.0 (TestPhone)",
        "https://alazzo.example/blog/botox-vs-fillers",
        "newsletter",
        "spring",
        "filler",
        "https://www.google.example/",
    ]:
        assert expected in page, expected


def test_a_missing_lead_is_a_calm_404(app: Flask, desk: FlaskClient) -> None:
    response = desk.get("/staff/leads/999")
    assert response.status_code == 404
    assert "the lead may have been erased" in text(response)


def test_a_bad_staff_time_zone_stops_start_up(app: Flask) -> None:
    from quiz import create_app
    from quiz.settings import ConfigError

    config = {**app.config, "STAFF_TIMEZONE": "Mars/Olympus_Mons"}
    with pytest.raises(ConfigError, match="STAFF_TIMEZONE 'Mars/Olympus_Mons' is not a time zone"):
        create_app(config)


def test_deliveries_list_pending_and_failed_and_can_retry(app: Flask, admin: FlaskClient) -> None:
    from quiz.db.models import OutboxMessage

    lead_id = add_lead(app)
    with app.app_context():
        failed = OutboxMessage(
            lead_id=lead_id, channel="webhook", status="failed", attempts=12, last_error="HTTP 500"
        )
        pending = OutboxMessage(lead_id=lead_id, channel="email", status="pending", attempts=1)
        done = OutboxMessage(lead_id=lead_id, channel="email", status="delivered", attempts=1)
        db.session.add_all([failed, pending, done])
        db.session.commit()
        failed_id, done_id = failed.id, done.id
    page = words(admin.get("/staff/outbox"))
    assert "Pending: 1 · failed: 1 · delivered: 1" in page
    assert "HTTP 500" in page and f"#{lead_id}" in page
    html = admin.get("/staff/outbox").get_data(as_text=True)
    assert '<tr class="delivered">' not in html  # delivered ones are not listed
    response = admin.post(
        f"/staff/outbox/{failed_id}/retry", data={"csrf_token": page_token(admin)}
    )
    assert response.status_code == 303
    with app.app_context():
        message = db.session.get(OutboxMessage, failed_id)
        assert message is not None and message.status == "pending"
        assert db.session.get(OutboxMessage, done_id).status == "delivered"  # type: ignore[union-attr]
    assert "will be tried again" in words(admin.get("/staff/outbox"))


def test_a_staff_alert_in_the_deliveries_has_no_lead_link(app: Flask, admin: FlaskClient) -> None:
    from quiz.db.models import OutboxMessage

    with app.app_context():
        db.session.add(OutboxMessage(lead_id=None, channel="email", status="failed", attempts=12))
        db.session.commit()
    response = admin.get("/staff/outbox")
    assert response.status_code == 200
    assert "failed: 1" in words(response) and "staff alert" in words(response)


OUT_OF_RANGE_DATE = "Choose a date between 1970 and 9998."
EXPORT_OUT_OF_RANGE = (
    "The export's filters are not valid (To: Choose a date between 1970 and 9998.). "
    "Fix them in the list."
)
NOT_FOUND = "We couldn't find that page."


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/staff/?until=9999-12-31", 400, OUT_OF_RANGE_DATE),
        ("/staff/?since=0001-01-01", 400, OUT_OF_RANGE_DATE),
        ("/staff/?page=99999999999999999999999", 200, "No leads on this page."),
        ("/staff/leads/99999999999999999999999", 404, NOT_FOUND),
        ("/staff/leads/99999999999999999999999/erase", 404, NOT_FOUND),
        ("/staff/funnel?until=0001-01-01", 400, OUT_OF_RANGE_DATE),
        ("/staff/funnel?since=9999-12-31", 400, OUT_OF_RANGE_DATE),
    ],
)
def test_out_of_range_values_get_a_calm_answer_that_says_why(
    app: Flask, admin: FlaskClient, url: str, status: int, says: str
) -> None:
    add_lead(app, name="Range Rita")
    response = admin.get(url)
    assert response.status_code == status
    assert says in words(response)
    assert "Traceback" not in text(response)
    if url.startswith("/staff/?since") or url.startswith("/staff/?until"):
        assert "Range Rita" in text(response)  # the list still shows, without the bad filter


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_with_an_out_of_range_date_says_why(
    app: Flask, admin: FlaskClient, fmt: str
) -> None:
    add_lead(app, name="Range Rita")
    response = post_export(admin, fmt, until="9999-12-31")
    assert response.status_code == 400
    assert EXPORT_OUT_OF_RANGE in words(response)
    assert "Range Rita" not in text(response) and "Content-Disposition" not in response.headers


def test_a_note_with_a_control_character_is_refused(app: Flask, desk: FlaskClient) -> None:
    lead_id = add_lead(app)
    token = page_token(desk)
    response = desk.post(
        f"/staff/leads/{lead_id}/note",
        data={"note": "called\x00back"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 422
    assert "Please remove the unusual characters from this field." in words(response)
    assert get_lead(app, lead_id).notes == ""  # type: ignore[union-attr]


def test_sign_in_fields_sent_as_files_are_refused_calmly(app: Flask) -> None:
    import io

    create_staff(app)
    client = app.test_client()
    token = page_token(client, "/staff/login")
    response = client.post(
        "/staff/login",
        data={"email": (io.BytesIO(b"x"), "a.txt"), "password": "x", "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Enter your email address." in text(response)
