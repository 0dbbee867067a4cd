"""The content editor in real Chromium: an admin rewords an answer in English and Spanish.

What the spa's marketing lead would notice: the two languages side by side,
the draft previewed at phone width before anything is public, the diff on the
review page, and, once published, patients seeing the new words in both
languages. The live server (TESTING) runs no content thread: the test calls
the check each worker's thread makes every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from quiz.content import publishing as content_publishing
from quiz.content.live import live_content
from tests.browser.test_staff_browser import ensure_account, sign_in
from tests.support.browser import AXE_PATH, LiveServer
from tests.support.staff import EMAIL, PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these tests (or fails them under CI=true)
    pass

if TYPE_CHECKING:
    from playwright.sync_api import Page

LABEL = "questions.concern.options.expression.label"
NEW_EN = "Lines that show when I smile or frown"
NEW_ES = "Líneas que aparecen al sonreír o fruncir el ceño"


@pytest.fixture
def editor_server(server: LiveServer) -> Iterator[LiveServer]:
    """The live server with an admin; afterwards the content it started with is published again."""
    ensure_account(server, EMAIL, PASSWORD, "admin")
    live_content(server.app).check()
    with server.app.app_context():
        start = content_publishing.latest()
        assert start is not None
        start_id = start.id
    yield server
    with server.app.app_context():
        latest = content_publishing.latest()
        if latest is not None and latest.id != start_id:
            content_publishing.rollback(
                start_id,
                author="cli",
                note="test: back to the start",
                based_on=latest.id,
                languages=("en", "es"),
            )
    live_content(server.app).check()


def test_an_admin_rewords_an_answer_and_patients_see_it_in_both_languages(
    editor_server: LiveServer, js_page: Page, nojs_page: Page
) -> None:
    base = editor_server.url
    page = js_page
    sign_in(page, base)
    page.goto(f"{base}/staff/content")
    english = page.locator(f'[name="en|{LABEL}"]')
    spanish = page.locator(f'[name="es|{LABEL}"]')
    expect(english).to_have_value("Lines that appear when I squint, frown or raise my brows")
    english.fill(NEW_EN)
    spanish.fill(NEW_ES)
    page.get_by_role("button", name="Save “Question: concern” in my draft").click()
    expect(page.get_by_text("Nothing is published yet")).to_be_visible()
    expect(page.locator(f'[name="en|{LABEL}"]')).to_have_value(NEW_EN)

    # Patients still see the old words; the preview, at phone width, the new ones.
    nojs_page.goto(f"{base}/quiz/concern")
    expect(nojs_page.get_by_text(NEW_EN)).to_have_count(0)
    page.goto(f"{base}/staff/content/preview?screen=concern&lang=es")
    phone = page.frame_locator("iframe.phone")
    expect(phone.get_by_text(NEW_ES)).to_be_visible()

    # Review shows the change; publishing it reaches patients (after the worker's check).
    page.goto(f"{base}/staff/content")
    page.get_by_role("link", name="Review and publish").click()
    expect(page.locator("pre.diff").first).to_contain_text(NEW_EN)
    page.get_by_label("A note for the history").fill("Plainer words for movement lines")
    page.get_by_role("button", name="Publish these changes").click()
    expect(page.get_by_text("Published version")).to_be_visible()
    expect(page.get_by_text("Plainer words for movement lines")).to_be_visible()
    live_content(editor_server.app).check()

    nojs_page.goto(f"{base}/quiz/concern?lang=en")
    expect(nojs_page.get_by_text(NEW_EN)).to_be_visible()
    nojs_page.goto(f"{base}/quiz/concern?lang=es")
    expect(nojs_page.get_by_text(NEW_ES)).to_be_visible()


def test_a_problem_is_shown_next_to_its_field_and_nothing_is_published(
    editor_server: LiveServer, js_page: Page
) -> None:
    base = editor_server.url
    page = js_page
    sign_in(page, base)
    page.goto(f"{base}/staff/content")
    page.locator('[name="*|questions.area.options.forehead.relax"]').fill("high")
    page.get_by_role(
        "button", name="Save “Weights (the same in every language)” in my draft"
    ).click()
    field = page.locator('[name="*|questions.area.options.forehead.relax"]')
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-f-all-questions\\.area\\.options\\.forehead\\.relax")).to_contain_text(
        "weight must be a number"
    )
    expect(page.get_by_role("link", name="Review and publish")).to_be_visible()
    page.get_by_role("link", name="Review and publish").click()
    expect(page.get_by_text("can't be published yet")).to_be_visible()
    expect(page.get_by_role("button", name="Publish these changes")).to_have_count(0)
    page.goto(f"{base}/staff/content")
    page.get_by_role("button", name="Discard my draft").click()
    expect(page.locator('[name="*|questions.area.options.forehead.relax"]')).to_have_value("3")


def test_the_editor_pages_have_no_accessibility_violations(
    editor_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    base = editor_server.url
    page = new_page(bypass_csp=True)  # to inject axe-core; the pages themselves are unchanged
    sign_in(page, base)
    found = {}
    for path in ["/staff/content", "/staff/content/preview", "/staff/content/history"]:
        page.goto(base + path)
        page.add_script_tag(path=str(AXE_PATH))
        found[path] = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
    assert found == {path: [] for path in found}
