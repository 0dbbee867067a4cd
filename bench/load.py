"""Load and fault harness: simulated patients against gunicorn, on SQLite or PostgreSQL.

Starts the app under gunicorn (gunicorn.conf.py, N workers) on a loopback port
with a fresh, migrated database, then runs `--concurrency` simulated patients
for at most `--duration` seconds (or until `--callbacks` requests were sent).
Each patient walks the quiz (intro, three questions, result), opens the
callback form from the result and sends it, like a browser with JavaScript off;
with `--mode callback` it fetches only the form (for its token) and posts.

Faults: `--kill-after N` sends SIGKILL to one gunicorn worker once N callbacks
were accepted. A patient whose request dies with the worker sends the same
form again (at most 3 times), as a person pressing the button again would.

It prints requests per second, p50/p99 latency per kind of request, callbacks
accepted against leads stored, and the checks: no accepted lead missing, no
stored lead that was never accepted (after resends), no duplicate, every lead
with one outbox row per channel, no "database is locked" in gunicorn's log.
Notifications are configured (to closed loopback ports) so every lead write
includes its outbox rows, as in production; nothing is delivered.

    .venv/bin/python bench/load.py --database sqlite --workers 4 --concurrency 32 --duration 20
    .venv/bin/python bench/load.py --database postgresql --callbacks 500 --kill-after 150

Exit status: 0 when every check passed, 1 when one failed, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHANNELS = 2  # email and webhook are both configured below
REQUEST_TIMEOUT = 30.0
RESENDS = 3
START_TIMEOUT = 60.0

# A spread of answers, so the result pages and outcomes vary like real traffic.
ANSWERS = [
    ("expression", ("between_brows", "forehead"), "prevent"),
    ("etched", ("under_nose", "around_mouth"), "repair"),
    ("fine_lines", ("crows_feet", "cheeks"), "both"),
    ("volume", ("cheeks",), "repair"),
    ("expression", ("between_brows", "marionette"), "both"),
]


@dataclass
class Options:
    database: str = "sqlite"
    workers: int = 4
    concurrency: int = 32
    duration: float = 20.0
    callbacks: int | None = None
    mode: str = "quiz"
    kill_after: int | None = None
    postgres_url: str = DEFAULT_POSTGRES
    database_uri: str | None = None  # an existing, migrated database (tests)


@dataclass
class Result:
    database: str
    workers: int
    concurrency: int
    mode: str
    seconds: float
    requests: int
    requests_per_second: float
    latency_ms: dict[str, dict[str, float]]
    statuses: dict[str, int]
    callbacks_sent: int
    callbacks_accepted: int
    callbacks_unavailable: int  # the calm 503 page: the patient is asked to resend or call
    callbacks_unacknowledged: int  # no answer even after resending
    resends: int
    leads_stored: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    partial: list[int] = field(default_factory=list)
    worker_killed: int | None = None
    database_locked: int = 0
    tracebacks: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.unexpected or self.duplicates or self.partial
            or self.database_locked or self.tracebacks or self.callbacks_accepted == 0
        )  # fmt: skip


# --- the server -----------------------------------------------------------------


@contextmanager
def database(options: Options) -> Iterator[str]:
    """A migrated database for one run: a temporary SQLite file or PostgreSQL database."""
    if options.database_uri:
        yield options.database_uri
        return
    if options.database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="quiz-load-") as tmp:
            uri = f"sqlite:///{tmp}/quiz.db"
            _migrate(uri)
            yield uri
        return
    import psycopg

    admin_dsn = options.postgres_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"quiz_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            uri = options.postgres_url.rsplit("/", 1)[0] + f"/{name}"
            _migrate(uri)
            yield uri
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(uri: str) -> None:
    import flask_migrate

    from quiz import create_app
    from quiz.db.engine import db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def server_env(uri: str, limits: str | None = None, secret: str | None = None) -> dict[str, str]:
    """The app's settings for the run: production mode, load-test switches, notifications on.

    `limits`: a Redis URL to keep the rate limits on, counted there (the callback
    limit raised out of the way: every patient here is 127.0.0.1); without it
    they are off.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUIZ_", "GUNICORN_"))}
    closed = closed_port()
    env.update(
        QUIZ_ENV="production",
        # Nodes of one install share it (bench/nodes.py); a lone server gets its own.
        QUIZ_SECRET_KEY=secret or secrets.token_urlsafe(32),
        QUIZ_TRUSTED_HOSTS='["127.0.0.1"]',
        QUIZ_SQLALCHEMY_DATABASE_URI=uri,
        QUIZ_MIN_FILL_SECONDS="0",
        QUIZ_RATELIMIT_ENABLED="false",
        QUIZ_NOTIFY_EMAIL_TO='["desk@spa.example"]',
        QUIZ_NOTIFY_EMAIL_FROM="quiz@spa.example",
        QUIZ_SMTP_HOST="127.0.0.1",
        QUIZ_SMTP_PORT=str(closed),
        QUIZ_SMTP_SECURITY="none",
        QUIZ_WEBHOOK_URL=f"http://127.0.0.1:{closed}/hook",
        QUIZ_WEBHOOK_SECRET=secrets.token_urlsafe(24),
        QUIZ_STAFF_BASE_URL="https://quiz.spa.example",
        GUNICORN_ACCESS_LOG="",
    )
    if limits:
        env.update(
            QUIZ_RATELIMIT_ENABLED="true",
            QUIZ_RATELIMIT_STORAGE_URI=limits,
            QUIZ_RATELIMIT_KEY_PREFIX=f"bench-{uuid.uuid4().hex}",
            QUIZ_CALLBACK_RATE_LIMIT="10000000 per minute",
        )
    return env


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def gunicorn(
    uri: str,
    workers: int,
    log_dir: Path,
    limits: str | None = None,
    threads: int = 1,
    secret: str | None = None,
) -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py on a socket bound here (port 0), stopped afterwards."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    log_path = log_dir / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"fd://{fd}", "--workers", str(workers),
               "--threads", str(threads)]  # fmt: skip
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(uri, limits, secret), pass_fds=(fd,),
            stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    listener.close()  # gunicorn holds its own copy
    server = Server(process, port, log_path)
    try:
        _wait_until_ready(server, workers)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_ready(server: Server, workers: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start-up:\n{server.log()[-3000:]}")
        try:
            status, _body, _ms = request(server.port, "GET", "/healthz", timeout=2)
        except OSError:
            status = 0
        if status == 200 and len(server.worker_pids()) >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn was not ready after {START_TIMEOUT:.0f} s:\n{server.log()[-3000:]}"
    )


# --- the patients ---------------------------------------------------------------


def request(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = REQUEST_TIMEOUT
) -> tuple[int, str, float]:
    """One HTTP request on a new connection: (status, body, milliseconds)."""
    headers = {"Host": f"127.0.0.1:{port}", "User-Agent": "quiz-load/1"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        conn.close()
    return response.status, text, (time.perf_counter() - started) * 1000


_INPUT = re.compile(r"<input\b[^>]*>")
_ATTR = re.compile(r'(name|value|type)="([^"]*)"')


def form_fields(page: str) -> list[tuple[str, str]]:
    """The hidden fields of the callback form on a result page (answers, tracking, token)."""
    start = page.index('id="callback"')
    form = page[start : page.index("</form>", start)]
    fields = []
    for tag in _INPUT.findall(form):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            fields.append((attrs["name"], unescape(attrs.get("value", ""))))
    return fields


class Load:
    """Shared counters for one run; each patient thread adds to them under a lock."""

    def __init__(self, options: Options, server: Server) -> None:
        self.options = options
        self.server = server
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[str] = Counter()
        self.sent = 0
        self.accepted: list[str] = []
        self.unavailable = 0
        self.unacknowledged: list[str] = []
        self.resends = 0
        self.killed: int | None = None
        self.deadline = 0.0

    def more(self) -> bool:
        with self.lock:
            if self.options.callbacks is not None and self.sent >= self.options.callbacks:
                return False
            if time.monotonic() >= self.deadline:
                return False
            self.sent += 1
            return True

    def get(self, kind: str, path: str) -> str:
        status, text, ms = request(self.server.port, "GET", path)
        self._note(kind, status, ms)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return text

    def _note(self, kind: str, status: int, ms: float) -> None:
        with self.lock:
            self.latencies[kind].append(ms)
            self.statuses[f"{kind} {status}"] += 1

    def patient(self, number: int) -> None:
        sequence = 0
        while self.more():
            sequence += 1
            concern, areas, goal = ANSWERS[(number + sequence) % len(ANSWERS)]
            query = [("concern", concern), *(("area", a) for a in areas), ("goal", goal)]
            try:
                if self.options.mode == "quiz":
                    self.get("step", "/quiz/")
                    self.get("step", "/quiz/concern")
                    self.get("step", "/quiz/area?" + urlencode(query[:1]))
                    self.get("step", "/quiz/goal?" + urlencode(query[:-1]))
                    self.get("result", "/quiz/result?" + urlencode(query))
                # The form comes one step after the result (its own, never cached page).
                page = self.get("form", "/quiz/callback?" + urlencode(query))
            except (OSError, http.client.HTTPException, RuntimeError):
                with self.lock:
                    self.statuses["step failed"] += 1
                    self.sent -= 1  # no callback was sent in this round
                continue
            name = f"Load Patient {number:03d}-{sequence:05d}"
            form = form_fields(page) + [
                ("name", name), ("phone", "(301) 810-5740"), ("email", ""),
                ("best_time", "morning"), ("consent", "yes"),
            ]  # fmt: skip
            self.callback(name, urlencode(form).encode())

    def callback(self, name: str, body: bytes) -> None:
        for attempt in range(1 + RESENDS):
            try:
                status, text, ms = request(self.server.port, "POST", "/quiz/callback", body)
            except (OSError, http.client.HTTPException):
                # The worker died with the request in hand: send the same form again.
                with self.lock:
                    self.statuses["callback no answer"] += 1
                    self.resends += attempt < RESENDS
                continue
            self._note("callback", status, ms)
            with self.lock:
                if status == 200 and 'id="thanks"' in text:
                    self.accepted.append(name)
                    if self.options.kill_after and self.killed is None:
                        if len(self.accepted) >= self.options.kill_after:
                            self._kill_a_worker()
                elif status == 503:
                    self.unavailable += 1
                else:
                    self.statuses["callback refused"] += 1
            return
        with self.lock:
            self.unacknowledged.append(name)

    def _kill_a_worker(self) -> None:
        pids = self.server.worker_pids()
        if pids:
            victim = pids[len(pids) // 2]
            os.kill(victim, signal.SIGKILL)
            self.killed = victim


def run(options: Options) -> Result:
    """One whole run: database, gunicorn, patients, checks."""
    with tempfile.TemporaryDirectory(prefix="quiz-load-log-") as log_dir:
        with database(options) as uri, gunicorn(uri, options.workers, Path(log_dir)) as server:
            load = Load(options, server)
            started = time.monotonic()
            load.deadline = started + options.duration
            threads = [
                threading.Thread(target=load.patient, args=(n,), daemon=True)
                for n in range(options.concurrency)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(options.duration + REQUEST_TIMEOUT * (2 + RESENDS))
            seconds = time.monotonic() - started
            stored, partial = stored_leads(uri)
            log = server.log()
    return summarise(options, load, seconds, stored, partial, log)


def stored_leads(uri: str) -> tuple[list[str], list[int]]:
    """The stored leads' names, and the ids of leads without one outbox row per channel."""
    from sqlalchemy import create_engine, text

    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            names = [row[0] for row in conn.execute(text("SELECT name FROM lead"))]
            partial = [
                row[0]
                for row in conn.execute(
                    text(
                        "SELECT lead.id FROM lead LEFT JOIN outbox ON outbox.lead_id = lead.id "
                        "GROUP BY lead.id HAVING count(outbox.id) <> :n"
                    ),
                    {"n": CHANNELS},
                )
            ]
    finally:
        engine.dispose()
    return names, partial


def summarise(
    options: Options, load: Load, seconds: float, stored: list[str], partial: list[int], log: str
) -> Result:
    requests = sum(len(v) for v in load.latencies.values())
    counts = Counter(stored)
    accepted = set(load.accepted)
    unacknowledged = set(load.unacknowledged)
    return Result(
        database=options.database,
        workers=options.workers,
        concurrency=options.concurrency,
        mode=options.mode,
        seconds=round(seconds, 2),
        requests=requests,
        requests_per_second=round(requests / seconds, 1) if seconds else 0.0,
        latency_ms={kind: percentiles(values) for kind, values in sorted(load.latencies.items())},
        statuses=dict(sorted(load.statuses.items())),
        callbacks_sent=load.sent,
        callbacks_accepted=len(load.accepted),
        callbacks_unavailable=load.unavailable,
        callbacks_unacknowledged=len(load.unacknowledged),
        resends=load.resends,
        leads_stored=len(stored),
        missing=sorted(accepted - set(counts)),
        # A lead whose every answer was lost with a killed worker is neither accepted
        # nor an error (the patient was never told "thank you"); anything else is.
        unexpected=sorted(set(counts) - accepted - unacknowledged),
        duplicates=sorted(name for name, n in counts.items() if n > 1),
        partial=partial,
        worker_killed=load.killed,
        database_locked=log.count("database is locked"),
        tracebacks=log.count("Traceback (most recent call last)"),
    )


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"count": len(ordered), "p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1], 1)}


def report(result: Result) -> str:
    lines = [
        f"database {result.database}, gunicorn {result.workers} workers, "
        f"{result.concurrency} patients, mode {result.mode}, {result.seconds} s",
        f"requests {result.requests} ({result.requests_per_second}/s)",
    ]
    for kind, p in result.latency_ms.items():
        lines.append(
            f"  {kind:<9} {p['count']:>6} requests  p50 {p['p50']} ms  p99 {p['p99']} ms  "
            f"max {p['max']} ms"
        )
    lines += [
        f"statuses {json.dumps(result.statuses)}",
        f"callbacks sent {result.callbacks_sent}, accepted {result.callbacks_accepted}, "
        f"503 {result.callbacks_unavailable}, unanswered {result.callbacks_unacknowledged}, "
        f"resent {result.resends}",
        f"leads stored {result.leads_stored}",
    ]
    if result.worker_killed:
        lines.append(f"worker {result.worker_killed} killed with SIGKILL mid-load")
    checks = {
        "every accepted callback is a stored lead": not result.missing,
        "every stored lead was accepted": not result.unexpected,
        "no duplicate leads": not result.duplicates,
        "every lead has its outbox rows": not result.partial,
        'no "database is locked"': not result.database_locked,
        "no tracebacks in gunicorn's log": not result.tracebacks,
    }
    lines += [f"{'PASS' if good else 'FAIL'}  {check}" for check, good in checks.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds, at most")
    parser.add_argument("--callbacks", type=int, help="stop after this many callback requests")
    parser.add_argument("--mode", choices=["quiz", "callback"], default="quiz")
    parser.add_argument("--kill-after", type=int, metavar="N",
                        help="SIGKILL one worker after N accepted callbacks")  # fmt: skip
    parser.add_argument("--postgres-url", default=os.environ.get("QUIZ_TEST_POSTGRES_URL",
                                                                 DEFAULT_POSTGRES))  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 < args.concurrency <= 256:
        parser.error("--duration is 0-600 s and --concurrency 1-256")
    options = Options(
        database=args.database, workers=args.workers, concurrency=args.concurrency,
        duration=args.duration, callbacks=args.callbacks, mode=args.mode,
        kill_after=args.kill_after, postgres_url=args.postgres_url,
    )  # fmt: skip
    try:
        result = run(options)
    except Exception as err:  # a harness failure, reported as such
        print(f"load harness could not run: {err}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(result), indent=2) if args.json else report(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
