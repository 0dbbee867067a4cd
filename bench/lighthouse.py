"""Lighthouse's mobile scores for the demo page (the widget embedded), a question and the result.

Starts the quiz under gunicorn (production settings, as bench/throughput.py does)
and runs Lighthouse (npm `lighthouse`, fetched by npx on first use) with Debian's
Chromium, mobile emulation (its default), performance only. Prints the
performance score, Largest Contentful Paint and Cumulative Layout Shift of each
page. CLS on the demo page is the host page's: it says whether loading the
widget moves the spa's own content (embed.js starts the iframe at the first
screen's height, so it should be 0).

    .venv/bin/python bench/lighthouse.py
    .venv/bin/python bench/lighthouse.py --runs 3    # the median of 3 runs per page

Needs npx (Node's npm) and /usr/bin/chromium (or CHROME_PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import Options, database, server_env  # noqa: E402
from throughput import server  # noqa: E402

PAGES = {
    "demo page": "/",
    "first question": "/quiz/concern",
    "result": "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent",
}
LIGHTHOUSE = os.environ.get("LIGHTHOUSE", "npx --yes lighthouse@12")


def lighthouse(url: str, chrome: str) -> dict[str, float]:
    command = [*LIGHTHOUSE.split(), url, "--only-categories=performance", "--output=json",
               "--quiet", "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]  # fmt: skip
    out = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "CHROME_PATH": chrome}
    )
    if out.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}:\n{out.stderr[-3000:]}")
    report = json.loads(out.stdout)
    audits = report["audits"]
    return {
        "score": report["categories"]["performance"]["score"] * 100,
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    if not Path(chrome).exists() or not shutil.which("npx"):
        print("needs /usr/bin/chromium (apt-get install -y chromium) and npx", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="quiz-lighthouse-")))
        uri = stack.enter_context(database(Options(database="sqlite")))
        port = stack.enter_context(server("wsgi:app", server_env(uri), tmp / "quiz.log", ROOT))
        print("Lighthouse, mobile (default emulation), performance; median of", args.runs, "run(s)")
        print(f"{'page':16} {'score':>6} {'LCP ms':>8} {'CLS':>7}")
        for name, path in PAGES.items():
            runs = [lighthouse(f"http://127.0.0.1:{port}{path}", chrome) for _ in range(args.runs)]
            score = statistics.median(r["score"] for r in runs)
            lcp = statistics.median(r["lcp_ms"] for r in runs)
            cls = statistics.median(r["cls"] for r in runs)
            print(f"{name:16} {score:6.0f} {lcp:8.0f} {cls:7.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
