"""In-process cost of a quiz step (cold and from the render cache) and of POST /quiz/callback.

Builds the app as production does (a migrated SQLite file in a temporary
directory, notifications configured so each lead also queues its outbox rows)
and times WSGI calls directly, without a network or a server:

- a question step and the result rendered cold (the render cache off) and
  served from the render cache;
- `POST /quiz/callback`: each request a new patient with her own form (the
  form fetched beforehand, not timed), so every post stores one lead;
- `POST /staff/login` while the worker's password gate is full: the fast 429
  a sign-in flood mostly gets (quiz/staff/signin.py).

    .venv/bin/python bench/callback_cost.py            # 400 callbacks, 5 rounds of steps
    .venv/bin/python bench/callback_cost.py --profile  # and the callback's top functions

Prints medians (and p90 for the callback) in milliseconds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import _migrate, closed_port  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.staff import signin  # noqa: E402

STEP = "/quiz/area?concern=volume"
RESULT = "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent"
FORM = "/quiz/callback?concern=expression&area=between_brows&area=cheeks&goal=prevent"


def config(uri: str, **overrides: Any) -> dict[str, Any]:
    closed = closed_port()
    return {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TRUSTED_HOSTS": ["127.0.0.1"],
        "SQLALCHEMY_DATABASE_URI": uri,
        "MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": True,
        "FUNNEL_FLUSH_SECONDS": 0,
        "NOTIFY_EMAIL_TO": ["desk@spa.example"],
        "NOTIFY_EMAIL_FROM": "quiz@spa.example",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": closed,
        "SMTP_SECURITY": "none",
        "WEBHOOK_URL": f"http://127.0.0.1:{closed}/hook",
        "WEBHOOK_SECRET": "bench-webhook-secret-0123456789",
        "STAFF_BASE_URL": "https://quiz.spa.example",
        "CALLBACK_RATE_LIMIT": "1000000 per minute",
        **overrides,
    }


def environ(method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "HTTP_HOST": "127.0.0.1:5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "bench/1",
        "HTTP_ORIGIN": "http://127.0.0.1:5000",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app: Any, method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
    status: list[str] = []
    result = app(environ(method, path, body), lambda s, h, e=None: status.append(s))
    try:
        return status[0], b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()


def step_cost(
    app: Any, path: str, rounds: int, count: int = 500, method: str = "GET", body: bytes = b""
) -> float:
    """Median over rounds of the mean milliseconds per call."""
    call(app, method, path, body)
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            call(app, method, path, body)
        means.append((time.perf_counter() - start) / count * 1000)
    return statistics.median(means)


def busy_signin_cost(app: Any, rounds: int) -> float:
    """A sign-in's cost while the gate's slot is taken (held here) and its line full, in ms."""
    body = urlencode({"email": "someone@spa.example", "password": "a guess"}).encode()
    with signin.gate(app).slot():  # the app has no line (STAFF_PASSWORD_CHECKS_WAITING=0)
        status, _ = call(app, "POST", "/staff/login", body)
        assert status.startswith("429"), status
        return step_cost(app, "/staff/login", rounds, method="POST", body=body)


def callback_body(app: Any, number: int) -> bytes:
    status, page = call(app, "GET", FORM)
    assert status.startswith("200"), status
    html = page.decode()
    form = html[html.index('id="callback"') :]
    form = form[: form.index("</form>")]
    fields = []
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
            value = re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
            fields.append((name, value.replace("&amp;", "&")))
    fields += [
        ("name", f"Patient {number}"),
        ("phone", "(301) 810-5740"),
        ("email", f"p{number}@example.com"),
        ("best_time", "morning"),
        ("consent", "yes"),
    ]
    return urlencode(fields).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callbacks", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    os.environ.pop("QUIZ_ENV", None)

    with tempfile.TemporaryDirectory(prefix="quiz-cost-") as tmp:
        uri = f"sqlite:///{tmp}/quiz.db"
        _migrate(uri)
        cached = create_app(config(uri))
        cold = create_app(config(uri, RENDER_CACHE_ENTRIES=0))
        print("in-process, one WSGI call each (ms, median of rounds):")
        for name, path in (("question step", STEP), ("result", RESULT)):
            cold_ms = step_cost(cold, path, args.rounds)
            cached_ms = step_cost(cached, path, args.rounds)
            print(f"  {name:14} cold {cold_ms:6.3f}   from the render cache {cached_ms:6.3f}")

        # The form: each showing a token of its own, filled into the page rendered once.
        form_ms, whole_ms = step_cost(cached, FORM, args.rounds), step_cost(cold, FORM, args.rounds)
        print(f"  callback form  {form_ms:6.3f}   (rendered whole: {whole_ms:.3f})")
        bodies = [callback_body(cached, n) for n in range(args.callbacks)]
        timings = []
        profiler = cProfile.Profile() if args.profile else None
        for body in bodies:
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            status, _ = call(cached, "POST", "/quiz/callback", body)
            if profiler:
                profiler.disable()
            timings.append((time.perf_counter() - start) * 1000)
            assert status.startswith("200"), status
        timings.sort()
        p90 = timings[int(len(timings) * 0.9)]
        print(f"  POST /quiz/callback (SQLite, {len(timings)} leads stored): "
              f"median {statistics.median(timings):.3f}, p90 {p90:.3f}")  # fmt: skip
        busy = create_app(config(uri, STAFF_PASSWORD_CHECKS_WAITING=0))  # its gate held
        print(f"  POST /staff/login, gate full (429): {busy_signin_cost(busy, args.rounds):.3f}")
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
