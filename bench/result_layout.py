"""How long the result page is on a phone, and where its first action sits.

Serves the app on a loopback port (a temporary SQLite file), opens each result
in Debian's Chromium at 375 × 667 px (an iPhone SE's viewport), and prints the
page's height, the top of its first action (the first button-styled link or
button in the result) and the result's transfer size (gzip, level 6).

    .venv/bin/python bench/result_layout.py [--all]

With --all it also walks all 1,524 answer combinations and prints the largest
height and the lowest first action among them. The content is signed by a
clinician first, so each page carries the "Reviewed by …" line a live spa's
pages carry (the longest case).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import sys
import tempfile
import threading
from itertools import combinations
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from flask import Flask  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.content import approval as content_approval  # noqa: E402
from quiz.content.live import live_content  # noqa: E402
from quiz.db.engine import write_transaction  # noqa: E402
from quiz.db.models import StaffUser  # noqa: E402
from tests.conftest import base_config  # noqa: E402

AREAS = ("between_brows", "forehead", "crows_feet", "under_nose", "around_mouth", "marionette",
         "cheeks")  # fmt: skip

CASES = {
    "both (four areas, two of each kind)": (
        "concern=etched&area=between_brows&area=forehead&area=around_mouth&area=marionette"
        "&goal=both"
    ),
    "both (expression, between the brows and cheeks, prevent)": (
        "concern=expression&area=between_brows&area=cheeks&goal=prevent"
    ),
    "fill (volume, cheeks, repair)": "concern=volume&area=cheeks&goal=repair",
    "relax (expression, forehead, prevent)": "concern=expression&area=forehead&goal=prevent",
}
VIEWPORT = {"width": 375, "height": 667}
# The first thing a patient can act on; the order of the DOM is the order on screen.
FIRST_ACTION = "#result .button"


def every_query() -> list[str]:
    queries = []
    for concern in ("expression", "etched", "fine_lines", "volume"):
        for n in range(1, len(AREAS) + 1):
            for areas in combinations(AREAS, n):
                for goal in ("prevent", "repair", "both"):
                    pairs = [("concern", concern), *(("area", a) for a in areas), ("goal", goal)]
                    queries.append(urlencode(pairs))
    return queries


def measure(page: Page, url: str) -> tuple[int, float]:
    """The page's height and its first action's top, in CSS pixels."""
    page.goto(url)
    height = page.evaluate("document.documentElement.scrollHeight")
    top = page.locator(FIRST_ACTION).first.evaluate(
        "e => e.getBoundingClientRect().top + window.scrollY"
    )
    return height, top


def sign_the_content(app: Flask) -> None:
    """A clinical account approves version 1 (the files), as a spa does before going live."""
    live_content(app).check()  # stores version 1
    with write_transaction() as tx:
        tx.add(
            StaffUser(
                email="dr.ruiz@spa.example",
                password_hash="-",  # never signs in here
                role="clinical",
                name="Dr. Ana María Ruiz-Castellanos",
                credential="MD, FAAD, medical director",
            )
        )
    content_approval.approve(1, "dr.ruiz@spa.example")
    live_content(app).check()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also walk every combination")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(base_config(f"sqlite:///{tmp}/quiz.db"))
        with app.app_context():
            flask_migrate.upgrade()
            sign_the_content(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        client = app.test_client(use_cookies=False)
        print(f"viewport {VIEWPORT['width']} x {VIEWPORT['height']} px, Chromium, JavaScript on,")
        print("content approved by a clinician (the reviewed line shown)")
        print(f"{'case':58} {'height':>7} {'1st action':>10} {'gzip':>7}")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--disable-gpu"]
            )
            page = browser.new_page(viewport=VIEWPORT)
            for name, query in CASES.items():
                url = f"/quiz/result?{query}"
                height, top = measure(page, base + url)
                body = client.get(url).get_data()
                size = len(gzip.compress(body, compresslevel=6))
                print(f"{name:58} {height:>5} px {top:>7.0f} px {size:>5} B")
            if args.all:
                tallest, lowest = (0, ""), (0.0, "")
                for query in every_query():
                    height, top = measure(page, f"{base}/quiz/result?{query}")
                    tallest = max(tallest, (height, query))
                    lowest = max(lowest, (top, query))
                print(f"all 1,524 combinations: tallest {tallest[0]} px ({tallest[1]})")
                print(f"  lowest first action {lowest[0]:.0f} px ({lowest[1]})")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
