"""Transfer sizes of the patient path against the budgets (bench/README.md).

Three figures, each request measured raw and gzip-compressed (level 6, what a
typical reverse proxy sends; brotli too when the `brotli` module is installed):

1. First question: GET /quiz/concern as a full page (no HX-Request), and the
   stylesheet it links, reported separately. Budget: ≤ 7 KB compressed HTML.
2. Whole quiz, first visit, JavaScript on: /quiz/ as a full page, every asset it
   links fetched once (empty cache), then each later step as an htmx fragment
   (HX-Request: true). Budget: ≤ 30 KB compressed and ≤ 7 requests to the app.
3. The same quiz with JavaScript off: every step a full page; stylesheets and
   images fetched once (the browser caches them), scripts not at all.

KB here means 1,000 bytes (the stricter reading of the budget). The favicon is
left aside, as the design says. This is a measurement, not a test: it exits 0
even when a figure is over budget, and prints OVER.

By default the app runs in-process (Flask test client, a temporary SQLite file);
`--gunicorn` serves it with gunicorn on 127.0.0.1 and fetches over HTTP, and
`--base-url URL` measures a server that is already running. The app never
compresses, so all three give the same bytes.

    .venv/bin/python bench/sizes.py [--json] [--gunicorn | --base-url URL]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

KB = 1000
GZIP_LEVEL = 6
BROTLI_QUALITY = 5  # a typical on-the-fly setting (proxies use 4 to 6)
FIRST_QUESTION_BUDGET = 7 * KB
WHOLE_QUIZ_BUDGET = 30 * KB
WHOLE_QUIZ_REQUESTS = 7

# The quiz's path: intro, then three questions, then the result.
FIRST_QUESTION = "/quiz/concern"
START = "/quiz/"
LATER_STEPS = (
    "/quiz/concern",
    "/quiz/area?concern=expression",
    "/quiz/goal?concern=expression&area=between_brows&area=cheeks",
    "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent",
)
HX_HEADERS = {"HX-Request": "true"}
# htmx triggers that fire without the user doing anything: a follow-up request
# the browser makes on its own (e.g. a form fetched after the result is shown).
AUTO_TRIGGERS = re.compile(r"\b(load|revealed|intersect)\b")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")

try:  # optional: measured when installed, silently skipped otherwise
    import brotli  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None


# --- fetching -----------------------------------------------------------------


@dataclass
class Fetched:
    status: int
    body: bytes
    content_type: str


Fetch = Callable[[str, dict[str, str]], Fetched]


@contextmanager
def temporary_database() -> Iterator[str]:
    """A throw-away SQLite file with the schema, so no request touches instance/."""
    with tempfile.TemporaryDirectory(prefix="quiz-bench-") as tmp:
        uri = f"sqlite:///{tmp}/bench.db"
        from quiz import create_app
        from quiz.db.engine import db

        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
        with app.app_context():
            db.create_all()
        yield uri


@contextmanager
def in_process() -> Iterator[tuple[str, Fetch]]:
    """The real app in this process, through the Flask test client (no cookies)."""
    from quiz import create_app

    with temporary_database() as uri:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
        client = app.test_client(use_cookies=False)

        def fetch(path: str, headers: dict[str, str]) -> Fetched:
            response = client.get(path, headers=headers)
            body = response.get_data()
            response.close()
            return Fetched(response.status_code, body, response.content_type or "")

        yield "in-process: Flask test client, create_app() with a temporary SQLite file", fetch


def http_fetcher(base_url: str) -> Fetch:
    """GET over HTTP with urllib, asking for the identity encoding (we compress)."""

    def fetch(path: str, headers: dict[str, str]) -> Fetched:
        request = urllib.request.Request(
            urljoin(base_url, path), headers={"Accept-Encoding": "identity", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Fetched(
                    response.status, response.read(), response.headers.get("Content-Type", "")
                )
        except urllib.error.HTTPError as err:
            return Fetched(err.code, err.read(), err.headers.get("Content-Type", ""))
        except urllib.error.URLError as err:
            raise SystemExit(f"cannot fetch {request.full_url}: {err.reason}") from err

    return fetch


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def under_gunicorn() -> Iterator[tuple[str, Fetch]]:
    """The app served by gunicorn (one worker) on a free local port."""
    with temporary_database() as uri:
        port = free_port()
        env = {
            **os.environ,
            "QUIZ_ENV": "development",
            "QUIZ_SQLALCHEMY_DATABASE_URI": uri,
        }
        command = [
            str(VENV_BIN / "gunicorn"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", "1",
            "--log-level", "warning",
            "wsgi:app",
        ]  # fmt: skip
        server = subprocess.Popen(command, cwd=ROOT, env=env)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base_url, server)
            yield (
                f"gunicorn: {base_url} (1 worker, temporary SQLite file), urllib",
                http_fetcher(base_url),
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(urljoin(base_url, START), timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; the figures will show the status
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer on {base_url} within {timeout:.0f} s")


@contextmanager
def running_server(base_url: str) -> Iterator[tuple[str, Fetch]]:
    yield f"HTTP: {base_url} (already running), urllib", http_fetcher(base_url)


# --- measuring ----------------------------------------------------------------


@dataclass
class Measured:
    kind: str
    method: str
    path: str
    status: int
    raw: int
    gzip: int
    brotli: int | None = None


@dataclass
class Scenario:
    key: str
    title: str
    requests: list[Measured] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(m, attr) or 0 for m in self.requests)


def compressed_sizes(body: bytes) -> tuple[int, int | None]:
    gz = len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
    br = len(brotli.compress(body, quality=BROTLI_QUALITY)) if brotli is not None else None
    return gz, br


class LinkParser(HTMLParser):
    """Assets a browser fetches for a page, and htmx requests that fire by themselves."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self.auto_gets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        rel = a.get("rel", "").lower().split()
        if tag == "link" and "stylesheet" in rel and a.get("href"):
            self.stylesheets.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        hx_get = a.get("hx-get") or a.get("data-hx-get")
        trigger = a.get("hx-trigger") or a.get("data-hx-trigger") or ""
        if hx_get and AUTO_TRIGGERS.search(trigger):
            self.auto_gets.append(hx_get)


def parse_links(body: bytes) -> LinkParser:
    parser = LinkParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    return parser


class Browser:
    """One visit: fetches through `fetch`, keeps an asset cache, records every request."""

    def __init__(self, fetch: Fetch, scenario: Scenario, *, scripts: bool) -> None:
        self.fetch = fetch
        self.scenario = scenario
        self.scripts = scripts
        self.cache: set[str] = set()

    def get(self, kind: str, path: str, headers: dict[str, str] | None = None) -> Fetched:
        fetched = self.fetch(path, headers or {})
        gz, br = compressed_sizes(fetched.body)
        self.scenario.requests.append(
            Measured(kind, "GET", path, fetched.status, len(fetched.body), gz, br)
        )
        if fetched.status != 200:
            self.scenario.notes.append(f"! {path} answered {fetched.status}, not 200")
        return fetched

    def page(self, path: str, *, fragment: bool = False) -> Fetched:
        fetched = self.get("fragment" if fragment else "page", path, HX_HEADERS if fragment else {})
        links = parse_links(fetched.body)
        for href in links.stylesheets:
            self.asset("stylesheet", path, href)
        for src in links.images:
            self.asset("image", path, src)
        if self.scripts:
            for src in links.scripts:
                self.asset("script", path, src)
            for url in links.auto_gets:
                self.get("fragment (auto)", own_path(path, url) or url, HX_HEADERS)
        return fetched

    def asset(self, kind: str, page: str, href: str) -> None:
        path = own_path(page, href)
        if path is None:
            self.scenario.notes.append(f"{kind} {href} is not served by the app; not counted")
            return
        if path in self.cache:
            return
        self.cache.add(path)
        fetched = self.get(kind, path)
        if kind == "stylesheet":
            text = fetched.body.decode("utf-8", errors="replace")
            for match in CSS_URL.finditer(text):
                ref = match.group(1) or match.group(2)
                if not ref.startswith("data:"):
                    self.asset("asset (from css)", path, ref)


def own_path(page: str, ref: str) -> str | None:
    """`ref` as a path on the app, or None when it points at another host."""
    base = "http://app.invalid"
    url = urlsplit(urljoin(base + page, ref))
    if f"{url.scheme}://{url.netloc}" != base:
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def first_question(fetch: Fetch) -> Scenario:
    scenario = Scenario("first_question", "First question: GET /quiz/concern, full page")
    browser = Browser(fetch, scenario, scripts=False)
    browser.page(FIRST_QUESTION)
    scenario.notes.append("scripts are not counted: the question must be readable without them")
    return scenario


def whole_quiz_js(fetch: Fetch) -> Scenario:
    scenario = Scenario(
        "whole_quiz_js",
        "Whole quiz, first visit, JavaScript on: full page, its assets once, htmx fragments",
    )
    browser = Browser(fetch, scenario, scripts=True)
    browser.page(START)
    for path in LATER_STEPS:
        browser.page(path, fragment=True)
    return scenario


def whole_quiz_no_js(fetch: Fetch) -> Scenario:
    scenario = Scenario(
        "whole_quiz_no_js",
        "Whole quiz, first visit, JavaScript off: every step a full page, assets cached",
    )
    browser = Browser(fetch, scenario, scripts=False)
    browser.page(START)
    for path in LATER_STEPS:
        browser.page(path)
    scenario.notes.append("scripts are not fetched: the browser has JavaScript off")
    return scenario


# --- budgets and output -------------------------------------------------------


@dataclass
class Check:
    what: str
    value: int
    limit: int
    unit: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.value <= self.limit else "OVER"


def checks(scenario: Scenario) -> list[Check]:
    if scenario.key == "first_question":
        html = scenario.requests[0]
        return [Check("HTML response, gzip", html.gzip, FIRST_QUESTION_BUDGET, "B")]
    return [
        Check("requests to the app", len(scenario.requests), WHOLE_QUIZ_REQUESTS, ""),
        Check("total, gzip", scenario.total("gzip"), WHOLE_QUIZ_BUDGET, "B"),
    ]


def fmt(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def print_report(mode: str, scenarios: list[Scenario]) -> None:
    with_br = brotli is not None
    compression = f"gzip level {GZIP_LEVEL}" + (
        f", brotli quality {BROTLI_QUALITY}" if with_br else ""
    )
    print("Relax or Fill: transfer sizes against the budgets")
    print(f"app:   {mode}")
    print(f"sizes: response bodies, raw and {compression}; 1 KB = {KB:,} B; favicon aside")
    for number, scenario in enumerate(scenarios, 1):
        print()
        print(f"{number}. {scenario.title}")
        w = max(len(m.path) for m in scenario.requests)
        header = f"   {'METHOD':<6} {'PATH':<{w}} {'STATUS':>6} {'RAW B':>8} {'GZIP B':>8}"
        print(header + (f" {'BR B':>8}" if with_br else "") + "  KIND")
        for m in scenario.requests:
            line = f"   {m.method:<6} {m.path:<{w}} {m.status:>6} {m.raw:>8,} {m.gzip:>8,}"
            print(line + (f" {fmt(m.brotli):>8}" if with_br else "") + f"  {m.kind}")
        total = (
            f"   {'':<6} {'total':<{w}} {'':>6} {scenario.total('raw'):>8,} "
            f"{scenario.total('gzip'):>8,}"
        )
        print(total + (f" {scenario.total('brotli'):>8,}" if with_br else ""))
        if scenario.key == "first_question":
            for m in scenario.requests[1:]:
                print(
                    f"   {m.kind} {m.path} (reported separately): {m.raw:,} B raw, "
                    f"{m.gzip:,} B gzip"
                )
        for check in checks(scenario):
            value = f"{check.value:,}{' ' + check.unit if check.unit else ''}"
            limit = f"{check.limit:,}{' ' + check.unit if check.unit else ''}"
            print(f"   {check.what}: {value}  (budget ≤ {limit})  {check.verdict}")
        for note in scenario.notes:
            print(f"   note: {note}")
    over = [f"{s.key}: {c.what}" for s in scenarios for c in checks(s) if c.verdict == "OVER"]
    print()
    if over:
        print("OVER BUDGET: " + "; ".join(over))
    else:
        print("All figures within budget.")


def report_json(mode: str, scenarios: list[Scenario]) -> dict[str, Any]:
    return {
        "app": mode,
        "kb_bytes": KB,
        "gzip_level": GZIP_LEVEL,
        "brotli_quality": BROTLI_QUALITY if brotli is not None else None,
        "scenarios": {
            s.key: {
                "title": s.title,
                "requests": [asdict(m) for m in s.requests],
                "request_count": len(s.requests),
                "total_raw": s.total("raw"),
                "total_gzip": s.total("gzip"),
                "total_brotli": s.total("brotli") if brotli is not None else None,
                "checks": [{**asdict(c), "verdict": c.verdict} for c in checks(s)],
                "notes": s.notes,
            }
            for s in scenarios
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--gunicorn", action="store_true", help="serve the app with gunicorn and fetch over HTTP"
    )
    where.add_argument("--base-url", help="measure a server that is already running")
    args = parser.parse_args(argv)

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if args.base_url:
        runner = running_server(args.base_url)
    elif args.gunicorn:
        runner = under_gunicorn()
    else:
        runner = in_process()
    with runner as (mode, fetch):
        scenarios = [first_question(fetch), whole_quiz_js(fetch), whole_quiz_no_js(fetch)]

    if args.json:
        print(json.dumps(report_json(mode, scenarios), indent=2))
    else:
        print_report(mode, scenarios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
