"""The patient's path in real Chromium: htmx swaps, no-JS fallback, keyboard, a11y.

Every test asserts what a patient would notice: the step they see, what is
checked, where the focus is, the address bar, the thank-you text; and, for the
callback form, what the spa's staff would find stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import combinations
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.support.browser import AXE_PATH, LiveServer, wait_for_htmx

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these tests (or fails them under CI=true)
    pass

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SPA_NAME = "Alazzo Med Spa"
CONCERN_LABEL = "Lines that appear when I squint, frown or raise my brows"
AREA_LABELS = {"between_brows": "Between the eyebrows", "cheeks": "Cheeks"}
GOAL_LABEL = "Stop new lines from forming"
# The headings a patient sees on each question (the spa may reword them; keep them loose).
CONCERN_HEADING = re.compile(r"bothers you", re.I)
AREA_HEADING = re.compile(r"where", re.I)
GOAL_HEADING = re.compile(r"achieve", re.I)
# expression + between_brows (relax) + cheeks (fill) + prevent: mixed areas give "both".
ANSWERS = [
    ("concern", "expression"),
    ("area", "between_brows"),
    ("area", "cheeks"),
    ("goal", "prevent"),
]
RESULT_QUERY = "concern=expression&area=between_brows&area=cheeks&goal=prevent"
AREA_IDS = ["between_brows", "cheeks"]
PHONE_INPUT = "301-810-5740"
PHONE_E164 = "+13018105740"

MARK_PAGE = "window.__marker = 1"
PAGE_IS_MARKED = "window.__marker === 1"


def option_label(page: Page, text: str) -> Locator:
    """The <label> of an answer, found by the words a patient reads."""
    return page.locator("#quiz label", has_text=text)


def expect_heading_focused(page: Page, text: str | re.Pattern[str]) -> None:
    """The new step's heading is shown, focused (screen readers read it) and in view."""
    heading = page.locator("#step-heading")
    expect(heading).to_have_text(text)
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    assert page.evaluate("document.activeElement.id") == "step-heading"


def query_pairs(url: str) -> list[tuple[str, str]]:
    """The URL's quiz values; the page's language rides along too, and is checked apart."""
    pairs = parse_qsl(urlsplit(url).query)
    assert ("lang", "en") in pairs, f"{url} lost the page's language"
    return [pair for pair in pairs if pair[0] != "lang"]


def choose_answers_by_clicking(page: Page, *, check_focus: bool) -> None:
    """From the intro screen to the result, clicking labels and buttons like a patient."""
    page.get_by_role("button", name="Start the quiz").click()

    if check_focus:
        expect_heading_focused(page, CONCERN_HEADING)
    concern = page.locator("#concern-expression")
    expect(concern).not_to_be_checked()
    option_label(page, CONCERN_LABEL).click()
    expect(concern).to_be_checked()
    page.get_by_role("button", name="Next").click()

    expect(page.locator("#area-between_brows")).to_be_visible()
    if check_focus:
        expect_heading_focused(page, AREA_HEADING)
    for area_id, label in AREA_LABELS.items():
        option_label(page, label).click()
        expect(page.locator(f"#area-{area_id}")).to_be_checked()
    page.get_by_role("button", name="Next").click()

    expect(page.locator("#goal-prevent")).to_be_visible()
    if check_focus:
        expect_heading_focused(page, GOAL_HEADING)
    option_label(page, GOAL_LABEL).click()
    expect(page.locator("#goal-prevent")).to_be_checked()
    page.get_by_role("button", name="See my result").click()


def expect_mixed_result(page: Page) -> None:
    """The result for ANSWERS: both treatments, area by area, at a shareable URL."""
    result = page.locator("#result")
    expect(result).to_have_attribute("data-outcome", "both")
    expect(page).to_have_url(re.compile(r"/quiz/result\?"))
    assert urlsplit(page.url).path == "/quiz/result"
    assert query_pairs(page.url) == ANSWERS
    expect(result.locator('[data-area="between_brows"]')).to_have_attribute("data-fit", "relax")
    expect(result.locator('[data-area="cheeks"]')).to_have_attribute("data-fit", "fill")


def test_quiz_with_htmx_swaps_and_no_full_page_load(js_page: Page, server: LiveServer) -> None:
    page = js_page
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.goto(f"{server.url}/quiz/")
    expect(page.get_by_role("button", name="Start the quiz")).to_be_visible()
    # htmx (deferred) must be running before the first click, or that click is a plain GET.
    wait_for_htmx(page)
    page.evaluate(MARK_PAGE)
    intro_title = page.title()
    assert intro_title.endswith(SPA_NAME)
    assert len(loads) == 1

    choose_answers_by_clicking(page, check_focus=True)

    expect_mixed_result(page)
    headline = page.locator("#step-heading").inner_text()
    expect_heading_focused(page, headline)
    # The swaps happened inside the first document: no reload, no new page.
    assert page.evaluate(PAGE_IS_MARKED), "a full page load replaced the document"
    assert loads == [f"{server.url}/quiz/"], f"full page loads happened: {loads}"
    # The tab's title follows the step, like a real page would.
    expect(page).to_have_title(f"{headline} · {SPA_NAME}")
    assert page.title() != intro_title
    # The pushed URLs are real history entries: Back returns to the goal question.
    page.go_back()
    expect(page.locator("#goal-prevent")).to_be_visible()
    expect(page.locator("#result")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/quiz/goal\?"))


def test_quiz_without_javascript_reaches_the_same_result(
    nojs_page: Page, server: LiveServer
) -> None:
    page = nojs_page
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.goto(f"{server.url}/quiz/")

    choose_answers_by_clicking(page, check_focus=False)

    expect_mixed_result(page)
    expect(page).to_have_title(re.compile(rf" · {SPA_NAME}$"))
    # Intro, concern, area, goal, result: each step was its own page load.
    assert [urlsplit(u).path for u in loads] == [
        "/quiz/",
        "/quiz/concern",
        "/quiz/area",
        "/quiz/goal",
        "/quiz/result",
    ]


def tab_to(page: Page, selector: str, *, limit: int = 30) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus after {limit} presses of Tab")


def test_quiz_with_keyboard_only(js_page: Page, server: LiveServer) -> None:
    page = js_page
    page.goto(f"{server.url}/quiz/")
    wait_for_htmx(page)

    tab_to(page, "#quiz button[type=submit]")
    page.keyboard.press("Enter")

    # Concern: Tab into the radio group, Space picks the focused option.
    expect_heading_focused(page, CONCERN_HEADING)
    tab_to(page, "#concern-expression")
    page.keyboard.press("Space")
    expect(page.locator("#concern-expression")).to_be_checked()
    tab_to(page, "#quiz button[type=submit]")
    page.keyboard.press("Enter")

    # Area: each checkbox is its own Tab stop.
    expect_heading_focused(page, AREA_HEADING)
    expect(page.locator("#area-between_brows")).to_be_visible()
    tab_to(page, "#area-between_brows")
    page.keyboard.press("Space")
    tab_to(page, "#area-cheeks")
    page.keyboard.press("Space")
    expect(page.locator("#area-between_brows")).to_be_checked()
    expect(page.locator("#area-cheeks")).to_be_checked()
    expect(page.locator("#area-forehead")).not_to_be_checked()
    tab_to(page, "#quiz button[type=submit]")
    page.keyboard.press("Enter")

    # Goal: arrow keys move the choice within the radio group.
    expect_heading_focused(page, GOAL_HEADING)
    tab_to(page, "#goal-prevent")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#goal-repair")).to_be_checked()
    expect(page.locator("#goal-repair")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#goal-prevent")).to_be_checked()
    tab_to(page, "#quiz button[type=submit]")
    expect(page.locator("#quiz button[type=submit]")).to_have_text("See my result")
    page.keyboard.press("Enter")

    expect_mixed_result(page)
    expect_heading_focused(page, re.compile(r"."))


def fill_callback_form(page: Page, *, name: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Phone number").fill(PHONE_INPUT)
    consent = page.get_by_label(re.compile(r"^I agree that"))
    consent.check()
    expect(consent).to_be_checked()


def expect_one_lead(server: LiveServer, name: str) -> None:
    leads = server.leads()
    assert len(leads) == 1, f"expected exactly one stored lead, found {len(leads)}"
    lead = leads[0]
    assert lead.name == name
    assert lead.phone == PHONE_E164
    assert (lead.concern, lead.area_list, lead.goal) == ("expression", AREA_IDS, "prevent")
    assert lead.outcome == "both"
    assert lead.consent_at is not None
    assert lead.consent_text.startswith("I agree that")
    assert lead.status == "new"


def test_callback_request_with_javascript(js_page: Page, server: LiveServer) -> None:
    page = js_page
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.goto(f"{server.url}/quiz/result?{RESULT_QUERY}")
    wait_for_htmx(page)
    page.evaluate(MARK_PAGE)
    result_url = page.url

    # The form opens in place, under the result, with the focus on its heading.
    page.get_by_role("link", name="Request a call back").click()
    heading = page.get_by_role("heading", name=re.compile(r"call back\?$"))
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    expect(page.locator("#result #callback")).to_be_visible()
    expect(page.get_by_role("link", name="Request a call back")).to_be_hidden()
    fill_callback_form(page, name="Ada Lovelace")
    page.get_by_role("button", name="Request a call back").click()

    expect(page.locator("#thanks")).to_contain_text("will call you within one business day")
    expect_heading_focused(page, re.compile(r"^Thank you"))
    expect(page.locator("#callback")).to_have_count(0)
    assert page.evaluate(PAGE_IS_MARKED), "sending the form reloaded the page"
    assert len(loads) == 1, f"full page loads happened: {loads}"
    assert page.url == result_url
    expect_one_lead(server, "Ada Lovelace")
    # The patient path stays cookie-less, before and after sending the form.
    assert page.context.cookies() == []


def test_callback_form_without_javascript_shows_errors_then_stores(
    nojs_page: Page, server: LiveServer
) -> None:
    page = nojs_page
    page.goto(f"{server.url}/quiz/result?{RESULT_QUERY}")
    # Without JavaScript the form is one plain link away, on its own page.
    page.get_by_role("link", name="Request a call back").click()
    expect(page).to_have_url(re.compile(r"/quiz/callback\?"))
    assert query_pairs(page.url) == ANSWERS
    page.get_by_label("Phone number").fill(PHONE_INPUT)
    page.get_by_label(re.compile(r"^I agree that")).check()
    page.get_by_role("button", name="Request a call back").click()

    # The same form comes back with the message next to the name field.
    name_error = page.locator("#name-error")
    expect(name_error).to_have_text("Please tell us your name.")
    name_field = page.get_by_label("Your name")
    expect(name_field).to_have_attribute("aria-invalid", "true")
    expect(name_field).to_have_attribute("aria-describedby", re.compile(r"\bname-error\b"))
    name_box = page.locator(".field", has=page.locator("#name"))
    expect(name_box.locator(".error")).to_have_text("Please tell us your name.")
    expect(page.get_by_role("alert")).to_be_visible()
    # What the patient typed is kept, and nothing is stored yet.
    expect(page.get_by_label("Phone number")).to_have_value(PHONE_INPUT)
    assert server.leads() == []

    fill_callback_form(page, name="Grace Hopper")
    page.get_by_role("button", name="Request a call back").click()

    expect(page.locator("#thanks")).to_contain_text("will call you within one business day")
    expect(page.locator("#step-heading")).to_have_text(re.compile(r"^Thank you"))
    expect_one_lead(server, "Grace Hopper")
    assert page.context.cookies() == []


def test_back_link_keeps_the_chosen_areas(js_page: Page, server: LiveServer) -> None:
    page = js_page
    page.goto(f"{server.url}/quiz/concern")
    wait_for_htmx(page)
    option_label(page, CONCERN_LABEL).click()
    page.get_by_role("button", name="Next").click()
    for label in AREA_LABELS.values():
        option_label(page, label).click()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#goal-prevent")).to_be_visible()

    page.get_by_role("link", name="Back").click()

    expect(page.locator("#area-between_brows")).to_be_checked()
    expect(page.locator("#area-cheeks")).to_be_checked()
    checked = page.locator("#quiz input[name=area]:checked")
    expect(checked).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/quiz/area\?"))
    # Going forward again still carries the concern chosen first.
    page.get_by_role("button", name="Next").click()
    option_label(page, GOAL_LABEL).click()
    page.get_by_role("button", name="See my result").click()
    expect_mixed_result(page)


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE_PATH))
    results = page.evaluate("axe.run()")
    return [v for v in results["violations"] if v.get("impact") in ("critical", "serious")]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"])
        for v in violations
    )


@pytest.mark.parametrize(
    "path",
    ["/quiz/concern", f"/quiz/result?{RESULT_QUERY}"],
    ids=["first-question", "result"],
)
def test_no_serious_accessibility_violations(
    new_page: Callable[..., Page], server: LiveServer, path: str
) -> None:
    assert AXE_PATH.is_file(), f"{AXE_PATH} is missing: run `npm ci`"
    # The app's CSP (script-src 'self') would block the injected axe script.
    page = new_page(bypass_csp=True)
    page.goto(f"{server.url}{path}")
    expect(page.locator("#step-heading")).to_be_visible()
    violations = serious_axe_violations(page)
    assert violations == [], "axe found serious problems:\n" + describe(violations)


# --- the result on a phone ------------------------------------------------------------------

PHONE = {"width": 375, "height": 667}
UPPER = ("between_brows", "forehead", "crows_feet")
LOWER = ("under_nose", "around_mouth", "marionette", "cheeks")


def longest_results(server: LiveServer, count: int) -> list[str]:
    """The result URLs with four areas of both kinds whose pages carry the most text."""
    client = server.app.test_client(use_cookies=False)
    sized = []
    for areas in combinations(UPPER + LOWER, 4):
        if not (set(areas) & set(UPPER) and set(areas) & set(LOWER)):
            continue
        for concern in ("expression", "etched", "fine_lines", "volume"):
            for goal in ("prevent", "repair", "both"):
                query = [("concern", concern), *(("area", a) for a in areas), ("goal", goal)]
                url = f"/quiz/result?{urlencode(query)}"
                body = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
                sized.append((len(re.sub(r"<[^>]+>", "", body)), url))
    return [url for _, url in sorted(sized, reverse=True)[:count]]


def test_the_result_fits_a_phone_first_action_on_the_first_screen(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    page = new_page(viewport=PHONE)
    for url in longest_results(server, 3):
        page.goto(f"{server.url}{url}")
        expect(page.locator("#result")).to_have_attribute("data-outcome", "both")
        action = page.get_by_role("link", name="Request a call back")
        top = action.evaluate("a => a.getBoundingClientRect().top + window.scrollY")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert top + 44 <= PHONE["height"], f"{url}: the first action starts at {top:.0f} px"
        assert height <= 2000, f"{url}: the page is {height} px tall with its sections closed"
        # The details are there, closed, and open without JavaScript's help.
        details = page.locator("details.more")
        expect(details.first).not_to_have_attribute("open", "")
        page.locator("details.more summary").first.click()
        expect(page.locator("details.more ul.why")).to_be_visible()


@pytest.mark.parametrize(
    ("path", "open_form"),
    [
        (f"/quiz/result?{RESULT_QUERY}", False),
        (f"/quiz/result?{RESULT_QUERY}", True),
        (f"/quiz/callback?{RESULT_QUERY}", False),
    ],
    ids=["result", "result-with-form-in-place", "form-page"],
)
def test_the_result_and_the_form_have_no_axe_violations(
    new_page: Callable[..., Page], server: LiveServer, path: str, open_form: bool
) -> None:
    page = new_page(bypass_csp=True, viewport=PHONE)
    page.goto(f"{server.url}{path}")
    if open_form:
        wait_for_htmx(page)
        page.get_by_role("link", name="Request a call back").click()
        expect(page.locator("#callback")).to_be_visible()
    # Every section open, so axe sees all of it.
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.add_script_tag(path=str(AXE_PATH))
    violations = page.evaluate("axe.run().then(r => r.violations)")
    assert violations == [], "axe found problems:\n" + describe(violations)
