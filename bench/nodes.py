"""Two app nodes behind one nginx upstream, sharing PostgreSQL and Redis; one is killed mid-load.

Starts a fresh PostgreSQL database, two gunicorn servers (gunicorn.conf.py,
2 sync workers each, production settings, rate limits counted in the local
Redis) on two ports (the "nodes"), and nginx with one upstream naming both
(`proxy_next_upstream error timeout non_idempotent`: a callback POST that
met a dead node is sent to the other; resending is safe because a resent
form finds the lead it already made). Patients (bench/load.py's, 32
threads, the whole quiz then the callback, resending a form that got no
answer) go through nginx; after --kill-after callbacks (or halfway through
the run, whichever comes first) the first node is killed (SIGKILL to its
master and workers). Then:

- every callback a patient saw acknowledged is stored, once, with its
  outbox rows (nothing lost, nothing doubled);
- a content version published with `flask content publish` (through the
  database, as on any node) is served by the survivor within its
  CONTENT_CHECK_SECONDS; the time it took is printed.

    .venv/bin/python bench/nodes.py [--seconds 20] [--kill-after 150]

Needs PostgreSQL, Redis and nginx. Exit status 0 when nothing was lost and
the publish arrived, 1 otherwise, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import (  # noqa: E402
    DEFAULT_POSTGRES,
    Load,
    Options,
    database,
    gunicorn,
    server_env,
    stored_leads,
)

REDIS = "redis://127.0.0.1:6379/0"
SECRET = secrets.token_urlsafe(32)  # one install: every node signs with the same key
NEW_LABEL = "Lines when I smile (published mid-run)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_conf(tmp: Path, port: int, nodes: list[int]) -> Path:
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in nodes)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  upstream relax_or_fill {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://relax_or_fill;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout non_idempotent;
    }}
  }}
}}
""")
    return conf


class Front:
    """What bench/load.py's patients need of a server: the port they talk to."""

    def __init__(self, port: int) -> None:
        self.port = port

    def worker_pids(self) -> list[int]:
        return []


def kill_node(server) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the node's workers and its master: the machine is gone."""
    for pid in [*server.worker_pids(), server.process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def served_label(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/quiz/concern", timeout=5) as response:
        return response.read().decode()


def publish(uri: str, tmp: Path) -> tuple[float, float]:
    """`flask content publish` of the files with one label changed: when it started, its length."""
    from tests.test_content_versions import changed_files

    files = changed_files(tmp, en=NEW_LABEL, es=NEW_LABEL + " (es)")
    env = {**server_env(uri, secret=SECRET), "FLASK_APP": "wsgi.py"}
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "staff", "create", "ops@spa.example", "--role", "admin"], cwd=ROOT,
                   env=env, input="a-long-bench-password-9\n", text=True, check=True,
                   capture_output=True)  # fmt: skip
    started = time.monotonic()
    subprocess.run([*flask, "content", "publish", str(files), "--note", "mid-run",
                    "--as", "ops@spa.example"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    return started, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--kill-after", type=int, default=150)
    parser.add_argument("--patients", type=int, default=32)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("nginx is not installed: apt-get install -y nginx", file=sys.stderr)
        return 2
    options = Options(database="postgresql", postgres_url=args.postgres,
                      concurrency=args.patients, duration=args.seconds)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="quiz-nodes-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        with (
            database(options) as uri,
            gunicorn(uri, 2, tmp / "a", limits=REDIS, secret=SECRET) as node_a,
            gunicorn(uri, 2, tmp / "b", limits=REDIS, secret=SECRET) as node_b,
        ):
            port = free_port()
            proxy = subprocess.Popen([nginx, "-c", str(nginx_conf(tmp, port, [node_a.port,
                                      node_b.port]))], stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    try:
                        served_label(port)
                        break
                    except OSError:
                        time.sleep(0.1)
                load = Load(options, Front(port))  # type: ignore[arg-type]
                load.deadline = time.monotonic() + args.seconds
                threads = [threading.Thread(target=load.patient, args=(n,), daemon=True)
                           for n in range(args.patients)]  # fmt: skip
                for thread in threads:
                    thread.start()
                killed_at = None
                halfway = time.monotonic() + args.seconds / 2
                while any(t.is_alive() for t in threads):
                    # After --kill-after callbacks, or halfway on a slow machine.
                    due = len(load.accepted) >= args.kill_after or time.monotonic() > halfway
                    if killed_at is None and due:
                        kill_node(node_a)
                        killed_at = len(load.accepted)
                    time.sleep(0.05)
                published, command = publish(uri, tmp)
                arrived = None
                while time.monotonic() - published < 30:
                    if NEW_LABEL in served_label(port):
                        arrived = time.monotonic() - published
                        break
                    time.sleep(0.1)
            finally:
                proxy.send_signal(signal.SIGQUIT)
                proxy.wait(timeout=10)
            stored, partial = stored_leads(uri)
    counts = Counter(stored)
    lost = [name for name in load.accepted if name not in counts]
    # Stored but never acknowledged: the node died between the commit and the answer, and
    # the patient's resend did not get through either (they would call or send it again).
    doubled = [name for name, n in counts.items() if n > 1]
    print(f"two nodes (2 workers each) behind nginx, PostgreSQL, Redis limits; "
          f"{args.patients} patients for {args.seconds:g} s")  # fmt: skip
    print(f"callbacks acknowledged {len(load.accepted)}, stored {len(stored)}, "
          f"lost {len(lost)}, doubled {len(doubled)}, without their outbox rows {len(partial)}, "
          f"unacknowledged after resends {len(load.unacknowledged)}, "
          f"calm 503 {load.unavailable}")  # fmt: skip
    print(f"node A killed after {killed_at} acknowledged callbacks; resends {load.resends}; "
          f"statuses {dict(load.statuses)}")  # fmt: skip
    print("publish reached the survivor " + (
        f"{arrived:.1f} s after `flask content publish` started (the command itself took "
        f"{command:.1f} s; CONTENT_CHECK_SECONDS is 5)" if arrived is not None
        else "NOT within 30 s"))  # fmt: skip
    after_kill = len(load.accepted) - (killed_at or 0)
    print(f"callbacks acknowledged after the kill (by the survivor): {after_kill}")
    ok = not lost and not doubled and not partial and arrived is not None and after_kill > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
