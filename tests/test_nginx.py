"""nginx in front of gunicorn keeps the quiz answering from its cache while the app is down.

Real parts on loopback: gunicorn with the repository's gunicorn.conf.py (two
workers, production settings, the test's database), and Debian's nginx running
deploy/nginx.conf as shipped (cache, upstream, gzip, logs, both servers) with
the very locations of deploy/nginx-quiz.conf; only its paths and ports are
made local, and TLS left out. The test walks the whole quiz through nginx (full
pages, htmx fragments, the stylesheet and the script), stops gunicorn, walks it
again (every page from nginx's cache, byte for byte, each variant its own),
and sends the callback form: the calm page (503) with the spa's phone number,
not nginx's "502 Bad Gateway". Other tests read the logs nginx wrote (no
answers, no patient's address) and ask for the calm page in each language.

Without nginx the test is skipped with a message (`apt-get install -y nginx`),
except under CI=true, where it fails (.ci/run installs it).
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.app import TEST_SECRET
from tests.support.environment import REDIS_URL, unavailable
from tests.support.waiting import ProcessOutput, wait_for_lines, wait_until

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = "concern=volume&area=cheeks&area=marionette&goal=repair"
STEPS = [
    "/quiz/",
    "/quiz/concern",
    "/quiz/area?concern=volume",
    "/quiz/goal?concern=volume&area=cheeks&area=marionette",
    f"/quiz/result?{ANSWERS}",
]
HTMX = {"HX-Request": "true"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None, data: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(base + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        unavailable("nginx is not installed: apt-get install -y nginx (Debian's package)")
    return found


def swap(text_: str, old: str, new: str) -> str:
    """`text_` with `old` replaced, failing when the shipped config no longer says `old`."""
    assert old in text_, f"deploy/nginx.conf no longer has {old!r}"
    return text_.replace(old, new)


def nginx_config(tmp: Path, app_port: int, port: int, plain_port: int) -> str:
    """deploy/nginx.conf as shipped, made local: paths, ports, and no TLS on `port`.

    Around it, what Debian's /etc/nginx/nginx.conf puts around a site: an http
    block with its own access log (the full request line and the address), which
    the site's servers must replace with theirs.
    """
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    site = swap(site, "/var/cache/nginx/relax-or-fill", str(tmp / "cache"))
    site = swap(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    site = swap(site, "/var/log/nginx/relax-or-fill", str(tmp / "relax-or-fill"))
    site = swap(site, "listen 80;", f"listen 127.0.0.1:{plain_port};")
    site = swap(site, "listen 443 ssl;", f"listen 127.0.0.1:{port};")
    site = swap(site, "http2 on;", "")  # needs TLS here, and nginx 1.25
    site = re.sub(r"\n\s*ssl_certificate(_key)? [^;]+;", "", site)
    site = swap(site, "/srv/relax-or-fill/instance", str(tmp / "instance"))
    site = swap(site, "/srv/relax-or-fill/deploy/", f"{ROOT / 'deploy'}/")
    temp_paths = "\n".join(
        f"{kind}_temp_path {tmp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
user root;
worker_processes 1;
daemon off;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} notice;
events {{ worker_connections 128; }}
http {{
    access_log {tmp / "access.log"};
    {temp_paths}
    {site}
}}
"""


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class Stack:
    base: str  # nginx's URL (the site's main server, here without TLS)
    plain: str  # the server that sends http:// to https://
    app: subprocess.Popen[bytes]  # gunicorn
    tmp: Path  # nginx's logs (Debian's access.log and error.log, the site's own), instance/


def app_env(database_uri: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUIZ_", "GUNICORN_"))}
    env.update(
        QUIZ_ENV="production",
        QUIZ_SECRET_KEY=TEST_SECRET,
        QUIZ_TRUSTED_HOSTS='["127.0.0.1"]',
        QUIZ_PROXY_FIX_HOPS="1",
        QUIZ_SQLALCHEMY_DATABASE_URI=database_uri,
        QUIZ_MIN_FILL_SECONDS="0",
        # Several production workers share their limits, as gunicorn.conf.py requires.
        QUIZ_RATELIMIT_STORAGE_URI=REDIS_URL,
        QUIZ_RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        GUNICORN_ACCESS_LOG="",
    )
    return env


@pytest.fixture
def stack(database_uri: str, tmp_path: Path) -> Iterator[Stack]:
    """gunicorn and nginx in front of it, as deploy/nginx.conf has them."""
    nginx = nginx_binary()
    env = app_env(database_uri)
    flask = Path(sys.executable).with_name("flask")
    written = subprocess.run(
        [str(flask), "--app", "wsgi", "offline-page", str(tmp_path / "instance" / "offline.html")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr[-2000:]
    app_port, port, plain_port = free_port(), free_port(), free_port()
    app = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
         "--workers", "2", "--bind", f"127.0.0.1:{app_port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    app_output = ProcessOutput(app)
    (tmp_path / "nginx.conf").write_text(
        nginx_config(tmp_path, app_port, port, plain_port), encoding="utf-8"
    )
    proxy = subprocess.Popen(
        [nginx, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path),
         "-e", str(tmp_path / "error.log")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proxy_output = ProcessOutput(proxy)
    base = f"http://127.0.0.1:{port}"
    try:
        app_output.wait_for("Listening at")
        wait_until(lambda: _answers(f"http://127.0.0.1:{app_port}/healthz"), "gunicorn to answer")
        wait_until(
            lambda: _answers(f"{base}/healthz") or _exited(proxy, proxy_output), "nginx to answer"
        )
        yield Stack(base, f"http://127.0.0.1:{plain_port}", app, tmp_path)
    finally:
        stop(app)
        stop(proxy)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def _exited(process: subprocess.Popen[bytes], output: ProcessOutput) -> bool:
    if process.poll() is not None:
        pytest.fail(f"nginx exited: {output.text()[-2000:]}")
    return False


def asset_paths(page: bytes) -> list[str]:
    html = page.decode()
    found = re.findall(r'(?:src|href)="(/quiz/(?:widget\.js|style\.css)[^"]*)"', html)
    assert len(found) == 2, found
    return [path.replace("&amp;", "&") for path in found]


def callback_form_data(page: bytes) -> bytes:
    html = page.decode()
    form = html[html.index('id="callback"') :]
    form = form[: form.index("</form>")]
    fields = []
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
            value = re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
            fields.append((name, value.replace("&amp;", "&")))
    fields += [("name", "Jane Patient"), ("phone", "(301) 810-5740"), ("best_time", "morning"),
               ("consent", "yes")]  # fmt: skip
    return urllib.parse.urlencode(fields).encode()


def stored_leads(database_uri: str) -> int:
    engine = create_engine(database_uri)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM lead")).scalar_one()
    finally:
        engine.dispose()


def test_the_quiz_answers_from_nginx_while_the_app_is_down(stack: Stack, database_uri: str) -> None:
    base, app = stack.base, stack.app
    origin = {"Origin": base, "Content-Type": "application/x-www-form-urlencoded"}

    # The whole quiz once, with the app up: pages, fragments, stylesheet, script.
    first: dict[tuple[str, bool], bytes] = {}
    for path in STEPS:
        for htmx in (False, True):
            status, headers, body = fetch(base, path, HTMX if htmx else None)
            assert status == 200, (path, htmx, status)
            assert "public" in headers["Cache-Control"]
            first[(path, htmx)] = body
    assert first[(STEPS[0], False)] != first[(STEPS[0], True)]  # a page and a fragment
    for path in asset_paths(first[(STEPS[0], False)]):
        status, _, body = fetch(base, path)
        assert status == 200
        first[(path, False)] = body
    # The callback passes through to the app (never kept): a lead is stored.
    status, headers, form_page = fetch(base, f"/quiz/callback?{ANSWERS}")
    assert status == 200 and "no-store" in headers["Cache-Control"]
    status, _, thanks = fetch(base, "/quiz/callback", origin, data=callback_form_data(form_page))
    assert status == 200 and 'id="thanks"' in thanks.decode()
    assert stored_leads(database_uri) == 1
    status, _, form_page = fetch(base, f"/quiz/callback?{ANSWERS}")
    form = callback_form_data(form_page)  # a second patient's form, sent once the app is gone

    # HTML, CSS and JavaScript leave nginx compressed for a browser that asks.
    for path in [STEPS[-1], *asset_paths(first[(STEPS[0], False)])]:
        status, headers, body = fetch(base, path, {"Accept-Encoding": "gzip"})
        assert headers.get("Content-Encoding") == "gzip", path
        assert gzip.decompress(body) == first[(path, False)]

    stop(app)  # gunicorn is gone: nothing listens on its port now
    assert app.returncode is not None

    # The whole quiz again, through nginx alone: every page and fragment from its cache.
    for (path, htmx), body in first.items():
        status, headers, again = fetch(base, path, HTMX if htmx else None)
        assert status == 200, (path, htmx, status)
        assert again == body, (path, htmx)

    # The callback can't be stored now: the calm page, with the spa's number, not nginx's error.
    status, headers, body = fetch(base, "/quiz/callback", origin, data=form)
    page = body.decode()
    assert status == 503
    assert (
        "We can&#39;t take requests just now" in page or "We can't take requests just now" in page
    )
    assert 'href="tel:+13018105740"' in page
    assert "nginx" not in page.lower() and "Bad Gateway" not in page
    assert headers["HX-Retarget"] == "#quiz"
    # A page nginx never kept (the form is never kept) gets the same calm page.
    status, _, body = fetch(base, f"/quiz/callback?{ANSWERS}")
    assert status == 503 and "tel:+13018105740" in body.decode()
    assert stored_leads(database_uri) == 1  # nothing half-stored, nothing lost in between


def test_nginx_serves_a_newly_published_version_within_seconds(
    stack: Stack, tmp_path: Path, database_uri: str
) -> None:
    """nginx keeps a page only as long as a worker takes to switch (s-maxage), then asks again."""
    base = stack.base
    path = "/quiz/concern?lang=en"
    old, new = "Lines that appear when I squint, frown or raise my brows", "Lines when I smile"
    assert old in fetch(base, path)[2].decode()
    assert old in fetch(base, path)[2].decode()  # now kept by nginx, for up to 5 minutes
    folder = tmp_path / "changed"
    folder.mkdir()
    for name in ("quiz.toml", "quiz.es.toml"):
        text_ = (ROOT / "quiz" / "content" / "data" / name).read_text(encoding="utf-8")
        (folder / name).write_text(text_.replace(f'"{old}"', f'"{new}"'), encoding="utf-8")
    flask = Path(sys.executable).with_name("flask")
    published = subprocess.run(
        [str(flask), "--app", "wsgi", "content", "publish", str(folder / "quiz.toml"),
         "--note", "nginx test"],
        cwd=ROOT, env=app_env(database_uri), capture_output=True, text=True,
    )  # fmt: skip
    assert published.returncode == 0, published.stderr[-2000:]
    # Within the worker's check interval plus the proxy's s-maxage (5 s + 5 s): no sleep.
    wait_until(lambda: new in fetch(base, path)[2].decode(), "nginx to serve the new version")
    assert old not in fetch(base, path)[2].decode()


PATIENT = "127.0.0.2"  # the patient's address: loopback, but none of nginx's own
SITE_LOG, SITE_ERRORS = "relax-or-fill.access.log", "relax-or-fill.error.log"


def fetch_from(
    address: str, base: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """GET `path` from a connection that leaves `address`: (status, body)."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(
        url.hostname, url.port, timeout=20, source_address=(address, 0)
    )
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_nginx_logs_no_answers_and_no_patients_address(stack: Stack) -> None:
    site_log = stack.tmp / SITE_LOG
    # A patient on her result, as her browser asks for it: the answers in the URL and,
    # from the step before, in the Referer.
    goal = f"{stack.base}/quiz/goal?concern=volume&area=cheeks&area=marionette"
    status, page = fetch_from(PATIENT, stack.base, f"/quiz/result?{ANSWERS}", {"Referer": goal})
    assert status == 200 and 'data-outcome="fill"' in page
    # The same result link typed as http://, answered by the redirect to https://.
    status, _ = fetch_from(PATIENT, stack.plain, f"/quiz/result?{ANSWERS}")
    assert status == 301
    # A page that was never kept, asked for while gunicorn is down: the calm page.
    stop(stack.app)
    status, page = fetch_from(
        PATIENT, stack.base, "/quiz/result?concern=etched&area=forehead&goal=prevent"
    )
    assert status == 503 and "tel:+13018105740" in page

    lines = wait_for_lines(site_log, '"GET /quiz/result"', 3)
    assert [line.split('"')[2].split()[0] for line in lines] == ["200", "301", "503"]
    assert "upstream=502" in lines[2]  # the app being down shows here, not in the error log
    logs = {name: (stack.tmp / name).read_text(encoding="utf-8") for name in
            (SITE_LOG, SITE_ERRORS, "access.log", "error.log")}  # fmt: skip
    for name, text_ in logs.items():
        for secret in ("concern", "volume", "cheeks", "marionette", "etched", "?", PATIENT):
            assert secret not in text_, (name, secret)
    assert "GET" not in logs["access.log"]  # Debian's own access log gets no line at all


def test_nginx_logs_the_staff_address_but_no_query(stack: Stack) -> None:
    """Staff keep their address in the log (who signed in from where), never a query string."""
    status, _ = fetch_from(PATIENT, stack.base, "/staff/login?next=/staff/%3Fq%3DJane")
    assert status == 200
    [line] = wait_for_lines(stack.tmp / SITE_LOG, '"GET /staff/login"', 1)
    assert line.split()[1] == PATIENT
    assert "Jane" not in line and "next" not in line


SPANISH_CALM = "No podemos atender solicitudes en este momento"
ENGLISH_CALM = "We can&#39;t take requests just now"


@pytest.mark.parametrize(
    ("query", "accept_language", "calm"),
    [
        ("&lang=es", "en-US,en;q=0.9", SPANISH_CALM),  # `lang` wins over the browser
        ("&lang=en", "es-MX,es;q=0.9", ENGLISH_CALM),
        ("", "es-MX,es;q=0.9,en;q=0.8", SPANISH_CALM),  # no `lang`: the browser's first
        ("", "fr-FR,fr;q=0.9,es;q=0.8,en;q=0.7", SPANISH_CALM),
        ("", "de-DE,de;q=0.9", ENGLISH_CALM),  # none of the quiz's: the default language
        ("&lang=fr", "es", ENGLISH_CALM),  # a language the quiz lacks: the default, as the app
    ],
)
def test_the_calm_page_follows_the_patients_language(
    stack: Stack, query: str, accept_language: str, calm: str
) -> None:
    stop(stack.app)
    path = f"/quiz/callback?{ANSWERS}{query}"  # the form: never kept, so never in the cache
    status, headers, body = fetch(stack.base, path, {"Accept-Language": accept_language})
    assert status == 503 and "no-store" in headers["Cache-Control"]
    assert calm in body.decode()


def test_a_callback_sent_in_spanish_gets_the_spanish_calm_page(stack: Stack) -> None:
    status, _, form_page = fetch(stack.base, f"/quiz/callback?{ANSWERS}&lang=es")
    assert status == 200
    action = re.search(r'<form id="callback"[^>]*action="([^"]+)"', form_page.decode())
    assert action is not None
    stop(stack.app)
    # An English browser, on a page in Spanish (the spa's data-lang="es"), with htmx.
    headers = {"Origin": stack.base, "Content-Type": "application/x-www-form-urlencoded",
               "Accept-Language": "en-US,en;q=0.9", **HTMX}  # fmt: skip
    data = callback_form_data(form_page)
    status, headers, body = fetch(stack.base, action.group(1).replace("&amp;", "&"), headers, data)
    page = body.decode()
    assert status == 503 and headers["HX-Retarget"] == "#quiz"
    assert SPANISH_CALM in page and 'lang="es"' in page
    assert 'href="/quiz/?lang=es"' in page
