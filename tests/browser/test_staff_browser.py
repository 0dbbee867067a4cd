"""The staff console in real Chromium: sign in, filter, work leads with htmx, export.

What a front-desk member would notice: the list they see, the row that
changes in place without the page reloading, the note that stays, and two
downloaded files that open with the leads they filtered for (an admin's export
buttons post the list's filters). A desk account sees no admin links, and is
told calmly when it opens an admin page anyway.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quiz.db.engine import db
from quiz.db.models import StaffUser
from tests.support.browser import AXE_PATH, LiveServer
from tests.support.staff import EMAIL, PASSWORD, add_lead, create_staff

DESK_EMAIL = "front@alazzo.example"
DESK_PASSWORD = "maple drawer comet ribbon"

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these tests (or fails them under CI=true)
    pass

if TYPE_CHECKING:
    from playwright.sync_api import Page

MARK_PAGE = "window.__staffMarker = 1"
PAGE_IS_MARKED = "window.__staffMarker === 1"


def ensure_account(server: LiveServer, email: str, password: str, role: str) -> None:
    """The account on the session's live server (created once, kept across tests)."""
    with server.app.app_context():
        exists = db.session.execute(db.select(StaffUser.id).where(StaffUser.email == email)).first()
        db.session.remove()
    if not exists:
        create_staff(server.app, email, password, role=role)


@pytest.fixture
def desk_server(server: LiveServer) -> LiveServer:
    """The live server with an admin account (EMAIL), a desk account and three leads."""
    ensure_account(server, EMAIL, PASSWORD, "admin")
    ensure_account(server, DESK_EMAIL, DESK_PASSWORD, "desk")
    now = datetime.now(UTC)
    add_lead(
        server.app, name="Maria Lopez", phone="+13015550123", created=now - timedelta(minutes=50)
    )
    add_lead(server.app, name="Jane Patient", outcome="fill", created=now - timedelta(minutes=5))
    add_lead(
        server.app, name="Opted Out", status="do_not_contact", created=now - timedelta(hours=3)
    )
    return server


def sign_in(page: Page, base: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    page.goto(base + "/staff/")
    expect(page).to_have_url(f"{base}/staff/login?next=/staff/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/staff/")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()


def patient_names(page: Page) -> list[str]:
    return page.locator("table.leads td.patient > a.name").all_inner_texts()


def test_front_desk_signs_in_filters_works_a_lead_and_exports(
    new_page: Callable[..., Page], desk_server: LiveServer
) -> None:
    base = desk_server.url
    page = new_page(accept_downloads=True)
    sign_in(page, base)
    assert patient_names(page) == ["Jane Patient", "Maria Lopez", "Opted Out"]
    expect(page.locator("tr.dnc")).to_contain_text("DO NOT CONTACT")
    expect(page.locator("tr.stale")).to_contain_text("Maria Lopez")

    # Filter: only new leads, searched by the phone number as typed.
    page.get_by_label("Status", exact=True).select_option("new")
    page.get_by_label("Search name, phone or email").fill("(301) 555-0123")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.leads tbody tr")).to_have_count(1)
    assert patient_names(page) == ["Maria Lopez"]
    [maria] = [lead for lead in desk_server.leads() if lead.name == "Maria Lopez"]

    # Change the status in place: htmx swaps the row, the page does not reload.
    page.evaluate(MARK_PAGE)
    row = page.locator(f"#lead-{maria.id}")
    row.get_by_label(f"Status of lead #{maria.id}").select_option("contacted")
    row.get_by_role("button", name="Save", exact=True).click()
    expect(row.get_by_role("status")).to_have_text("Status saved")
    expect(row.get_by_label(f"Status of lead #{maria.id}")).to_have_value("contacted")
    expect(row).not_to_have_class("stale")  # no longer waiting for a call
    assert page.evaluate(PAGE_IS_MARKED)

    # Add a note the same way.
    row.get_by_label(f"Note on lead #{maria.id}").fill("Left a voicemail at 10:05")
    row.get_by_role("button", name="Save note").click()
    expect(row.get_by_role("status")).to_have_text("Note saved")
    expect(row.get_by_label(f"Note on lead #{maria.id}")).to_have_value("Left a voicemail at 10:05")
    assert page.evaluate(PAGE_IS_MARKED)
    stored = next(lead for lead in desk_server.leads() if lead.id == maria.id)
    assert (stored.status, stored.notes) == ("contacted", "Left a voicemail at 10:05")

    # Both exports (buttons that post the list's current filters: the search only now).
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.leads tbody tr")).to_have_count(1)
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert [(r["name"], r["status"], r["phone"]) for r in rows] == [
        ("Maria Lopez", "contacted", "+13015550123")
    ]
    assert csv_download.value.suggested_filename.endswith(".csv")

    import openpyxl

    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="Excel (.xlsx)").click()
    workbook = io.BytesIO(Path(xlsx_download.value.path()).read_bytes())
    sheet = openpyxl.load_workbook(workbook)["Leads"]
    values = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert values[0][:4] == ["id", "created_at", "status", "name"]
    assert [(v[0], v[2], v[3]) for v in values[1:]] == [(maria.id, "contacted", "Maria Lopez")]
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")

    # The lead's page shows what happened, and who did it.
    page.get_by_role("link", name="Maria Lopez").click()
    history = page.locator("ol.history")
    expect(history).to_contain_text(f"{EMAIL}: status New → Contacted")
    expect(history).to_contain_text("note “Left a voicemail at 10:05”")


def test_a_desk_account_works_leads_without_admin_links(
    new_page: Callable[..., Page], desk_server: LiveServer
) -> None:
    base = desk_server.url
    page = new_page()
    sign_in(page, base, DESK_EMAIL, DESK_PASSWORD)
    assert patient_names(page) == ["Jane Patient", "Maria Lopez", "Opted Out"]
    nav = page.get_by_role("navigation", name="Staff")
    expect(nav.get_by_role("link")).to_have_text(["Leads"])  # no Funnel, no Deliveries
    expect(page.get_by_role("button", name="CSV")).to_have_count(0)
    page.get_by_role("link", name="Jane Patient").click()
    expect(page.get_by_text("ask an admin to erase this lead")).to_be_visible()
    expect(page.get_by_role("link", name="Erase this lead…")).to_have_count(0)
    page.goto(base + "/staff/funnel")  # typed in anyway
    expect(page.get_by_role("alert")).to_have_text(
        "Your account can't see the funnel; ask an admin."
    )


def test_working_a_lead_without_javascript(
    new_page: Callable[..., Page], desk_server: LiveServer
) -> None:
    base = desk_server.url
    page = new_page(java_script_enabled=False)
    sign_in(page, base)
    [jane] = [lead for lead in desk_server.leads() if lead.name == "Jane Patient"]
    row = page.locator(f"#lead-{jane.id}")
    row.get_by_label(f"Status of lead #{jane.id}").select_option("booked")
    row.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Lead #{jane.id} is now “Booked”")
    expect(
        page.locator(f"#lead-{jane.id}").get_by_label(f"Status of lead #{jane.id}")
    ).to_have_value("booked")


def test_signing_out_ends_the_session(
    new_page: Callable[..., Page], desk_server: LiveServer
) -> None:
    base = desk_server.url
    page = new_page()
    sign_in(page, base)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(base + "/staff/")
    expect(page).to_have_url(f"{base}/staff/login?next=/staff/")


def test_staff_pages_have_no_accessibility_violations(
    new_page: Callable[..., Page], desk_server: LiveServer
) -> None:
    base = desk_server.url
    page = new_page(bypass_csp=True)  # to inject axe-core; the pages themselves are unchanged
    page.goto(base + "/staff/login")
    found = {}
    for path in ["/staff/login", "/staff/", "/staff/funnel", "/staff/outbox"]:
        if path == "/staff/":
            sign_in(page, base)
        else:
            page.goto(base + path)
        page.add_script_tag(path=str(AXE_PATH))
        found[path] = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
    lead_id = desk_server.leads()[0].id
    page.goto(f"{base}/staff/leads/{lead_id}")
    page.add_script_tag(path=str(AXE_PATH))
    found["lead page"] = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
    assert found == {path: [] for path in found}
