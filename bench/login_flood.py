"""Sign-in flood: does a flood of wrong passwords slow the quiz down?

Starts the app under gunicorn (gunicorn.conf.py, as bench/load.py does: 2
workers, `--threads` threads each, so gthread workers) on a loopback port,
with a fresh SQLite database and one staff account hashed at the real (OWASP)
scrypt cost, behind PROXY_FIX_HOPS=1 so the X-Forwarded-For each request
carries is the client's address. Then:

1. idle: one client fetches a question step (`GET /quiz/area?concern=volume`),
   one request after another, for `--idle` seconds;
2. flood: the same for `--duration` seconds, while `--flooders` threads send
   sign-ins with wrong passwords as fast as they are answered (ignoring
   Retry-After, as an attacker would; in a process of their own, as on an
   attacker's machine), each from the next of 508 rotating
   networks (203.0.113.1-254 and 2001:db8:N::1), so the per-network limits
   hardly slow them down: the password-check gate has to. With `--rate R` they
   send R sign-ins per second between them instead (an attacker limited by
   its own bandwidth rather than by the server's answers). Each guess names
   another unknown email (no per-account count ever fills; before this
   stop an unknown email cost a full hash, now a wait as long as one), as in
   the attack this bench was written for; `--known` guesses the staff account's
   own email instead.

`--windows N` measures idle and flood in N alternating windows instead of one
after the other (the flood process paused with SIGSTOP for each idle window):
on a shared machine whose own noise comes and goes, both figures then see the
same moments of it.

It prints the step's p50/p99 idle and under the flood, their ratio against the
goal (within 2x), and how the sign-ins were answered: 200 means the password
was checked and refused (hashed for a real account; for an unknown email, a
wait as long as a hash), 429 "gate" that the worker was already checking one,
429 "limit" that the network's or the account-and-network's count was used up.

`--split` puts Debian's nginx in front (deploy/nginx.conf's http part and
deploy/nginx-quiz.conf) and serves /staff/ from a second gunicorn at nice 10
(docs/operations.md, "Staff on their own workers"); probe and flood then go
through nginx. `--staff-idle` runs that staff gunicorn under Linux's SCHED_IDLE
(`chrt --idle 0`, systemd's CPUSchedulingPolicy=idle) instead.

Where the flood comes from. An attacker sends from machines of her own: her
CPU is not the server's. Here the generator shares the server's two cores, and
a closed-loop flood of fast 429s keeps about a core busy on the sending side
alone, so by default the figures charge the server for the attacker's own CPU
too. `--nice` sends the flood at nice 19; `--idle-flood` sends it under
SCHED_IDLE (nice 19 where that policy is missing), which models "elsewhere"
more closely: the generator runs only on CPU time the server leaves unused and
gives way the moment a server process wakes, so what the probe still feels is
what answering the flood costs the server (its requests, its hashes). The cost
of the model: the generator sends less when the server is busy, where a remote
attacker would not slow down; compare "sign-ins answered" between runs.

`--no-gate` sets STAFF_PASSWORD_CHECKS_AT_ONCE to 16 (in effect no gate): the
figure from before the gate. `--threads 1` runs sync workers, where one worker
serves one request at a time and the per-process gate never has a second
sign-in to turn away. All traffic goes to 127.0.0.1; the run stops by itself.

    .venv/bin/python bench/login_flood.py
    .venv/bin/python bench/login_flood.py --no-gate

Exit status: 0 when it ran (a figure over the goal included), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiz import create_app  # noqa: E402
from quiz.db.engine import db  # noqa: E402

STEP = "/quiz/area?concern=volume"
EMAIL = "desk@spa.example"
PASSWORD = "fern lantern oboe quarry"
GOAL = 2.0  # the step under flood within 2x of its idle figures
REQUEST_TIMEOUT = 30.0
SETTLE = 0.5  # seconds not measured after the flood is paused or resumed
NETWORKS = [f"203.0.113.{n}" for n in range(1, 255)] + [f"2001:db8:{n:x}::1" for n in range(1, 255)]
FLOOD_PRIORITY = {"normal": "normal priority", "nice": "nice 19", "idle": "SCHED_IDLE"}
TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def _harness() -> ModuleType:
    """bench/load.py as a module: its database, gunicorn and percentile helpers."""
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


load = _harness()


def add_staff(uri: str) -> None:
    """`flask staff create` with the default (OWASP) hash cost."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
    result = app.test_cli_runner().invoke(args=["staff", "create", EMAIL], input=PASSWORD + "\n")
    with app.app_context():
        db.engine.dispose()
    if result.exit_code:
        raise RuntimeError(f"flask staff create failed:\n{result.output}")


def use_settings(args: argparse.Namespace) -> None:
    """Add this run's settings to those bench/load.py starts gunicorn with."""
    base_env = load.server_env

    def server_env(uri: str) -> dict[str, str]:
        env = base_env(uri)
        env.update(
            GUNICORN_THREADS=str(args.threads),
            # Behind nginx (--split) the flood's X-Forwarded-For is one hop further in.
            QUIZ_PROXY_FIX_HOPS="2" if args.split else "1",
            QUIZ_RATELIMIT_ENABLED="true",
            # Shared by the workers, as production requires (gunicorn.conf.py).
            QUIZ_RATELIMIT_STORAGE_URI=os.environ.get(
                "QUIZ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"
            ),
            QUIZ_RATELIMIT_KEY_PREFIX=f"bench-{os.getpid()}",
            QUIZ_STAFF_PASSWORD_CHECKS_AT_ONCE="16" if args.no_gate else "1",
        )
        return env

    load.server_env = server_env  # gunicorn() looks it up when it starts the server


def call(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, str, str]:
    """One request on a new connection: (status, body, the staff cookie it set or "")."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **headers})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    finally:
        conn.close()
    return response.status, text, cookie


class Flood:
    """Threads sending wrong passwords from rotating networks until the deadline."""

    def __init__(
        self, port: int, flooders: int, deadline: float, rate: float, known: bool = False
    ) -> None:
        self.known = known
        self.port = port
        self.flooders = flooders
        self.interval = flooders / rate if rate else 0.0  # each flooder's pace, seconds
        self.deadline = deadline
        self.lock = threading.Lock()
        self.answers: Counter[str] = Counter()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True)
                        for n in range(flooders)]  # fmt: skip

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT * 2)

    def answered(self) -> int:
        with self.lock:
            return sum(self.answers.values())

    def run(self, number: int) -> None:
        first = {"X-Forwarded-For": NETWORKS[number], "User-Agent": "login-flood/1"}
        status, page, cookie = call(self.port, "GET", "/staff/login", first)
        found = TOKEN.search(page)
        if status != 200 or not found or not cookie:
            self.note(f"sign-in form {status}")
            return
        token = found.group(1)
        sent = 0
        start = time.monotonic()
        while time.monotonic() < self.deadline:
            if self.interval:
                time.sleep(max(0.0, start + sent * self.interval - time.monotonic()))
            network = NETWORKS[(number + sent * self.flooders) % len(NETWORKS)]
            email = EMAIL if self.known else f"guess{number}-{sent}@spa.example"
            guess = urlencode({"email": email, "password": f"wrong {sent}", "csrf_token": token})
            headers = {
                "X-Forwarded-For": network,
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "login-flood/1",
            }
            sent += 1
            try:
                status, text, _ = call(self.port, "POST", "/staff/login", headers, guess.encode())
            except (OSError, http.client.HTTPException):
                self.note("no answer")
                continue
            self.note(classify(status, text))

    def note(self, kind: str) -> None:
        with self.lock:
            self.answers[kind] += 1


def classify(status: int, text: str) -> str:
    if status == 200 and "match an active staff account" in text:
        return "200 password checked, refused"
    if status == 429 and "being checked right now" in text:
        return "429 gate (a hash already running)"
    if status == 429:
        return "429 limit (network or account+network)"
    return f"{status} other"


def measure(port: int, seconds: float) -> list[float]:
    """The step's latencies (ms), one request after another, for `seconds`."""
    samples: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, _body, ms = load.request(port, "GET", STEP)
        if status != 200:
            raise RuntimeError(f"GET {STEP} answered {status}")
        samples.append(ms)
    return samples


@contextmanager
def staff_server(args: argparse.Namespace, uri: str, log_dir: Path) -> Iterator[int]:
    """A second gunicorn for /staff/, at nice 10 or SCHED_IDLE (docs/operations.md); its port."""
    port = free_port()
    if args.staff_idle:
        if not shutil.which("chrt"):
            raise RuntimeError("--staff-idle needs chrt (util-linux)")
        lowered = ["chrt", "--idle", "0", "nice", "-n", "19"]
    else:
        lowered = ["nice", "-n", "10"]
    command = [*lowered, sys.executable, "-m", "gunicorn",
               "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
               "--workers", "1"]  # fmt: skip
    log = open(log_dir / "staff.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, cwd=ROOT, env=load.server_env(uri), stdout=log,
                               stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for_port(port, process, "the staff gunicorn")
        yield port
    finally:
        stop_process(process)
        log.close()


@contextmanager
def nginx(quiz_port: int, staff_port: int, log_dir: Path) -> Iterator[int]:
    """Debian's nginx with deploy/nginx.conf's http part and deploy/nginx-quiz.conf."""
    deployed = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    http_level = deployed[: deployed.index("server {")]
    http_level = http_level.replace("/var/cache/nginx/relax-or-fill", str(log_dir / "cache"))
    quiz_upstream = http_level.index("upstream relax_or_fill {")
    staff_upstream = http_level.index("upstream relax_or_fill_staff {")
    http_level = http_level[:staff_upstream].replace(
        "server 127.0.0.1:8000;", f"server 127.0.0.1:{quiz_port};"
    ) + http_level[staff_upstream:].replace(
        "server 127.0.0.1:8000;", f"server 127.0.0.1:{staff_port};"
    )
    assert quiz_upstream < staff_upstream
    port = free_port()
    temp = "\n".join(
        f"{k}_temp_path {log_dir / k};"
        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = log_dir / "nginx.conf"
    config.write_text(
        f"user root; worker_processes auto; daemon off; pid {log_dir / 'nginx.pid'};\n"
        f"error_log {log_dir / 'nginx-error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{ access_log off; {temp}\n{http_level}\n"
        f"server {{ listen 127.0.0.1:{port}; set $quiz_instance {log_dir};\n"
        f"include {ROOT / 'deploy' / 'nginx-quiz.conf'}; }} }}\n",
        encoding="utf-8",
    )
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([binary, "-c", str(config), "-p", str(log_dir),
                                "-e", str(log_dir / "nginx-error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for_port(port, process, "nginx")
        yield port
    finally:
        stop_process(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start-up")
        try:
            status, _body, _ms = load.request(port, "GET", "/healthz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer in 60 s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _flood_main(
    port: int,
    flooders: int,
    rate: float,
    known: bool,
    priority: str,
    under_way: Any,
    stop: Any,
    results: Any,
) -> None:
    """The flood in its own process (an attacker's machine), until told to stop."""
    # The attacker's own CPU is not the server's: sending the flood should not
    # take the cores from the server under test (the generator shares them here).
    if priority == "idle":
        lowest_priority()  # SCHED_IDLE, nice 19 where that is missing
    elif priority == "nice":
        os.nice(19)
    flood = Flood(port, flooders, time.monotonic() + 3600, rate, known)
    flood.start()
    started = time.monotonic()
    while flood.answered() < flooders and time.monotonic() - started < 30:
        time.sleep(0.05)
    under_way.set()
    stop.wait(3600)
    flood.deadline = 0.0  # every flooder stops after its current request
    flood.join()
    results.put(dict(flood.answers))


def run(args: argparse.Namespace) -> str:
    use_settings(args)
    options = load.Options(database="sqlite")
    # The flood runs in a process of its own: threads beside the probe would make
    # the probe wait for its own interpreter lock, counting the load generator's
    # waits as the server's.
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="quiz-flood-") as log_dir, ExitStack() as stack:
        uri = stack.enter_context(load.database(options))
        add_staff(uri)
        server = stack.enter_context(load.gunicorn(uri, args.workers, Path(log_dir)))
        port = server.port
        if args.split:
            staff_port = stack.enter_context(staff_server(args, uri, Path(log_dir)))
            port = stack.enter_context(nginx(server.port, staff_port, Path(log_dir)))
        measure(port, 1.0)  # warm up: templates compiled in both workers
        if args.windows == 1:
            idle_samples = measure(port, args.idle)
        under_way, stop, results = context.Event(), context.Event(), context.Queue()
        priority = flood_priority(args)
        flood_args = (args.flooders, args.rate, args.known, priority, under_way, stop, results)
        process = context.Process(target=_flood_main, args=(port, *flood_args))
        process.start()
        started = time.monotonic()
        try:
            under_way.wait(30)  # until every flooder has had an answer
            if args.windows > 1:
                idle_samples, flood_samples = alternate(port, process.pid, args)
            else:
                flood_samples = measure(port, args.duration)
        finally:
            stop.set()
            answers: Counter[str] = Counter(results.get(timeout=REQUEST_TIMEOUT * 3))
            process.join(REQUEST_TIMEOUT)
        seconds = time.monotonic() - started
        logs = server.log()
        if args.split:
            logs += (Path(log_dir) / "staff.log").read_text(errors="replace")
        tracebacks = logs.count("Traceback (most recent call last)")
    idle, flooded = load.percentiles(idle_samples), load.percentiles(flood_samples)
    return report(args, idle, flooded, answers, seconds, tracebacks)


def alternate(
    port: int, flood_pid: int, args: argparse.Namespace
) -> tuple[list[float], list[float]]:
    """Idle and flood in alternating windows: the idle samples and the flood's.

    The flood process is stopped (SIGSTOP) for each idle window and resumed
    (SIGCONT) for each flood window, so both see the same moments of the
    machine's own noise (on a shared VM the idle p99 alone varied 1.6 to 6 ms
    between runs minutes apart). The first SETTLE seconds of each window are
    not measured: requests sent before the switch are still being answered.
    """
    idle: list[float] = []
    flooded: list[float] = []
    for _ in range(args.windows):
        os.kill(flood_pid, signal.SIGSTOP)
        time.sleep(SETTLE)
        idle.extend(measure(port, args.idle / args.windows))
        os.kill(flood_pid, signal.SIGCONT)
        time.sleep(SETTLE)
        flooded.extend(measure(port, args.duration / args.windows))
    return idle, flooded


def lowest_priority() -> None:
    """This process under SCHED_IDLE (nice 19 first, and where that policy is missing)."""
    os.nice(19 - os.nice(0))
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def flood_priority(args: argparse.Namespace) -> str:
    return "idle" if args.idle_flood else "nice" if args.nice else "normal"


def report(
    args: argparse.Namespace,
    idle: dict[str, float],
    flooded: dict[str, float],
    answers: Counter[str],
    seconds: float,
    tracebacks: int,
) -> str:
    gate = "16 (--no-gate)" if args.no_gate else "1"
    lines = [
        f"gunicorn {args.workers} workers x {args.threads} threads, "
        f"STAFF_PASSWORD_CHECKS_AT_ONCE={gate}, limits in memory://, "
        f"{args.flooders} flooders"
        + (f" at {args.rate:g} sign-ins/s" if args.rate else " as fast as answered")
        + f", {args.duration:g} s",
        f"flood generator: {FLOOD_PRIORITY[flood_priority(args)]}"
        + (
            f"; nginx in front, /staff/ on a gunicorn "
            f"{'under SCHED_IDLE' if args.staff_idle else 'at nice 10'}"
            if args.split
            else ""
        ),
        f"step GET {STEP}"
        + (
            f"; idle and flood in {args.windows} alternating windows each"
            if args.windows > 1
            else "; idle first, then the flood"
        ),
    ]
    for name, p in (("idle", idle), ("under flood", flooded)):
        lines.append(
            f"  {name:<12} {p['count']:>5} requests  p50 {p['p50']} ms  p99 {p['p99']} ms  "
            f"max {p['max']} ms"
        )
    ratios = {q: flooded[q] / idle[q] if idle[q] else float("inf") for q in ("p50", "p99")}
    verdict = "PASS" if max(ratios.values()) <= GOAL else "OVER"
    lines.append(
        f"  ratio        p50 {ratios['p50']:.2f}x  p99 {ratios['p99']:.2f}x  "
        f"(goal: within {GOAL:g}x)  {verdict}"
    )
    total = sum(answers.values())
    lines.append(f"sign-ins answered: {total} in {seconds:.1f} s")
    for kind, count in sorted(answers.items()):
        lines.append(f"  {kind:<42} {count}")
    lines.append(f"tracebacks in gunicorn's log: {tracebacks}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="per worker (1: sync workers)")
    parser.add_argument("--flooders", type=int, default=6, help="threads sending sign-ins")
    parser.add_argument(
        "--nice",
        action="store_true",
        help="send the flood at nice 19, as if from another machine (it shares the cores here)",
    )
    parser.add_argument(
        "--idle-flood",
        action="store_true",
        help="send the flood under SCHED_IDLE: only on CPU the server leaves unused",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="nginx in front (deploy/), /staff/ served by a second gunicorn at nice 10",
    )
    parser.add_argument(
        "--staff-idle",
        action="store_true",
        help="with --split: the staff gunicorn under SCHED_IDLE instead of nice 10",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds under flood")
    parser.add_argument(
        "--windows",
        type=int,
        default=1,
        help="alternate idle and flood this many times (the flood paused by SIGSTOP), "
        "so both see the same machine noise; 1: idle, then flood",
    )
    parser.add_argument("--idle", type=float, default=8.0, help="seconds measured idle")
    parser.add_argument(
        "--known", action="store_true", help="guess the staff email, not unknown ones"
    )
    parser.add_argument("--rate", type=float, default=0.0,
                        help="sign-ins per second in all (0: as fast as answered)")  # fmt: skip
    parser.add_argument("--no-gate", action="store_true",
                        help="STAFF_PASSWORD_CHECKS_AT_ONCE=16: in effect no gate")  # fmt: skip
    args = parser.parse_args(argv)
    if not (0 < args.duration <= 300 and 0 < args.idle <= 300 and 0 < args.flooders <= 64):
        parser.error("--duration and --idle are 0-300 s, --flooders 1-64")
    if args.staff_idle and not args.split:
        parser.error("--staff-idle goes with --split")
    if not 0 <= args.rate <= 10_000:
        parser.error("--rate is 0-10000 sign-ins per second")
    try:
        print(run(args))
    except (OSError, RuntimeError) as err:
        print(f"could not run: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
