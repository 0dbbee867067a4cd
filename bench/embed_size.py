"""Size of the loader a spa's page downloads: GET /embed.js, raw and compressed.

The issue's aim is under 2 KB compressed. The loader is the only thing the
spa's own page loads from us (the iframe's requests are counted by sizes.py).
Measured in-process, as served (comments and indentation already stripped by
quiz/embed.py), gzip level 6 like sizes.py, brotli quality 5 when the `brotli`
module is installed. KB = 1,000 B. A measurement, not a test: exits 0 and
prints OVER when a figure is over.

    .venv/bin/python bench/embed_size.py [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 2000
GZIP_LEVEL = 6
BROTLI_QUALITY = 5

try:  # optional, as in sizes.py
    import brotli  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None


def measure() -> dict[str, int | None]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from quiz import create_app

    with tempfile.TemporaryDirectory(prefix="quiz-bench-") as tmp:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db"})
        response = app.test_client(use_cookies=False).get("/embed.js")
        assert response.status_code == 200, response.status
        body = response.get_data()
    source = (ROOT / "quiz" / "static" / "embed.js").read_bytes()
    return {
        "source_raw": len(source),
        "served_raw": len(body),
        "served_gzip": len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)),
        "served_brotli": len(brotli.compress(body, quality=BROTLI_QUALITY)) if brotli else None,
        "budget_gzip": BUDGET,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure()
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    verdict = "PASS" if figures["served_gzip"] <= BUDGET else "OVER"
    print("Relax or Fill: the loader, GET /embed.js (in-process, as served)")
    print(f"   source quiz/static/embed.js: {figures['source_raw']:,} B")
    print(f"   served raw:                  {figures['served_raw']:,} B")
    print(f"   served gzip (level {GZIP_LEVEL}):      {figures['served_gzip']:,} B")
    if figures["served_brotli"] is not None:
        print(f"   served brotli (quality {BROTLI_QUALITY}):  {figures['served_brotli']:,} B")
    print(f"   gzip {figures['served_gzip']:,} B  (aim < {BUDGET:,} B)  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
