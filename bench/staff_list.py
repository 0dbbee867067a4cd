"""Staff console timings on 100,000 leads: the lead list, the CSV export, its memory.

Builds a temporary SQLite database (the migrations' schema) with N leads
(default 100,000; spread over the last 400 days, a realistic mix of statuses
and outcomes), signs in a staff account and measures, in-process through the
Flask test client:

- the lead list (`GET /staff/`): first page, a status + outcome filter, a
  search by name and by phone, and a deep page; median and worst of repeated
  runs, in milliseconds;
- the CSV export of every lead (`POST /staff/export.csv`), streamed and read to
  the end, and the Excel export (`POST /staff/export.xlsx`): wall time;
- `flask leads export -o FILE` in a child process: wall time;
- peak memory at N/10 and at N leads, to show it does not grow with the
  number of leads: the Python allocations during the staff CSV export
  (tracemalloc), and the peak resident memory of `flask leads export` as a
  child process, CSV and Excel (ru_maxrss, which includes the interpreter).

This is a measurement, not a test; it prints figures and exits 0.

    .venv/bin/python bench/staff_list.py [--leads 100000] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import flask_migrate  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.db.engine import db  # noqa: E402
from quiz.db.models import Lead  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghij"
EMAIL, PASSWORD = "bench@alazzo.example", "bench lantern oboe quarry"
FIRST = ["Maria", "Jane", "Ana", "Chloe", "Priya", "Sofia", "Emma", "Grace", "Leila", "Rosa"]
LAST = ["Lopez", "Smith", "Nguyen", "Patel", "Kim", "Garcia", "Brown", "Rossi", "Khan", "Silva"]
STATUSES = ["new"] * 3 + ["contacted"] * 3 + ["booked", "closed", "do_not_contact"]
OUTCOMES = ["relax", "fill", "both"]


def fill(app: Any, count: int) -> None:
    """Insert `count` leads in large batches (a bench fixture, not the quiz's write path)."""
    rng = random.Random(4)
    now = datetime.now(UTC)
    batch: list[dict[str, Any]] = []
    with app.app_context():
        for i in range(count):
            created = now - timedelta(seconds=rng.randrange(400 * 86400))
            first, last = rng.choice(FIRST), rng.choice(LAST)
            batch.append(
                dict(
                    created_at=created,
                    updated_at=created,
                    status=rng.choice(STATUSES),
                    name=f"{first} {last} {i}",
                    phone=f"+1301555{i % 10000:04d}",
                    email=f"{first.lower()}.{i}@example.com",
                    best_time="morning",
                    concern="expression",
                    areas="between_brows;cheeks",
                    goal="prevent",
                    outcome=rng.choice(OUTCOMES),
                    consent_at=created,
                    consent_text_version="2026-11-25",
                    consent_text_hash="0" * 64,
                    consent_text="I agree that Alazzo Med Spa may call me about my request.",
                    consent_ip="203.0.113.7",
                    consent_user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)",
                    consent_origin="https://alazzo.example",
                    source_url="https://alazzo.example/blog/botox-vs-fillers",
                    referrer="",
                    utm_source="newsletter",
                    utm_medium="email",
                    utm_campaign="spring",
                    utm_term="",
                    utm_content="",
                    notes="",
                    form_nonce=uuid.uuid4().hex,
                )
            )
            if len(batch) == 5000:
                db.session.execute(insert(Lead), batch)
                db.session.commit()
                batch.clear()
        if batch:
            db.session.execute(insert(Lead), batch)
            db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def signed_in(app: Any) -> tuple[Any, str]:
    """A client signed in as an admin (exports are for admins), and its CSRF token."""
    args = ["staff", "create", EMAIL, "--role", "admin"]
    result = app.test_cli_runner().invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/staff/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    page = client.get("/staff/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client, token


def timed_get(client: Any, url: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), max(times)


def export(
    client: Any, url: str, token: str, *, trace: bool = False
) -> tuple[float, int, int, float]:
    """Read an export to the end: (seconds, rows, bytes, peak MiB of Python allocations).

    With `trace`, tracemalloc records the peak of Python allocations during the
    export (it slows the export down about threefold, so timings come from a
    run without it).
    """
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    response = client.post(url, data={"csrf_token": token}, buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - start
    peak = 0.0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, lines - 1, size, peak


def cli_export(uri: str, target: Path, fmt: str = "csv", *extra: str) -> tuple[float, float]:
    """`flask leads export --format FMT -o FILE` in a child: (seconds, its peak RSS in MiB)."""
    env = {**os.environ, "QUIZ_SECRET_KEY": SECRET, "QUIZ_SQLALCHEMY_DATABASE_URI": uri,
           "QUIZ_TRUSTED_HOSTS": '["127.0.0.1"]'}  # fmt: skip
    code = (
        "import resource, runpy, sys; sys.argv = ['flask'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('flask', run_name='__main__')\n"
        "finally:\n    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    args = ["--app", "wsgi", "leads", "export", "--format", fmt, "-o", str(target), *extra]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def memory_figures(client: Any, token: str, uri: str, tmp: str) -> dict[str, float]:
    """Peak memory of the exports at the current number of leads."""
    _, _, _, traced = export(client, "/staff/export.csv", token, trace=True)
    _, csv_rss = cli_export(uri, Path(tmp) / "all.csv")
    _, xlsx_rss = cli_export(uri, Path(tmp) / "all.xlsx", "xlsx")
    _, none_rss = cli_export(uri, Path(tmp) / "none.csv", "csv", "--since", "2999-01-01")
    return {"traced": traced, "csv_rss": csv_rss, "xlsx_rss": xlsx_rss, "none_rss": none_rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/bench.db"
        app = create_app(
            {
                "SECRET_KEY": SECRET,
                "SQLALCHEMY_DATABASE_URI": uri,
                "ENV": "development",
                "RATELIMIT_ENABLED": False,
                "STAFF_PASSWORD_METHOD": "scrypt:16384:8:1",
                "FUNNEL_FLUSH_SECONDS": 0,
            }
        )
        with app.app_context():
            flask_migrate.upgrade()
        client, token = signed_in(app)

        small = max(args.leads // 10, 1)
        fill(app, small)
        at_small = memory_figures(client, token, uri, tmp)
        start = time.perf_counter()
        fill(app, args.leads - small)
        print(
            f"SQLite, in-process (Flask test client); {args.leads:,} leads "
            f"(built in {time.perf_counter() - start:.1f} s), Python {sys.version.split()[0]}\n"
        )

        print(f"lead list, {args.runs} runs each: median / worst ms")
        for label, url in [
            ("first page (50 newest)", "/staff/"),
            ("status=new & outcome=fill", "/staff/?status=new&outcome=fill"),
            ("search a name", "/staff/?q=Nguyen+4242"),
            ("search a phone as typed", "/staff/?q=(301)+555-0123"),
            ("date range (one month)", "/staff/?since=2026-01-01&until=2026-01-31"),
            ("page 1,000", "/staff/?page=1000"),
        ]:
            median, worst = timed_get(client, url, args.runs)
            print(f"  {label:<28} {median:8.1f} / {worst:8.1f}")

        secs, rows, size, _ = export(client, "/staff/export.csv", token)
        print(
            f"\nCSV export (POST /staff/export.csv, streamed): {rows:,} rows, "
            f"{size / 2**20:.1f} MiB"
        )
        print(f"  {secs:.2f} s ({rows / secs:,.0f} rows/s)")
        x_secs, _, x_size, _ = export(client, "/staff/export.xlsx", token)
        print(
            f"Excel export (POST /staff/export.xlsx): {x_secs:.2f} s, {x_size / 2**20:.1f} MiB file"
        )
        c_secs, _ = cli_export(uri, Path(tmp) / "all.csv")
        print(f"CLI CSV export (flask leads export -o FILE, whole process): {c_secs:.2f} s")

        at_large = memory_figures(client, token, uri, tmp)
        print(f"\npeak memory           {small:>10,} leads {args.leads:>10,} leads")
        for key, label in [
            ("traced", "staff CSV, Python allocations (tracemalloc)"),
            ("csv_rss", "CLI CSV export, process peak RSS"),
            ("xlsx_rss", "CLI Excel export, process peak RSS"),
            ("none_rss", "CLI export of 0 rows (the app alone), RSS"),
        ]:
            print(f"  {label:<45} {at_small[key]:7.1f} MiB {at_large[key]:7.1f} MiB")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
