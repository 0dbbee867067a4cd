"""Spanish in real Chromium, and accessibility with no exceptions.

- The quiz and a callback in Spanish with htmx, `lang` kept at every step and
  after switching language mid-quiz with the answers kept; by keyboard alone.
- axe-core finds no violation of any impact (not only serious ones) on every
  patient screen in both languages at 375 and 1280 px, inside a cross-site
  iframe too, and on every staff screen, the lead list at 375 px included.
- Forced colours: the chosen answer still looks chosen beyond the radio's dot.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.browser.test_quiz_browser import tab_to
from tests.support.browser import AXE_PATH, LiveServer, wait_for_htmx
from tests.support.staff import EMAIL, PASSWORD, add_lead, create_staff

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these tests (or fails them under CI=true)
    pass

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Page

WIDTHS = {"375": {"width": 375, "height": 740}, "1280": {"width": 1280, "height": 800}}
RESULT_QUERY = "concern=expression&area=between_brows&area=cheeks&goal=prevent"
WORDS = {
    "en": {
        "start": "Start the quiz", "next": "Next", "see": "See my result",
        "callback": "Request a call back", "name": "Your name", "phone": "Phone number",
        "consent": r"^I agree that", "thanks": "will call you within one business day",
    },
    "es": {
        "start": "Empezar el cuestionario", "next": "Siguiente", "see": "Ver mi resultado",
        "callback": "Pedir que me llamen", "name": "Su nombre", "phone": "Número de teléfono",
        "consent": r"^Acepto que", "thanks": "le llamará dentro de un día hábil",
    },
}  # fmt: skip


def lang_of(url: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get("lang")


def axe_violations(target: Page | Frame) -> list[dict[str, Any]]:
    """Every axe violation of any impact, with every <details> open so axe sees all of it."""
    target.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    if not target.evaluate("typeof window.axe !== 'undefined'"):
        target.add_script_tag(path=str(AXE_PATH))
    return target.evaluate("axe.run().then(r => r.violations)")


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"])
        for v in violations
    )


def fill_form(target: Page | Frame, lang: str) -> None:
    words = WORDS[lang]
    target.get_by_label(words["name"]).fill("Ana López")
    target.get_by_label(words["phone"]).fill("301-810-5740")
    target.get_by_label(re.compile(words["consent"])).check()


# --- every patient screen, both languages, both widths -------------------------------------

SCREENS = [
    "intro", "concern", "area", "goal", "question-error", "result", "form-in-place",
    "form-errors", "thanks", "form-page", "broken-link", "not-found",
]  # fmt: skip


def open_screen(page: Page, base: str, screen: str, lang: str) -> None:
    """Bring the page to `screen` the way a patient would, and wait until it shows."""
    q = f"lang={lang}"
    direct = {
        "intro": f"/quiz/?{q}",
        "concern": f"/quiz/concern?{q}",
        "area": f"/quiz/area?concern=expression&{q}",
        "goal": f"/quiz/goal?concern=expression&area=cheeks&{q}",
        "question-error": f"/quiz/goal?concern=expression&{q}",
        "result": f"/quiz/result?{RESULT_QUERY}&{q}",
        "form-page": f"/quiz/callback?{RESULT_QUERY}&{q}",
        "broken-link": f"/quiz/result?concern=botox&{q}",
        "not-found": f"/quiz/nowhere?{q}",
    }
    if screen in direct:
        page.goto(base + direct[screen])
        expect(page.locator("#step-heading")).to_be_visible()
        return
    page.goto(f"{base}/quiz/result?{RESULT_QUERY}&{q}")
    wait_for_htmx(page)
    page.get_by_role("link", name=WORDS[lang]["callback"]).click()
    expect(page.locator("#callback")).to_be_visible()
    if screen == "form-errors":
        page.locator("#callback button[type=submit]").click()
        expect(page.locator(".error-summary")).to_be_focused()
    elif screen == "thanks":
        fill_form(page, lang)
        page.locator("#callback button[type=submit]").click()
        expect(page.locator("#thanks")).to_contain_text(WORDS[lang]["thanks"])


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("screen", SCREENS)
def test_patient_screen_has_no_axe_violations_of_any_impact(
    new_page: Callable[..., Page], server: LiveServer, screen: str, lang: str, width: str
) -> None:
    assert AXE_PATH.is_file(), f"{AXE_PATH} is missing: run `npm ci`"
    page = new_page(bypass_csp=True, viewport=WIDTHS[width])  # to inject axe-core
    open_screen(page, server.url, screen, lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    violations = axe_violations(page)
    assert violations == [], f"axe found problems on {screen} ({lang}, {width}):\n" + describe(
        violations
    )
    # Nothing scrolls sideways at a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]


# --- the quiz in Spanish with htmx, by mouse and by keyboard ------------------------------


def test_quiz_and_callback_in_spanish_with_htmx_keep_lang_at_every_step(
    js_page: Page, server: LiveServer
) -> None:
    page = js_page
    page.set_extra_http_headers({"Accept-Language": "es-MX,es;q=0.9"})
    page.goto(f"{server.url}/quiz/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    wait_for_htmx(page)
    page.evaluate("window.__marker = 1")
    page.set_extra_http_headers({"Accept-Language": "en"})  # from here on, only the URL counts
    page.get_by_role("button", name="Empezar el cuestionario").click()
    heading = page.locator("#step-heading")
    expect(heading).to_have_text(re.compile(r"Pregunta 1 de 3\s+¿Qué es lo que más le molesta?"))
    expect(heading).to_be_focused()  # the focused heading reads the progress too
    assert lang_of(page.url) == "es"
    page.get_by_text("Líneas que aparecen al entrecerrar").click()
    page.get_by_role("button", name="Siguiente").click()
    expect(heading).to_have_text(re.compile(r"Pregunta 2 de 3"))
    expect(heading).to_be_focused()
    assert lang_of(page.url) == "es"
    page.get_by_text("Entrecejo").click()
    page.get_by_text("Mejillas").click()

    # Switch to English mid-quiz: the answers given so far are kept, and so is the step.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_have_text(re.compile(r"Question 2 of 3\s+Where on your face?"))
    assert lang_of(page.url) == "en"
    assert ("concern", "expression") in parse_qsl(urlsplit(page.url).query)
    # ... and back to Spanish: still the same answers.
    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_text("Entrecejo").click()
    page.get_by_text("Mejillas").click()
    wait_for_htmx(page)
    page.get_by_role("button", name="Siguiente").click()
    expect(heading).to_have_text(re.compile(r"Pregunta 3 de 3"))
    assert lang_of(page.url) == "es"
    page.get_by_text("Evitar que se formen líneas nuevas").click()
    page.get_by_role("button", name="Ver mi resultado").click()
    expect(page.locator("#result")).to_have_attribute("data-outcome", "both")
    expect(heading).to_contain_text("Sus respuestas apuntan a ambos")
    assert lang_of(page.url) == "es"
    expect(page.locator("html")).to_have_attribute("lang", "es")

    page.get_by_role("link", name="Pedir que me llamen").click()
    expect(page.locator("#callback")).to_be_visible()
    page.locator("#callback button[type=submit]").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("h2")).to_have_text("Hay 3 problemas que corregir")
    summary.get_by_role("link", name="Díganos su nombre.").click()
    expect(page.get_by_label("Su nombre")).to_be_focused()  # each problem links to its field
    fill_form(page, "es")
    page.get_by_role("button", name="Pedir que me llamen").click()
    expect(page.locator("#thanks")).to_contain_text("le llamará dentro de un día hábil")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    [lead] = server.leads()
    assert lead.locale == "es" and lead.consent_text.startswith("Acepto que Alazzo Med Spa")


def test_the_whole_quiz_in_spanish_by_keyboard_only(js_page: Page, server: LiveServer) -> None:
    page = js_page
    page.goto(f"{server.url}/quiz/?lang=es")
    wait_for_htmx(page)
    tab_to(page, "#quiz button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#step-heading")).to_be_focused()
    tab_to(page, "#concern-expression")
    page.keyboard.press("Space")
    tab_to(page, "#quiz button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#step-heading")).to_contain_text("Pregunta 2 de 3")
    tab_to(page, "#area-between_brows")
    page.keyboard.press("Space")
    tab_to(page, "#area-cheeks")
    page.keyboard.press("Space")
    tab_to(page, "#quiz button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#step-heading")).to_contain_text("Pregunta 3 de 3")
    tab_to(page, "#goal-prevent")
    page.keyboard.press("Space")
    tab_to(page, "#quiz button[type=submit]")
    expect(page.locator("#quiz button[type=submit]")).to_have_text("Ver mi resultado")
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_have_attribute("data-outcome", "both")
    tab_to(page, "#request-callback")
    page.keyboard.press("Enter")
    expect(page.locator("#callback-heading")).to_be_focused()
    tab_to(page, "#name")
    page.keyboard.type("Ana López")
    tab_to(page, "#phone")
    page.keyboard.type("301-810-5740")
    tab_to(page, "#consent")
    page.keyboard.press("Space")
    tab_to(page, "#callback button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#thanks")).to_contain_text("le llamará dentro de un día hábil")
    [lead] = server.leads()
    assert (lead.locale, lead.outcome) == ("es", "both")


# --- forced colours ---------------------------------------------------------------------------


def test_forced_colours_keep_the_chosen_answer_and_errors_distinguishable(
    new_page: Callable[..., Page], server: LiveServer
) -> None:
    page = new_page(viewport=WIDTHS["375"])
    page.emulate_media(forced_colors="active", reduced_motion="reduce")
    page.goto(f"{server.url}/quiz/concern?lang=es")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    label = page.locator("label[for=concern-etched]")
    box = label.bounding_box()
    assert box is not None
    # The label right of the radio: what changes there is ours, not the native control's dot.
    clip = {"x": box["x"] + 48, "y": box["y"], "width": box["width"] - 48, "height": box["height"]}
    before = page.screenshot(clip=clip)
    label.click()
    expect(page.locator("#concern-etched")).to_be_checked()
    page.mouse.move(0, 0)  # no hover state in either picture
    after = page.screenshot(clip=clip)
    assert before != after, "in forced colours the chosen answer looks the same as the others"
    # An error carries an icon, not only a colour that forced colours take away.
    page.goto(f"{server.url}/quiz/goal?concern=expression&lang=es")
    icon = page.locator(".error").evaluate("e => getComputedStyle(e, '::before').content")
    assert "⚠" in icon


# --- inside a cross-site iframe ----------------------------------------------------------------

HOST_PAGE = """<!doctype html>
<html lang="{host_lang}"><head><meta charset="utf-8"><title>Spa</title></head>
<body><main><h1>Spa</h1><div data-relax-or-fill{attrs}></div></main>
<script src="{widget}/embed.js" async></script></body></html>"""


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LiveServer]]:
    """The widget on 127.0.0.1 allowing a spa page on localhost: a third-party iframe."""
    import flask_migrate
    from werkzeug.serving import make_server

    from quiz import create_app
    from quiz.db.engine import db

    widget_url: dict[str, str] = {}

    def host(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        one = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        attrs = f' data-lang="{one["lang"]}"' if "lang" in one else ""
        body = HOST_PAGE.format(
            host_lang=one.get("host_lang", "en"), attrs=attrs, widget=widget_url["url"]
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    host_server = make_server("127.0.0.1", 0, host, threaded=True)
    spa = f"http://localhost:{host_server.server_port}"
    tmp = tmp_path_factory.mktemp("iframe-db")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/quiz.db",
            "MIN_FILL_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "iframe-browser-test-secret-key-0123456789",
            "EMBED_ORIGINS": [spa],
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
    widget_server = make_server("127.0.0.1", 0, app, threaded=True)
    widget_url["url"] = f"http://127.0.0.1:{widget_server.server_port}"
    threads = [
        threading.Thread(target=s.serve_forever, daemon=True) for s in (host_server, widget_server)
    ]
    for thread in threads:
        thread.start()
    try:
        yield spa, LiveServer(url=widget_url["url"], app=app)
    finally:
        for s in (host_server, widget_server):
            s.shutdown()
            s.server_close()
        with app.app_context():
            db.engine.dispose()


def widget_frame(page: Page) -> Frame:
    page.locator("iframe").wait_for()
    frame = page.frame_locator("iframe").locator("#step-heading")
    expect(frame).to_be_visible()
    found = [f for f in page.frames if f.url.startswith("http://127.0.0.1")]
    assert found, "the widget's frame did not load"
    return found[0]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("host", "lang"), [("lang=es", "es"), ("host_lang=es-MX", "es"),
                                            ("host_lang=en", "en")])  # fmt: skip
def test_every_step_inside_the_cross_site_iframe_has_no_axe_violations(
    new_page: Callable[..., Page],
    embedded: tuple[str, LiveServer],
    host: str,
    lang: str,
    width: str,
) -> None:
    spa, _widget = embedded
    page = new_page(viewport=WIDTHS[width])
    page.goto(f"{spa}/?{host}")
    frame = widget_frame(page)
    assert lang_of(frame.url) == lang  # data-lang, or the host page's <html lang>
    found: dict[str, list[str]] = {}
    words = WORDS[lang]
    wait_for_htmx(frame)
    # The widget's CSP forbids injected scripts; axe is evaluated as a string in the frame.
    axe_source = AXE_PATH.read_text(encoding="utf-8")

    def check(screen: str) -> None:
        expect(frame.locator("html")).to_have_attribute("lang", lang)
        if not frame.evaluate("typeof window.axe !== 'undefined'"):
            frame.evaluate(axe_source)
        frame.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        violations = frame.evaluate("axe.run().then(r => r.violations)")
        found[screen] = [f"{v['id']} ({v['impact']})" for v in violations]

    check("intro")
    frame.get_by_role("button", name=words["start"]).click()
    expect(frame.locator("#concern-expression")).to_be_visible()
    check("concern")
    frame.locator("label[for=concern-expression]").click()
    frame.get_by_role("button", name=words["next"]).click()
    expect(frame.locator("#area-cheeks")).to_be_visible()
    check("area")
    frame.locator("label[for=area-between_brows]").click()
    frame.locator("label[for=area-cheeks]").click()
    frame.get_by_role("button", name=words["next"]).click()
    expect(frame.locator("#goal-prevent")).to_be_visible()
    check("goal")
    frame.locator("label[for=goal-prevent]").click()
    frame.get_by_role("button", name=words["see"]).click()
    expect(frame.locator("#result")).to_be_visible()
    check("result")
    frame.get_by_role("link", name=words["callback"]).click()
    expect(frame.locator("#callback")).to_be_visible()
    check("form")
    assert found == {screen: [] for screen in found}, found


# --- staff screens ---------------------------------------------------------------------------


SPANISH_TITLE = "¿Relajar o rellenar? Una guía de tres preguntas"
ENGLISH_TITLE = "Relax or fill? A three-question guide"


@pytest.mark.parametrize(
    ("host", "locale", "title", "lang"),
    [
        ("lang=es", "en-US", SPANISH_TITLE, "es"),  # data-lang, on an English page
        ("lang=en&host_lang=es", "es-MX", ENGLISH_TITLE, "en"),  # data-lang wins
        ("host_lang=es-MX", "en-US", SPANISH_TITLE, "es"),  # else the page's <html lang>
        ("host_lang=", "es-MX", SPANISH_TITLE, "es"),  # else the browser's, as the widget
        ("lang=fr", "es-MX", ENGLISH_TITLE, "en"),  # a language the quiz lacks: the default
    ],
)
def test_the_iframes_title_is_in_the_widgets_language(
    new_page: Callable[..., Page],
    embedded: tuple[str, LiveServer],
    host: str,
    locale: str,
    title: str,
    lang: str,
) -> None:
    spa, _widget = embedded
    page = new_page(locale=locale)  # the browser's language (Accept-Language, navigator)
    page.goto(f"{spa}/?{host}")
    frame = widget_frame(page)
    expect(frame.locator("html")).to_have_attribute("lang", lang)  # what the widget speaks
    iframe = page.get_by_title(title, exact=True)
    expect(iframe).to_have_count(1)  # the name a screen reader announces for the frame
    expect(iframe).to_have_attribute("lang", lang)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_staff_screen_has_no_axe_violations_and_the_list_fits_a_phone(
    new_page: Callable[..., Page], server: LiveServer, width: str
) -> None:
    with server.app.app_context():
        if not _has_staff(server):
            create_staff(server.app, EMAIL, PASSWORD, role="admin")
    lead_id = add_lead(server.app, name="Ana López", locale="es")
    add_lead(server.app, name="Jane Patient")
    page = new_page(bypass_csp=True, viewport=WIDTHS[width])
    base = server.url
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.add_script_tag(path=str(AXE_PATH))
        violations = page.evaluate("axe.run().then(r => r.violations)")
        found[name] = [f"{v['id']} ({v['impact']})" for v in violations]
        width_px = page.evaluate("document.documentElement.scrollWidth")
        if width_px > WIDTHS[width]["width"]:
            found[name].append(f"scrolls sideways: {width_px} px")

    page.goto(base + "/staff/login")
    check("sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in")).click()
    expect(page.locator("h1")).to_contain_text("Leads")
    check("lead list")
    expect(page.locator(f"#lead-{lead_id}")).to_contain_text("Language: Spanish")
    if width == "375":  # one card per lead: each row as wide as the screen, stacked
        rows = page.locator("table.leads tbody tr")
        boxes = [rows.nth(i).bounding_box() for i in range(rows.count())]
        assert all(b is not None and b["width"] <= 375 for b in boxes)
        name_link = page.locator(f"#lead-{lead_id} a.name").bounding_box()
        assert name_link is not None and name_link["height"] >= 44
    page.goto(f"{base}/staff/leads/{lead_id}")
    check("lead page")
    for path, name in [("/staff/funnel", "funnel"), ("/staff/speed", "speed"),
                       ("/staff/outbox", "deliveries")]:  # fmt: skip
        page.goto(base + path)
        check(name)
    page.goto(f"{base}/staff/leads/{lead_id}/erase")
    check("erase")
    assert found == {name: [] for name in found}, found


def _has_staff(server: LiveServer) -> bool:
    from quiz.db.engine import db
    from quiz.db.models import StaffUser

    return db.session.execute(db.select(StaffUser).filter_by(email=EMAIL)).first() is not None
