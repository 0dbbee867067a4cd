"""The texts on a lead's page in real Chromium: a patient's answer appears without a reload.

The desk has the lead open; the patient texts (Twilio's signed webhook, from
the test peer); the thread, which htmx asks for again every few seconds,
shows it while the page stays the same page. The desk answers in the box and
the reply joins the thread in place; the text reaches the peer on the next
delivery run. The app runs on its own live server with texting on.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from quiz import create_app
from quiz.notifications.delivery import deliver_due
from tests.support.app import stop_background
from tests.support.browser import LiveServer, serving
from tests.support.outbox import submit
from tests.support.sms_peer import TwilioPeer, texts_config
from tests.support.staff import EMAIL, PASSWORD, STAFF_CONFIG, create_staff

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these tests (or fails them under CI=true)
    pass

if TYPE_CHECKING:
    from playwright.sync_api import Page

POLL_WAIT_MS = 20_000  # the thread is asked for every 5 s; a loaded machine may be slow
PATIENT = "+13018105740"


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def texting_server(
    tmp_path: Path, twilio: TwilioPeer, migrated_sqlite: Path
) -> Iterator[LiveServer]:
    shutil.copy(migrated_sqlite, tmp_path / "quiz.db")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/quiz.db",
        "MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "browser-test-secret-key-0123456789",
        **texts_config(twilio),
        **STAFF_CONFIG,
    })  # fmt: skip
    try:
        with serving(app) as server:
            yield server
    finally:
        stop_background(app)


def test_a_patients_text_appears_on_the_open_lead_and_the_desk_answers_in_place(
    js_page: Page, texting_server: LiveServer, twilio: TwilioPeer
) -> None:
    app = texting_server.app
    create_staff(app, role="desk")
    [lead_id] = submit(app)
    base = texting_server.url
    js_page.goto(f"{base}/staff/leads/{lead_id}")
    js_page.get_by_label("Email").fill(EMAIL)
    js_page.get_by_label("Password").fill(PASSWORD)
    js_page.get_by_role("button", name="Sign in").click()
    expect(js_page.get_by_role("heading", name="Texts")).to_be_visible()
    js_page.evaluate("window.__notReloaded = 1")

    twilio.inbound(app.test_client(use_cookies=False), PATIENT, "Is Friday at 4 free? 🙂")
    thread = js_page.locator("#texts-thread")
    expect(thread).to_contain_text("Is Friday at 4 free? 🙂", timeout=POLL_WAIT_MS)
    assert js_page.evaluate("window.__notReloaded === 1")  # the same page: no reload

    js_page.get_by_label("Text the patient").fill("Yes, Friday at 4 is yours.")
    js_page.get_by_role("button", name="Send text").click()
    expect(thread).to_contain_text("Yes, Friday at 4 is yours.")
    expect(js_page.get_by_label("Text the patient")).to_have_value("")
    assert js_page.evaluate("window.__notReloaded === 1")
    with app.app_context():
        deliver_due(now=datetime.now(UTC) + timedelta(seconds=1))
    assert [t.body for t in twilio.delivered] == ["Yes, Friday at 4 is yours."]
    expect(thread).to_contain_text("sent to the provider", timeout=POLL_WAIT_MS)
