"""How long a published content version takes to reach every gunicorn worker.

Starts gunicorn (gunicorn.conf.py, `--workers N`, default 4) on a migrated
SQLite file or PostgreSQL database with the default QUIZ_CONTENT_CHECK_SECONDS
(unless --check-seconds is given). Each round publishes a version with the
first question's first label changed (quiz.content.publishing.publish,
in this process, as `flask content publish` does) and measures, from the
moment the publish's transaction committed, when each worker logged "content
version V served by worker PID" (read from gunicorn's output as it is
written). "All" is the last worker: from then on every worker serves it, which
the script checks by fetching the question over fresh connections. Between
rounds it waits a random part of the interval, so publishes fall at every
phase of the workers' checks.

    .venv/bin/python bench/publish_latency.py                  # 4 workers, 8 rounds, SQLite
    .venv/bin/python bench/publish_latency.py --database postgresql --rounds 8

Prints each round, then min / median / max of the first and the last worker.
Exit status 0, or 2 when it could not run.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import Options, database, server_env  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.content.document import read_document  # noqa: E402
from quiz.content.file import DEFAULT_CONTENT  # noqa: E402
from quiz.content.publishing import latest, publish  # noqa: E402
from quiz.db.engine import db  # noqa: E402
from tests.support.content import load_locales  # noqa: E402

TIMEOUT = 120.0  # no round waits longer for its log lines
BOOTED = re.compile(r"Booting worker with pid: (\d+)")
LABEL = load_locales()["en"].questions[0].options[0].label


class Output:
    """gunicorn's output, each line with the monotonic time it arrived."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.lines: list[tuple[float, str]] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            with self.changed:
                self.lines.append((time.monotonic(), raw.decode(errors="replace")))
                self.changed.notify_all()

    def wait(self, found, what: str) -> object:
        """Block until `found(lines)` is true; return it."""
        with self.changed:
            result = self.changed.wait_for(lambda: found(self.lines), timeout=TIMEOUT)
        if not result:
            tail = "".join(line for _, line in self.lines[-30:])
            raise RuntimeError(f"gave up waiting for {what}; gunicorn said:\n{tail}")
        return result

    def switches(self, version: int) -> dict[int, float]:
        """pid -> when it logged serving `version`."""
        pattern = re.compile(rf"content version {version} served by worker (\d+)\b")
        return {int(m.group(1)): at for at, line in self.lines for m in pattern.finditer(line)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/quiz/concern", headers={"Connection": "close"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def changed_files(folder: Path, label: str) -> Path:
    for name in ("quiz.toml", "quiz.es.toml"):
        text = (DEFAULT_CONTENT.parent / name).read_text(encoding="utf-8")
        if name == "quiz.toml":
            text = text.replace(f'"{LABEL}"', f'"{label}"', 1)
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "quiz.toml"


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:>13}: min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
        f"max {max(values):.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--check-seconds", type=float, help="QUIZ_CONTENT_CHECK_SECONDS")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    pause = random.Random(args.seed)

    with database(Options(database=args.database)) as uri, tempfile.TemporaryDirectory() as tmp:
        env = server_env(uri)
        if args.check_seconds is not None:
            env["QUIZ_CONTENT_CHECK_SECONDS"] = f"{args.check_seconds:g}"
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                   "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}"]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = Output(process)
        operator = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
        interval = float(
            env.get("QUIZ_CONTENT_CHECK_SECONDS", operator.config["CONTENT_CHECK_SECONDS"])
        )
        try:
            output.wait(
                lambda lines: sum(bool(BOOTED.search(line)) for _, line in lines) >= args.workers,
                "the workers to boot",
            )
            pids = {int(m.group(1)) for _, line in output.lines for m in BOOTED.finditer(line)}
            output.wait(lambda _: set(output.switches(1)) >= pids, "every worker on version 1")
            print(
                f"gunicorn -c gunicorn.conf.py --workers {args.workers} ({args.database}), "
                f"QUIZ_CONTENT_CHECK_SECONDS={interval:g}; seconds from the publish's commit:"
            )
            firsts, lasts = [], []
            for round_number in range(1, args.rounds + 1):
                time.sleep(pause.uniform(0, interval))  # a random phase of the workers' checks
                label = f"Lines when I smile (round {round_number})"
                with operator.app_context():
                    based_on = latest().id  # type: ignore[union-attr]
                    row = publish(
                        read_document(changed_files(Path(tmp), label)),
                        author="cli",
                        note=f"publish_latency round {round_number}",
                        based_on=based_on,
                        languages=operator.extensions["quiz_languages"],
                    )
                    committed = time.monotonic()
                    db.session.remove()
                version = row.id
                output.wait(lambda _, v=version: set(output.switches(v)) >= pids, f"v{version}")
                times = sorted(at - committed for at in output.switches(version).values())
                pages = [page(port) for _ in range(3 * args.workers)]
                assert all(label in p and LABEL not in p for p in pages), "a worker served old"
                firsts.append(times[0])
                lasts.append(times[-1])
                each = " ".join(f"{t:.2f}" for t in times)
                print(f"  round {round_number}: version {version}, workers {each}", flush=True)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            with operator.app_context():
                db.engine.dispose()
    print(summary("first worker", firsts))
    print(summary("every worker", lasts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
