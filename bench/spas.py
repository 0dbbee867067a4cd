"""One install, many spas, on PostgreSQL: 500 spas x 1,000 leads (issue 25's figures).

Builds a fresh PostgreSQL database (the migrations' schema), adds N spas
(default 500) each with its own content version (a copy of the default
spa's, as `flask spas create` makes) and M leads each (default 1,000; the
default spa too), then connects the app as an ordinary role (no superuser,
no BYPASSRLS), so row-level security is on as in production, and measures:

- one spa's lead list (`GET /staff/` as that spa's admin, in process through
  the Flask test client): the first page, a search, a lead page; median and
  p95 of --runs requests, in milliseconds (budget: p95 <= 50 ms);
- patient steps on gunicorn (`gunicorn.conf.py`, 2 sync workers, production
  settings) with every spa live: `wrk -t2 -c16` on the default spa's
  question page again and again ("one spa"), then a wrk Lua script that
  sends each request to the next spa's page (/s/<slug>/quiz/concern and the
  result, all N spas in turn: "N spas"), after one warm-up pass that has
  every worker load every spa's content; the ratio asked is >= 0.8;
- the workers' resident memory (VmRSS) after the N-spa rounds: the render
  cache in it is bounded by RENDER_CACHE_BYTES (32 MB a worker by default)
  and RENDER_CACHE_ENTRIES, and spas with the same content share one parsed
  copy of it.

    .venv/bin/python bench/spas.py                       # 500 spas x 1,000 leads
    .venv/bin/python bench/spas.py --spas 50 --leads 200 --seconds 3

Needs PostgreSQL (QUIZ_TEST_POSTGRES_URL or the local server) and wrk.
Prints figures and exits 0; 2 when it could not run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import DEFAULT_POSTGRES, Options, database, gunicorn  # noqa: E402

RESULT = "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent"


def fill(uri: str, spas: int, leads: int) -> None:
    """Spas with their content and leads, written in bulk as the database's owner."""
    import psycopg

    from quiz import create_app
    from quiz.db.engine import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})  # stores version 1
    with app.app_context():
        db.engine.dispose()
    with psycopg.connect(uri.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO spa (slug, name, origins, settings, copied_from, created_at) "
            "SELECT 'spa-' || lpad(n::text, 4, '0'), 'Spa ' || n, "
            "'[\"https://spa' || n || '.example\"]', '{}', '', now() "
            "FROM generate_series(1, %s) AS n",
            (spas,),
        )
        conn.execute(
            "INSERT INTO content_version (spa_id, id, published_at, author, note, based_on, "
            "restored_from, content_hash, document, medical_hash, needs_approval) "
            "SELECT s.id, 1, now(), 'file', 'copied from the default spa', NULL, NULL, "
            "d.content_hash, d.document, d.medical_hash, false "
            "FROM spa s CROSS JOIN content_version d WHERE d.spa_id = 1 AND d.id = 1 AND s.id <> 1"
        )
        conn.execute(
            "INSERT INTO lead (spa_id, created_at, updated_at, status, name, phone, email, "
            "best_time, concern, areas, goal, outcome, consent_at, consent_text_version, "
            "consent_text_hash, consent_text, consent_ip, consent_user_agent, consent_origin, "
            "source_url, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, "
            "notes, locale, sms_consent, sms_consent_text, sms_consent_text_hash, "
            "sms_consent_text_version, form_nonce, first_contacted_at) "
            "SELECT s.id, now() - g * interval '7 hours', now(), "
            "(ARRAY['new','contacted','booked','closed'])[1 + g %% 4], "
            "'Patient ' || s.id || '-' || g, '+1301810' || lpad((g %% 10000)::text, 4, '0'), "
            "'p' || g || '@example.com', 'morning', 'expression', 'between_brows', 'prevent', "
            "'relax', now(), 'v1', repeat('0', 64), 'I agree.', '', '', '', '', '', '', '', '', "
            "'', '', '', 'en', false, '', '', '', md5(s.id || '-' || g), "
            # contacted and booked leads were called (g minutes after, up to 17 h)
            "CASE WHEN g %% 4 IN (1, 2) THEN now() - g * interval '7 hours' "
            "+ (g %% 1000) * interval '1 minute' END "
            "FROM spa s CROSS JOIN generate_series(1, %s) AS g",
            (leads,),
        )
        conn.execute("VACUUM ANALYZE")  # what autovacuum keeps up on a running install


def app_role(uri: str) -> str:
    """An ordinary role with the app's grants; the database URL that connects as it."""
    import psycopg
    from sqlalchemy import make_url

    role = f"quiz_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(uri.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    return make_url(uri).set(username=role).render_as_string(hide_password=False)


def drop_role(admin_url: str, role_uri: str) -> None:
    import psycopg
    from sqlalchemy import make_url

    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {make_url(role_uri).username}")


def timed(client, path: str, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and p95 in ms of GET path (each must answer 200)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def lead_list(role_uri: str, runs: int, spa_number: int) -> list[str]:
    from quiz import create_app
    from quiz.db.engine import db
    from tests.support.staff import PASSWORD, STAFF_CONFIG, create_staff, signed_in_client

    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": role_uri, **STAFF_CONFIG,
              "SECRET_KEY": "bench-secret-key-0123456789-0123456789"}  # fmt: skip
    app = create_app(config)
    slug = f"spa-{spa_number:04d}"
    create_staff(app, f"admin@{slug}.example", PASSWORD, "admin", "--spa", slug)
    client = signed_in_client(app, f"admin@{slug}.example", PASSWORD)
    page = client.get("/staff/").get_data(as_text=True)
    lead_id = re.search(r'href="/staff/leads/(\d+)"', page).group(1)  # type: ignore[union-attr]
    names = set(re.findall(r'<a class="name" href="/staff/leads/\d+">Patient (\d+)-', page))
    lines = [f"one spa's staff ({slug}) saw leads of spa ids {sorted(names)} only"]
    for label, path in (
        ("lead list, first page", "/staff/"),
        ("lead list, search", "/staff/?q=Patient"),
        ("lead list, status filter", "/staff/?status=booked"),
        ("a lead's page", f"/staff/leads/{lead_id}"),
    ):
        median, p95 = timed(client, path, runs)
        lines.append(f"{label:<28} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    # The agency's cross-spa report: every spa's leads, conversion and speed to lead.
    create_staff(app, "ops@agency.example", PASSWORD, "agency")
    agency = signed_in_client(app, "ops@agency.example", PASSWORD)
    report = agency.get("/staff/agency").get_data(as_text=True)
    rows = report.count('<tr id="spa-')
    median, p95 = timed(agency, "/staff/agency", max(3, runs // 20))
    lines.append(f"{'agency report (' + str(rows) + ' spas)':<28} median {median:6.1f} ms   "
                 f"p95 {p95:6.1f} ms")  # fmt: skip
    with app.app_context():
        db.engine.dispose()
    return lines


def wrk(port: int, path: str, seconds: float, script: Path | None = None) -> float:
    command = ["wrk", "-t2", "-c16", f"-d{seconds:g}s", "-H", "Accept-Language: en-US,en;q=0.9",
               f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"{path} answered errors under load:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def rotation(tmp: Path, spas: int, page: str) -> Path:
    """A wrk script: each request the same page of the next spa, all spas in turn."""
    script = tmp / f"spas-{page.strip('/').replace('/', '-')[:20]}.lua"
    script.write_text(
        f"local spas = {spas}\n"
        "local n = math.random(0, spas - 1)\n"
        "request = function()\n"
        "  n = n + 1\n"
        f'  return wrk.format("GET", string.format("/s/spa-%04d{page}", (n % spas) + 1))\n'
        "end\n"
    )
    return script


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def patient_steps(server, tmp: Path, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    port = server.port
    pages = {"question": "/quiz/concern", "result": RESULT}
    for page in pages.values():
        wrk(port, page, 2)
    alone = rss_mb(server.worker_pids())
    scripts = {name: rotation(tmp, args.spas, page) for name, page in pages.items()}
    for name, script in scripts.items():  # every worker loads every spa, once
        wrk(port, pages[name], max(3, round(args.spas / 150)), script)
    print(f"wrk -t2 -c16 -d{args.seconds:g}s; gunicorn 2 sync workers; medians of "
          f"{args.rounds} rounds, alternating")  # fmt: skip
    for name, page in pages.items():
        one, many = [], []
        for _ in range(args.rounds):
            one.append(wrk(port, page, args.seconds))
            many.append(wrk(port, page, args.seconds, scripts[name]))
        single, spread = statistics.median(one), statistics.median(many)
        print(f"{name:<9} one spa {single:7.0f} req/s   {args.spas} spas "
              f"{spread:7.0f} req/s   ratio {spread / single:.2f}x")  # fmt: skip
    every = rss_mb(server.worker_pids())
    print(
        f"workers' resident memory (both): {alone:.0f} MB serving one spa, {every:.0f} MB "
        f"after serving all {args.spas} (render cache bound: RENDER_CACHE_BYTES a worker)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spas", type=int, default=500)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    role_uri = ""
    try:
        with database(Options(database="postgresql", postgres_url=args.postgres)) as uri:
            fill(uri, args.spas, args.leads)
            role_uri = app_role(uri)
            print(f"{args.spas} spas x {args.leads} leads (+ the default spa's), PostgreSQL, "
                  f"built in {time.monotonic() - started:.0f} s; the app connects as an ordinary "
                  "role (row-level security on)")  # fmt: skip
            for line in lead_list(role_uri, args.runs, spa_number=args.spas // 2 or 1):
                print(line)
            with tempfile.TemporaryDirectory() as tmp, gunicorn(role_uri, 2, Path(tmp)) as server:
                patient_steps(server, Path(tmp), args)
    finally:
        if role_uri:  # after its database is gone: nothing depends on it any more
            drop_role(args.postgres, role_uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
