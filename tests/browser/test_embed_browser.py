"""Embedding in real Chromium: the widget on one site, the spa's page on another.

The widget runs on http://127.0.0.1:W with EMBED_ORIGINS = [http://localhost:A]; the
spa's page (the snippet: a `<div data-relax-or-fill>` and embed.js) is served from
http://localhost:A, a different site, so the widget's iframe is third-party. A
second host page server on http://localhost:F is not in EMBED_ORIGINS.

The browser is a persistent Chromium profile with third-party cookies blocked
(`cookie_controls_mode: 1` in its Preferences, as Safari does by default); a
probe inside the iframe proves they are blocked, and a control profile with them
allowed proves that probe would notice.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.browser import CHROMIUM, DEFAULT_TIMEOUT_MS, LiveServer, wait_for_htmx
from tests.support.waiting import wait_until

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these tests (or fails them under CI=true)
    pass

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Frame, Locator, Page, Playwright

BOX = "#quiz-box"
SPA = "glow-downtown"  # the install's second spa (the `sites` fixture)
IFRAME = "#quiz-box iframe"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
START_HEIGHTS = (480, 420, 360)  # embed.js's starting heights: under 360 px wide, 600, above
CONCERN_LABEL = "Lines that appear when I squint, frown or raise my brows"
AREA_LABELS = ("Between the eyebrows", "Cheeks")
GOAL_LABEL = "Stop new lines from forming"
UTM = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"}
# A cookie that only a third-party context that allows cookies would keep.
COOKIE_PROBE = """() => {
  document.cookie = "probe=1; SameSite=None; Secure; Path=/";
  return document.cookie;
}"""

# --- the spa's page ---------------------------------------------------------

ARTICLE = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Botox or fillers? · Glow Spa blog</title>
<style>
body { margin: 0; font: 17px/1.6 Georgia, serif; }
main { max-width: 760px; margin: 0 auto; padding: 0 16px; }
.text { background: repeating-linear-gradient(#fff 0 26px, #eee 26px 27px); }
</style></head>
<body><main>
<h1>Botox or fillers?</h1>
<div class="text" id="before" style="height: ${before}px">Article text before the quiz.</div>
${early}
<div data-relax-or-fill id="quiz-box"${attrs}><a href="${widget}/quiz/">Take the quiz</a></div>
${loader}
${extra}
<div class="text" id="gap" style="height: ${gap}px">More article text.</div>
<p id="reading">The paragraph the reader is looking at.</p>
<div class="text" style="height: 3000px">More article text.</div>
</main>
<script>
window.quizEvents = [];
["step", "result", "callback"].forEach(function (name) {
  document.addEventListener("relax-or-fill:" + name, function (event) {
    quizEvents.push({ name: name, detail: event.detail, container: event.target.id });
  });
});
window.doneMarks = 0;
window.addEventListener("message", function (event) {
  if (event.data === "done") doneMarks += 1;
});
window.addLoader = function () {
  var script = document.createElement("script");
  script.src = "${widget}/embed.js";
  script.async = true;
  document.body.appendChild(script);
};
</script>
</body></html>"""
)

FRAMES = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Frames</title></head>
<body>${frames}</body></html>"""
)


@dataclass
class HostSite:
    """The spa's pages; `widget` is filled in once the widget server is up."""

    widget: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        one = {key: values[0] for key, values in query.items()}
        if environ["PATH_INFO"] == "/frames":
            sandbox = f' sandbox="{one["sandbox"]}"' if "sandbox" in one else ""
            frames = "".join(
                f'<iframe src="{self.widget}{src}" title="frame {n}" id="frame-{n}"{sandbox}'
                ' width="800" height="600"></iframe>'
                for n, src in enumerate(query.get("src", []))
            )
            body = FRAMES.substitute(frames=frames)
        else:
            attrs = f' data-accent="{one["accent"]}"' if "accent" in one else ""
            load = one.get("load", "after")
            loader = self.loader_tag(one.get("spa", "")) if load == "after" else ""
            # Pasted above the container and without async: it runs before the div exists.
            early = f'<script src="{self.widget}/embed.js"></script>' if load == "before" else ""
            extra = ""
            if "sibling" in one:
                extra = f'<iframe id="sibling" src="{self.widget}/quiz/" title="Other"></iframe>'
            body = ARTICLE.substitute(
                before=int(one.get("before", "120")),
                gap=int(one.get("gap", "40")),
                attrs=attrs,
                loader=loader,
                extra=extra,
                early=early,
                widget=self.widget,
            )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    def loader_tag(self, spa: str = "") -> str:
        chosen = f' data-spa="{spa}"' if spa else ""
        return f'<script src="{self.widget}/embed.js"{chosen} async></script>'


@dataclass
class RequestLog:
    """What the widget server saw: POSTs' fetch metadata, and any Cookie header at all."""

    wsgi_app: Callable[..., Any]
    posts: list[dict[str, str]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_COOKIE"):
            self.cookies.append(environ["PATH_INFO"])
        if environ["REQUEST_METHOD"] == "POST":
            self.posts.append(
                {
                    "path": environ["PATH_INFO"],
                    "sec_fetch_site": environ.get("HTTP_SEC_FETCH_SITE", ""),
                    "origin": environ.get("HTTP_ORIGIN", ""),
                }
            )
        return self.wsgi_app(environ, start_response)


@dataclass
class Sites:
    widget: LiveServer
    log: RequestLog
    allowed: str  # http://localhost:A, in EMBED_ORIGINS
    foreign: str  # http://localhost:F, not in EMBED_ORIGINS


def _serve(app: Callable[..., Any], name: str) -> tuple[Any, threading.Thread]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)  # a free port, loopback only
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """The widget on 127.0.0.1, the spa's page on localhost (allowed) and localhost (foreign)."""
    import flask_migrate

    from quiz import create_app
    from quiz.db.engine import db

    host = HostSite()
    servers = [_serve(host, "spa-site"), _serve(host, "foreign-site")]
    allowed = f"http://localhost:{servers[0][0].server_port}"
    foreign = f"http://localhost:{servers[1][0].server_port}"
    tmp = tmp_path_factory.mktemp("embed-db")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/quiz.db",
            "MIN_FILL_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "embed-browser-test-secret-key-0123456789",
            "EMBED_ORIGINS": [allowed],
            "SPA_CHECK_SECONDS": 0,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
    # A second spa on the install, embedded by the "foreign" site only.
    made = app.test_cli_runner().invoke(
        args=["spas", "create", SPA, "--name", "Glow Downtown", "--origin", foreign]
    )
    assert made.exit_code == 0, made.output
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log  # type: ignore[method-assign]
    widget_server, widget_thread = _serve(app, "widget-site")
    servers.append((widget_server, widget_thread))
    host.widget = f"http://127.0.0.1:{widget_server.server_port}"
    try:
        yield Sites(LiveServer(url=host.widget, app=app), log, allowed, foreign)
    finally:
        for server, thread in servers:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
        with app.app_context():
            db.engine.dispose()


def _profile(playwright: Playwright, user_data_dir: Path, cookie_mode: int) -> BrowserContext:
    """A persistent Chromium profile; cookie_controls_mode 1 blocks third-party cookies."""
    (user_data_dir / "Default").mkdir(parents=True)
    preferences = {"profile": {"cookie_controls_mode": cookie_mode}}
    (user_data_dir / "Default" / "Preferences").write_text(json.dumps(preferences))
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--disable-gpu", "--disable-quic"],
        viewport=PHONE,
    )


@pytest.fixture(scope="module")
def blocked_profile(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """Chromium with third-party cookies blocked, shared by this module's tests."""
    context = _profile(playwright, tmp_path_factory.mktemp("profile-blocked"), cookie_mode=1)
    yield context
    context.close()


@pytest.fixture
def new_tab(blocked_profile: BrowserContext, sites: Sites) -> Iterator[Callable[..., Page]]:
    """Open a tab in the blocked profile at a viewport size; leads and cookies start empty."""
    sites.widget.clear_leads()
    sites.log.posts.clear()
    sites.log.cookies.clear()
    blocked_profile.clear_cookies()
    pages: list[Page] = []

    def open_tab(viewport: dict[str, int] = PHONE) -> Page:
        page = blocked_profile.new_page()
        page.set_viewport_size(viewport)
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        pages.append(page)
        return page

    yield open_tab
    for page in pages:
        page.close()


# --- helpers ----------------------------------------------------------------


def widget_frame(page: Page, selector: str = IFRAME) -> Frame:
    """The widget's frame, once its document is the quiz and htmx runs in it."""
    frame = page.locator(selector).element_handle().content_frame()
    assert frame is not None
    frame.wait_for_url(re.compile(r"/quiz/"))
    wait_for_htmx(frame)
    return frame


def iframe_height(page: Page, selector: str = IFRAME) -> float:
    return page.locator(selector).evaluate("f => f.getBoundingClientRect().height")


def expect_fitted(page: Page, frame: Frame, where: str) -> None:
    """The iframe is exactly as tall as the widget: no inner scrollbar, no empty band."""
    measured: dict[str, Any] = {}

    def fitted() -> bool:
        inner = frame.evaluate(
            """() => ({
              content: document.body.getBoundingClientRect().height,
              scrollHeight: document.documentElement.scrollHeight,
              clientHeight: document.documentElement.clientHeight,
              scrollWidth: document.documentElement.scrollWidth,
              clientWidth: document.documentElement.clientWidth,
            })"""
        )
        outer = iframe_height(page)
        measured.update(inner, outer=outer)
        return (
            inner["scrollHeight"] <= inner["clientHeight"]  # nothing hidden: no scrollbar
            and inner["scrollWidth"] <= inner["clientWidth"]  # nor sideways, at phone width
            and 0 <= outer - inner["content"] < 2  # no band of empty space below
        )

    try:
        wait_until(fitted, f"the iframe fits the widget ({where})")
    except AssertionError as err:
        raise AssertionError(f"{err}: {measured}") from None


def answer_quiz(
    frame: Frame,
    check: Callable[[str], None] = lambda step: None,
    click: Callable[[Locator], None] = lambda target: target.click(),
) -> None:
    """Intro to result inside the frame, clicking like a patient; `check` after each step."""
    click(frame.get_by_role("button", name="Start the quiz"))
    expect(frame.locator("#concern-expression")).to_be_visible()
    check("concern")
    click(frame.locator("#quiz label", has_text=CONCERN_LABEL))
    click(frame.get_by_role("button", name="Next"))
    expect(frame.locator("#area-cheeks")).to_be_visible()
    check("area")
    for label in AREA_LABELS:
        click(frame.locator("#quiz label", has_text=label))
    click(frame.get_by_role("button", name="Next"))
    expect(frame.locator("#goal-prevent")).to_be_visible()
    check("goal")
    click(frame.locator("#quiz label", has_text=GOAL_LABEL))
    click(frame.get_by_role("button", name="See my result"))
    expect(frame.locator("#result")).to_have_attribute("data-outcome", "both")
    check("result")


def click_in_place(target: Locator) -> None:
    """Click without scrolling first (Playwright's click scrolls the page to the target)."""
    target.evaluate("el => el.click()")


def open_callback(frame: Frame) -> None:
    """Press "Request a call back" under the result: the form opens in place.

    Clicked in place: the loader may still be scrolling the host page to the new
    result, and a pointer click aimed before that scroll lands elsewhere.
    """
    click_in_place(frame.get_by_role("link", name="Request a call back"))
    expect(frame.locator("#result #callback")).to_be_visible()


def fill_callback(frame: Frame) -> None:
    frame.get_by_label("Your name").fill("Jane Patient")
    frame.get_by_label("Phone number").fill("301-810-5740")
    frame.locator("#quiz label[for=best_time-morning]").click()
    frame.locator("#quiz label[for=consent]").click()


def frame_blocked(page: Page, selector: str) -> bool:
    """True when Chromium refused to show that frame (frame-ancestors / X-Frame-Options)."""
    frame = page.locator(selector).element_handle().content_frame()
    return frame is not None and frame.url.startswith("chrome-error://")


# --- tests ------------------------------------------------------------------


def test_quiz_and_callback_complete_in_a_cross_site_iframe_with_third_party_cookies_blocked(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    page = new_tab()
    query = "&".join(f"{key}={value}" for key, value in UTM.items())
    host_url = f"{sites.allowed}/blog/botox-or-fillers?{query}"
    page.goto(host_url + "#quiz")
    frame = widget_frame(page)
    # The iframe is what the snippet promises, and the page's URL rides into it.
    iframe = page.locator(IFRAME)
    expect(iframe).to_have_attribute("title", "Relax or fill? A three-question guide")
    expect(iframe).to_have_attribute("loading", "lazy")
    src = parse_qs(urlsplit(iframe.get_attribute("src") or "").query)
    assert src["page"] == [host_url]
    assert {key: src[key] for key in UTM} == {key: [value] for key, value in UTM.items()}
    # Third-party: another site, and this profile keeps no cookie for it.
    assert (
        urlsplit(frame.url).hostname == "127.0.0.1" and urlsplit(page.url).hostname == "localhost"
    )
    assert frame.evaluate(COOKIE_PROBE) == "", "third-party cookies are not blocked in this profile"

    answer_quiz(frame)
    open_callback(frame)
    fill_callback(frame)
    frame.get_by_role("button", name="Request a call back").click()
    expect(frame.locator("#thanks")).to_contain_text("will call you within one business day")

    (lead,) = sites.widget.leads()
    assert (lead.name, lead.phone, lead.outcome) == ("Jane Patient", "+13018105740", "both")
    assert lead.source_url == host_url
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == tuple(UTM.values())
    # The form POST inside the cross-site iframe is same-origin: the widget's own page posted it.
    assert sites.log.posts == [
        {"path": "/quiz/callback", "sec_fetch_site": "same-origin", "origin": sites.widget.url}
    ]
    assert sites.log.cookies == [] and page.context.cookies() == []
    # The spa's page heard the steps, never the answers or the outcome.
    events = page.evaluate("quizEvents")
    assert events == [
        {"name": "step", "detail": {"step": step}, "container": "quiz-box"}
        for step in ("intro", "concern", "area", "goal")
    ] + [
        {"name": "result", "detail": {}, "container": "quiz-box"},
        {"name": "callback", "detail": {}, "container": "quiz-box"},
    ]


def test_cookie_probe_sees_cookies_when_the_profile_allows_them(
    playwright: Playwright, tmp_path: Path, sites: Sites
) -> None:
    """Control for the test above: with third-party cookies allowed, the probe keeps one."""
    context = _profile(playwright, tmp_path / "profile-allowed", cookie_mode=0)
    try:
        page = context.new_page()
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page.goto(f"{sites.allowed}/blog")
        assert widget_frame(page).evaluate(COOKIE_PROBE) == "probe=1"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-375", "desktop-1280"])
def test_iframe_height_follows_the_widget_at_every_step(
    new_tab: Callable[..., Page], sites: Sites, viewport: dict[str, int]
) -> None:
    page = new_tab(viewport)
    page.goto(f"{sites.allowed}/blog")
    frame = widget_frame(page)
    expect_fitted(page, frame, "intro")
    answer_quiz(frame, check=lambda step: expect_fitted(page, frame, step))

    # The form opens under the result; sent empty, the errors make it taller; then the
    # short thank-you.
    open_callback(frame)
    expect_fitted(page, frame, "callback form opened")
    frame.get_by_role("button", name="Request a call back").click()
    expect(frame.locator(".error-summary")).to_be_visible()
    expect_fitted(page, frame, "callback form with errors")
    fill_callback(frame)
    frame.get_by_role("button", name="Request a call back").click()
    expect(frame.locator("#thanks")).to_be_visible()
    expect_fitted(page, frame, "thanks")

    # The reader turns the phone or narrows the window: the height follows.
    page.set_viewport_size(DESKTOP if viewport == PHONE else {"width": 360, "height": 740})
    expect_fitted(page, frame, "after a resize")


LAYOUT_SHIFTS = """() => new Promise((resolve) => {
  // Every layout shift the page has seen since it started loading.
  new PerformanceObserver((list) => resolve(list.getEntries().map((e) => e.value)))
    .observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve([]), 500);  // none recorded: the observer never fires
})"""

# From the moment the loader puts the iframe in the page, every size it is given.
WATCH_IFRAME = """
window.iframeSizes = [];
new MutationObserver((changes, observer) => {
  const frame = document.querySelector("[data-relax-or-fill] iframe");
  if (!frame) return;
  observer.disconnect();
  new ResizeObserver(() => {
    iframeSizes.push(Math.round(frame.getBoundingClientRect().height));
  }).observe(frame);
}).observe(document, { childList: true, subtree: true });
"""


@pytest.mark.parametrize("width", [320, 375, 768, 1280])
def test_the_iframe_keeps_its_first_height_while_the_widget_loads(
    new_tab: Callable[..., Page], sites: Sites, width: int
) -> None:
    # The loader starts the iframe at its first screen's height for the container's
    # width, and the first screen fills it: nothing resizes before the first click.
    page = new_tab({"width": width, "height": 740})
    page.add_init_script(WATCH_IFRAME)
    page.goto(f"{sites.allowed}/blog")
    frame = widget_frame(page)
    expect_fitted(page, frame, "intro")
    wait_until(lambda: page.evaluate("quizEvents.length") >= 1, "the widget's first step event")
    sizes = page.evaluate("iframeSizes")
    assert len(set(sizes)) == 1 and sizes[0] in START_HEIGHTS, sizes
    assert iframe_height(page) == sizes[0]


@pytest.mark.parametrize("width", [320, 375, 768, 1280])
def test_the_demo_page_records_no_layout_shift(
    new_tab: Callable[..., Page], sites: Sites, width: int
) -> None:
    # Cumulative Layout Shift counts against a spa's search ranking: loading the
    # widget must not move the page it is embedded in.
    page = new_tab({"width": width, "height": 740})
    page.add_init_script(
        """window.heights = [];
           addEventListener("message", (e) => {
             if (e.data && e.data.type === "relax-or-fill:height") heights.push(e.data.height);
           });"""
    )
    page.goto(f"{sites.widget.url}/")
    wait_until(lambda: page.evaluate("heights.length") >= 1, "the widget to report its height")
    # Two frames later the loader has applied it and any shift has been recorded.
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page.evaluate(LAYOUT_SHIFTS) == []


def test_host_page_not_in_embed_origins_cannot_show_the_widget(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    page = new_tab()
    refused: list[str] = []
    page.on(
        "requestfailed",
        lambda r: refused.append(r.url) if "ERR_BLOCKED_BY_RESPONSE" in (r.failure or "") else None,
    )
    page.goto(f"{sites.foreign}/blog")
    wait_until(lambda: frame_blocked(page, IFRAME), "Chromium refuses the widget's frame")
    assert any(urlsplit(url).path == "/quiz/" for url in refused), refused
    starts = "|".join(map(str, START_HEIGHTS))
    expect(page.locator(IFRAME)).to_have_attribute("style", re.compile(f"height: ({starts})px"))


def test_data_spa_embeds_that_spas_quiz_on_its_own_site_and_nowhere_else(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    from quiz.db.engine import db
    from quiz.db.models import Lead, Spa
    from quiz.db.scope import ALL_SPAS, spa_scope

    page = new_tab()
    page.goto(f"{sites.foreign}/blog?spa={SPA}")
    frame = widget_frame(page)
    assert urlsplit(page.locator(IFRAME).get_attribute("src") or "").path == f"/s/{SPA}/quiz/"
    answer_quiz(frame)
    expect(frame.locator("#result")).to_contain_text("Glow Downtown")
    open_callback(frame)
    fill_callback(frame)
    frame.get_by_role("button", name="Request a call back").click()
    expect(frame.locator("#thanks")).to_be_visible()
    # The widget talked to the spa's page (its origin is that spa's): the events arrived.
    wait_until(lambda: any(e["name"] == "callback" for e in page.evaluate("quizEvents")),
               "the callback event on the spa's page")  # fmt: skip
    with sites.widget.app.app_context(), spa_scope(ALL_SPAS):
        stored = (
            db.session.execute(
                db.select(Spa.slug).join(Lead, Lead.spa_id == Spa.id).order_by(Lead.id.desc())
            )
            .scalars()
            .first()
        )
        db.session.remove()
    assert stored == SPA
    # The install's own site may not show that spa's quiz.
    other = new_tab()
    other.goto(f"{sites.allowed}/blog?spa={SPA}")
    wait_until(lambda: frame_blocked(other, IFRAME), "Chromium refuses the spa's frame")


def test_staff_area_and_other_app_pages_cannot_be_framed(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    """Even the allowed spa page may frame only the widget: not staff, not the demo page."""
    page = new_tab(DESKTOP)
    paths = ["/staff/", "/staff/login", "/", "/embed.js", "/quiz/"]
    page.goto(f"{sites.allowed}/frames?" + "&".join(f"src={p}" for p in paths))
    for n, path in enumerate(paths[:-1]):
        wait_until(lambda n=n: frame_blocked(page, f"#frame-{n}"), f"{path} is refused in a frame")
    # Control: the widget itself, in the same page, loads.
    frame = widget_frame(page, f"#frame-{len(paths) - 1}")
    expect(frame.get_by_role("button", name="Start the quiz")).to_be_visible()


def test_a_sandboxed_iframe_cannot_send_the_callback_form(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    """What the README warns about: sandbox without allow-same-origin sends Origin: null."""
    page = new_tab(DESKTOP)
    result = "/quiz/result?concern=volume%26area=cheeks%26goal=repair"
    page.goto(f"{sites.allowed}/frames?sandbox=allow-forms&src={result}")
    frame = page.locator("#frame-0").element_handle().content_frame()
    assert frame is not None
    expect(frame.locator("#result")).to_have_attribute("data-outcome", "fill")
    frame.get_by_role("link", name="Request a call back").click()  # no script: its own page
    fill_callback(frame)
    frame.get_by_role("button", name="Request a call back").click()
    expect(frame.locator("body")).to_contain_text("can only be sent from the quiz itself")
    assert sites.log.posts == [
        {"path": "/quiz/callback", "sec_fetch_site": "cross-site", "origin": "null"}
    ]
    assert sites.widget.leads() == []


def test_messages_from_other_frames_do_not_resize_the_widget(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    page = new_tab(DESKTOP)
    page.goto(f"{sites.allowed}/blog?sibling=1")
    frame = widget_frame(page)
    expect_fitted(page, frame, "intro")
    fitted = iframe_height(page)
    sibling = widget_frame(page, "#sibling")
    # Record every height the iframe is given from now on.
    page.locator(IFRAME).evaluate(
        """f => {
          window.heights = [];
          new MutationObserver(() => heights.push(f.style.height))
            .observe(f, { attributes: true, attributeFilter: ["style"] });
        }"""
    )
    forged = """() => {
      var messages = [
        { type: "relax-or-fill:height", version: 1, height: 1500 },
        { type: "relax-or-fill:event", version: 1, event: "result" },
        { type: "relax-or-fill:scroll", version: 1, top: 0 },
      ];
      messages.forEach(function (m) { parent.postMessage(m, "*"); });
      parent.postMessage("done", "*");
    }"""
    # Another frame of the widget's own origin (not the loader's iframe), and the page itself.
    sibling.evaluate(forged)
    page.evaluate(forged.replace("parent.", "window."))
    wait_until(lambda: page.evaluate("doneMarks") == 2, "the forged messages were delivered")
    # The loader's own iframe, but not the protocol: wrong version, type or bounds.
    frame.evaluate(
        """() => {
          [
            { type: "relax-or-fill:height", version: 2, height: 1500 },
            { type: "relax-or-fill:height", version: 1, height: "1500" },
            { type: "relax-or-fill:height", version: 1, height: 1500.5 },
            { type: "relax-or-fill:height", version: 1, height: 20 },
            { type: "relax-or-fill:height", version: 1, height: 999999 },
            { type: "relax-or-fill:size", version: 1, height: 1500 },
            { type: "relax-or-fill:event", version: 1, event: "step", step: "concern=volume" },
            "relax-or-fill:height 1500",
            // The last one is valid: once it is applied, all the others were seen.
            { type: "relax-or-fill:height", version: 1, height: 1234 },
          ].forEach(function (m) { parent.postMessage(m, "*"); });
        }"""
    )
    wait_until(lambda: iframe_height(page) == 1234, "the valid message is applied")
    assert page.evaluate("heights") == ["1234px"], f"was {fitted}px"
    assert page.evaluate("quizEvents") == [
        {"name": "step", "detail": {"step": "intro"}, "container": "quiz-box"}
    ]
    assert page.evaluate("window.scrollY") == 0


def test_host_page_does_not_jump_when_the_widget_loads(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    page = new_tab(PHONE)
    # The reader is at the top; the quiz appears further down the article.
    page.goto(f"{sites.allowed}/blog?before=300")
    frame = widget_frame(page)
    expect_fitted(page, frame, "intro")
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.activeElement === document.body")
    assert frame.evaluate("document.activeElement === document.body"), "focus moved on load"

    # The reader has scrolled past the quiz's place when the loader arrives late:
    # the iframe appears and settles to its height above them; what they read stays put.
    page.goto(f"{sites.allowed}/blog?before=200&gap=1000&load=later")
    reading = page.locator("#reading")
    page.evaluate("window.scrollTo(0, document.getElementById('reading').offsetTop - 300)")
    assert page.locator(BOX).evaluate("b => b.getBoundingClientRect().bottom") < 0
    where = reading.evaluate("p => p.getBoundingClientRect().top")
    page.evaluate("addLoader()")
    frame = widget_frame(page)
    expect_fitted(page, frame, "intro, above the reader")
    assert page.locator(IFRAME).evaluate("f => f.getBoundingClientRect().bottom") < 0
    assert iframe_height(page) in START_HEIGHTS  # it appeared at its first screen's height
    assert reading.evaluate("p => p.getBoundingClientRect().top") == pytest.approx(where, abs=1)
    assert page.evaluate("document.activeElement === document.body")


def tap_and_settle(page: Page, frame: Frame, button: Locator, focused: str) -> dict[str, Any]:
    """The patient scrolls to `button` and taps it; wait until the widget has said all it says.

    Returns where the page was before the tap and whether the widget's top was in view.
    """
    button.scroll_into_view_if_needed()
    before = page.locator(IFRAME).evaluate(
        "f => ({ scrollY: window.scrollY, top: f.getBoundingClientRect().top })"
    )
    before["top_in_view"] = 0 <= before["top"] <= PHONE["height"]
    marks = page.evaluate("doneMarks")
    click_in_place(button)
    expect(frame.locator(focused)).to_be_focused()
    # The widget posts after it moved the focus; this mark comes after its messages.
    frame.evaluate("parent.postMessage('done', '*')")
    wait_until(lambda: page.evaluate("doneMarks") > marks, "the widget's messages arrived")
    return before


def test_a_new_step_scrolls_the_page_only_when_the_widget_top_is_out_of_view(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    page = new_tab(PHONE)
    page.goto(f"{sites.allowed}/blog?before=100")
    frame = widget_frame(page)
    seen = set()
    steps = [
        ("Start the quiz", None),
        ("Next", CONCERN_LABEL),
        ("Next", AREA_LABELS[1]),
        ("See my result", GOAL_LABEL),
    ]
    for button, answer in steps:
        if answer:
            frame.locator("#quiz label", has_text=answer).click()
        before = tap_and_settle(page, frame, frame.get_by_role("button", name=button), "h1")
        top = page.locator(IFRAME).evaluate("f => f.getBoundingClientRect().top")
        if before["top_in_view"]:
            assert page.evaluate("window.scrollY") == before["scrollY"], f"after {button}"
        else:
            assert abs(top) < 1, f"the widget's top is not back in view after {button}"
        seen.add(before["top_in_view"])
    assert seen == {True, False}, "both cases should occur at phone width"

    # The form opens under the result, its heading focused.
    opener = frame.get_by_role("link", name="Request a call back")
    tap_and_settle(page, frame, opener, "#callback-heading")
    expect(frame.locator("#callback-heading")).to_be_in_viewport()
    # At the bottom of the form, sent with mistakes: the errors come into view.
    send = frame.get_by_role("button", name="Request a call back")
    before = tap_and_settle(page, frame, send, ".error-summary")
    assert not before["top_in_view"]
    expect(frame.locator(".error-summary")).to_be_in_viewport()

    # Sent: the short thank-you replaces the result; the page brings the widget's top back.
    fill_callback(frame)
    before = tap_and_settle(page, frame, send, "h1")
    assert not before["top_in_view"]
    expect(frame.locator("#thanks")).to_be_visible()
    assert abs(page.locator(IFRAME).evaluate("f => f.getBoundingClientRect().top")) < 1
    expect(frame.locator("#step-heading")).to_be_in_viewport()


def test_loader_placed_before_its_container_still_fills_it(
    new_tab: Callable[..., Page], sites: Sites
) -> None:
    page = new_tab(DESKTOP)
    page.goto(f"{sites.allowed}/blog?load=before")
    frame = widget_frame(page)
    expect(frame.get_by_role("button", name="Start the quiz")).to_be_visible()
    expect(page.locator(BOX).get_by_role("link", name="Take the quiz")).to_have_count(0)
    expect(page.locator("iframe")).to_have_count(1)


def test_container_accent_colours_the_widget(new_tab: Callable[..., Page], sites: Sites) -> None:
    page = new_tab(DESKTOP)
    page.goto(f"{sites.allowed}/blog?accent=%231a6b5c")
    frame = widget_frame(page)
    button = frame.get_by_role("button", name="Start the quiz")
    expect(button).to_have_css("background-color", "rgb(26, 107, 92)")
    button.click()
    expect(frame.get_by_role("button", name="Next")).to_have_css(
        "background-color", "rgb(26, 107, 92)"
    )
    # Too light to read on white: ignored, the configured accent stays.
    page.goto(f"{sites.allowed}/blog?accent=%23ffee00")
    frame = widget_frame(page)
    expect(frame.get_by_role("button", name="Start the quiz")).to_have_css(
        "background-color", "rgb(122, 62, 109)"
    )


def test_demo_page_uses_the_loader(new_tab: Callable[..., Page], sites: Sites) -> None:
    page = new_tab(DESKTOP)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{sites.widget.url}/")
    frame = widget_frame(page, "[data-relax-or-fill] iframe")
    expect(frame.get_by_role("button", name="Start the quiz")).to_be_visible()
    wait_until(
        lambda: (
            abs(
                iframe_height(page, "[data-relax-or-fill] iframe")
                - frame.evaluate("document.body.getBoundingClientRect().height")
            )
            < 2
        ),
        "the demo's iframe fits the widget",
    )
    expect(page.get_by_role("textbox", name="The two lines to paste")).to_have_value(
        re.compile(re.escape(f"{sites.widget.url}/embed.js"))
    )
    # With JavaScript, the Copy button is there and copies the snippet.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the two lines to paste").click()
    expect(page.get_by_role("status").first).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.get_by_role("textbox", name="The two lines to paste").input_value()
    assert errors == []  # e.g. no CSP violation for the loader's styles
