"""In-process cost of each quiz step and of a callback (budget: a step ≤ 0.5 ms).

Calls the WSGI app directly (no test client, no network), so the figure is the
server's own work per request. Uses a temporary, migrated SQLite file.

    .venv/bin/python bench/steps.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from quiz import create_app  # noqa: E402
from tests.support.app import base_config  # noqa: E402
from tests.support.patient import valid_callback  # noqa: E402

STEPS = {
    "intro": "/quiz/",
    "concern": "/quiz/concern",
    "area": "/quiz/area?concern=expression",
    "goal": "/quiz/goal?concern=expression&area=between_brows&area=cheeks",
    "result": "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent",
}


def call(app: Any, environ: dict[str, Any]) -> int:
    status: list[str] = []
    body = app(dict(environ), lambda s, h, e=None: status.append(s))
    for _ in body:
        pass
    getattr(body, "close", lambda: None)()
    return int(status[0].split()[0])


def timed(app: Any, environ: dict[str, Any], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        assert call(app, environ) == 200
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(base_config(f"sqlite:///{tmp}/bench.db", TESTING=False, ENV="development"))
        with app.app_context():
            flask_migrate.upgrade()
        print(f"in-process, {args.rounds} rounds each, median and p99 in ms (budget: step ≤ 0.5)")
        for label, url in STEPS.items():
            for hx in (False, True):
                headers = {"HX-Request": "true"} if hx else {}
                environ = EnvironBuilder(path=url, headers=headers).get_environ()
                timed(app, environ, 50)  # warm up
                samples = sorted(timed(app, environ, args.rounds))
                p99 = samples[int(len(samples) * 0.99) - 1]
                kind = "fragment" if hx else "page"
                print(f"  {label:8} {kind:8} {statistics.median(samples):6.3f} {p99:6.3f}")
        client = app.test_client(use_cookies=False)
        forms = [valid_callback(client, name=f"Bench {i}") for i in range(args.rounds // 4)]
        samples = []
        for form in forms:
            environ = EnvironBuilder(path="/quiz/callback", method="POST", data=form).get_environ()
            start = time.perf_counter()
            assert call(app, environ) == 200
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        median = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"  callback (stores a lead) {median:6.3f} ms median, {p99:6.3f} p99")
        print(f"  = {1000 / median:.0f} leads/s on one core")


if __name__ == "__main__":
    main()
