"""gunicorn settings for Relax or Fill: `gunicorn -c gunicorn.conf.py` serves wsgi:app.

Every value can be changed from the environment (GUNICORN_*) or on the command
line (`--workers 8` wins over this file). The app's own settings come from
QUIZ_* variables and instance/config.py, as usual. See docs/operations.md, "Deployment".
"""

from __future__ import annotations

import logging
import multiprocessing
import os

wsgi_app = "wsgi:app"

# Behind a reverse proxy on the same host; the proxy terminates TLS.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: each request is short (a page render or one small write), and
# the reverse proxy buffers slow clients. Several workers share one SQLite file
# safely (WAL, busy timeout, BEGIN IMMEDIATE) or one PostgreSQL server.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

# Each worker builds its own app, so database connections are never shared across a fork.
preload_app = False

# A stuck worker is killed and replaced; its unfinished transaction is rolled
# back by the database, so a lead is stored whole or not at all.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak can never grow for ever; rarely
# enough that a burst (thousands of requests a second) is not spent starting
# workers and filling their render caches again.
max_requests = 200_000
max_requests_jitter = 20_000

# The quiz's URLs carry the answers and the tracking values (page, ref, utm_*).
limit_request_line = 8190

# The heartbeat file on tmpfs when there is one: a busy disk must not look like a hung worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Access log without query strings or referrers: those hold a patient's answers.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# The logger that says which content version each worker serves (quiz/content/live.py).
CONTENT_LOGGER = "quiz.content.live"


def post_fork(server: object, worker: object) -> None:
    """In threaded workers, hand the interpreter lock over every 1 ms instead of 5 ms.

    A short page waiting behind a long request in another thread of the same
    worker (a sign-in, an export) then waits at most about a millisecond at a
    time, not five.

    Also, before the worker builds the app: the content switches ("content
    version 7 served by worker 1234", INFO) go to gunicorn's error log, so
    an operator sees when every worker serves a published version.
    """
    import sys

    sys.setswitchinterval(0.001)
    content_log = logging.getLogger(CONTENT_LOGGER)
    content_log.setLevel(logging.INFO)
    content_log.propagate = False
    for handler in server.log.error_log.handlers:  # type: ignore[attr-defined]
        content_log.addHandler(handler)


def on_starting(server: object) -> None:
    """Check the quiz's settings in the master, before any worker starts.

    A mistake (a weak SECRET_KEY, rate limits counted per worker: several
    workers counting sign-ins each in their own memory would multiply every
    limit) is printed once, with what to set, and gunicorn exits with status 1.
    Another app served with this file (the benchmarks' hello-world) is not checked.
    """
    import sys

    if getattr(server.app, "app_uri", wsgi_app) != wsgi_app:  # type: ignore[attr-defined]
        return
    from quiz.settings import ConfigError
    from quiz.settings.loading import check_server

    try:
        check_server(server.cfg.workers)  # type: ignore[attr-defined]
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def post_worker_init(worker: object) -> None:
    """Start the worker's content check as it boots.

    The content check starts now, not at the first request: a worker that
    gets no request for a while still switches to a newly published version
    within QUIZ_CONTENT_CHECK_SECONDS.
    """
    app = getattr(worker, "wsgi", None)
    live = getattr(app, "extensions", {}).get("quiz_live_content")
    if live is not None:
        live.start()
