"""Throughput of the patient path against a hello-world Flask app, side by side.

Starts two gunicorn servers with the same settings (gunicorn.conf.py, `--workers 2`,
sync): a hello-world Flask app and the quiz (production mode, a migrated SQLite
file). Then runs `wrk -t2 -c16` against hello-world and each patient URL in turn,
`--rounds` times (alternating, so a busy moment on the machine falls on both),
and prints each URL's requests per second and its ratio to hello-world's in the
same round. Design §8 asks every patient step for at least 0.8x.

Hits and misses side by side: each step above is one URL again and again, so
after the first request every one is a render-cache hit. The "(miss)" rows
send every request to a URL the workers have not seen: a wrk Lua script walks
all 1,524 answer sets (the result), or the four concerns (a question), or one
answer set ("result (miss: tags)"), and adds a fresh `utm_content` and `page` to
each request, tracking values that are part of the page. The render cache keeps
a page once per set of tracking keys and fills each request's values in, so a
fresh tag on answers seen before costs a fill, not a render; a new answer set is
a render in Flask (the first time in each worker). The
floor (--floor) is asked of the hits, the figure a patient mostly meets; the
misses are printed beside them for what a first visit costs.

    .venv/bin/python bench/throughput.py                 # 2 rounds of 5 s each
    .venv/bin/python bench/throughput.py --rounds 3 --seconds 10
    .venv/bin/python bench/throughput.py --compare /tmp/before --only "question (area)"

`--compare DIR` serves a second quiz from another checkout of the repository
(say `git worktree add --detach /tmp/before <commit>`, then `make setup`
there): its own code, virtualenv (DIR/.venv when there is one), gunicorn.conf.py
and a SQLite file migrated by its own migrations. Each round then measures
hello-world, this tree and DIR for each URL (the two quiz servers in turn
first), so both ratios come from the same moments; the summary gives both and
this tree's rate over DIR's. `--only NAME` (repeatable) limits the URLs.

Needs wrk (Debian's `wrk` package). Exit status 0 when every step reached
--floor (0.8) of hello-world in the median of its rounds, 1 when one did not,
2 when it could not run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import Options, database, server_env  # noqa: E402

HELLO = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
"""

STEPS = {
    "intro": "/quiz/",
    "question (area)": "/quiz/area?concern=volume",
    "question (htmx)": "/quiz/goal?concern=volume&area=cheeks",
    "result": "/quiz/result?concern=volume&area=cheeks&goal=repair",
    "result + utm": "/quiz/result?concern=expression&area=forehead&area=crows_feet&goal=prevent"
    "&utm_source=newsletter&utm_campaign=spring",
    "widget.js": "/quiz/widget.js?v={bundle}",
}
HTMX = {"question (htmx)"}
# Each request a new URL: which answer sets the Lua script walks (see misses_script).
# Misses: "tags" keeps one answer set per concern or one result, each request with
# fresh tracking values; "answers" walks every result answer set with fresh values.
MISSES = {"question (miss)": "area", "result (miss: tags)": "result-tags",
          "result (miss)": "result"}  # fmt: skip
CONCERNS = ("expression", "etched", "fine_lines", "volume")
AREAS = ("between_brows", "forehead", "crows_feet", "under_nose", "around_mouth", "marionette",
         "cheeks")  # fmt: skip
GOALS = ("prevent", "repair", "both")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def python_of(tree: Path) -> str:
    """The tree's own virtualenv's Python, else this one."""
    own = tree / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


@contextmanager
def server(
    app: str, env: dict[str, str], log: Path, pythonpath: Path, tree: Path = ROOT
) -> Iterator[int]:
    """gunicorn -c gunicorn.conf.py --workers 2 serving `app`; yields its port once it answers."""
    port = free_port()
    command = [python_of(tree), "-m", "gunicorn", "-c", str(tree / "gunicorn.conf.py"),
               "--workers", "2", "--threads", "1", "--bind", f"127.0.0.1:{port}",
               "--pythonpath", str(pythonpath), app]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited at start-up:\n{log.read_text()[-3000:]}")
            try:
                get(port, "/")
                break
            except OSError as err:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not answer:\n{log.read_text()[-3000:]}") from err
                time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def answer_paths(step: str) -> list[str]:
    """Every URL of a step the misses walk: each concern (a question), each answer set (result)."""
    if step == "area":
        return [f"/quiz/area?concern={c}" for c in CONCERNS]
    if step == "result-tags":
        return ["/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent"]
    paths = []
    for concern in CONCERNS:
        for mask in range(1, 2 ** len(AREAS)):
            areas = "".join(f"&area={a}" for i, a in enumerate(AREAS) if mask >> i & 1)
            paths += [f"/quiz/result?concern={concern}{areas}&goal={g}" for g in GOALS]
    return paths


def misses_script(tmp: Path, step: str) -> Path:
    """A wrk script whose every request is a URL not asked before (a fresh utm_content)."""
    paths = answer_paths(step)
    table = ",\n".join(f'  "{p}"' for p in paths)
    script = tmp / f"misses-{step}.lua"
    script.write_text(
        f"local paths = {{\n{table}\n}}\n"
        "local n = 0\n"
        "local me = tostring(math.random(1, 1e9))\n"  # each wrk thread its own prefix
        "request = function()\n"
        "  n = n + 1\n"
        "  local path = paths[(n % #paths) + 1]\n"
        '  local tag = "&utm_content=" .. me .. "-" .. n .. "&page=https://spa.example/p" .. n\n'
        '  return wrk.format("GET", path .. tag)\n'
        "end\n"
    )
    assert len(paths) == {"area": 4, "result-tags": 1}.get(step, 1524)
    return script


def wrk(
    port: int, path: str, seconds: float, htmx: bool = False, script: Path | None = None
) -> float:
    """Requests per second from `wrk -t2 -c16` against one URL (non-2xx/3xx counted as failure)."""
    # Every request says what a browser says about languages (the quiz negotiates on it).
    command = ["wrk", "-t2", "-c16", f"-d{seconds:g}s", "-H", "Accept-Language: en-US,en;q=0.9",
               f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    if htmx:
        command[1:1] = ["-H", "HX-Request: true"]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"{path} answered errors under load:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return float(match.group(1))


def other_tree(tree: Path, tmp: Path, stack: ExitStack) -> int:
    """The quiz of another checkout, on a SQLite file its own migrations made; its port."""
    env = server_env(f"sqlite:///{tmp}/before.db")
    migrated = subprocess.run(
        [python_of(tree), "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=tree, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if migrated.returncode != 0:
        raise RuntimeError(f"{tree}: flask db upgrade failed:\n{migrated.stderr[-3000:]}")
    return stack.enter_context(server("wsgi:app", env, tmp / "before.log", tree, tree))


def step_paths(port: int, only: list[str]) -> dict[str, str]:
    """Each URL to measure (widget.js with the bundle's version this server links)."""
    page = get(port, "/quiz/")[1].decode()
    bundle = re.search(r"widget\.js\?v=([0-9a-f]+)", page)
    version = bundle.group(1) if bundle else ""
    paths = {name: path.format(bundle=version) for name, path in STEPS.items()}
    paths |= {name: answer_paths(step)[-1] for name, step in MISSES.items()}
    order = ["intro", "question (area)", "question (miss)", "question (htmx)", "result"]
    order += ["result (miss: tags)", "result (miss)", "result + utm", "widget.js"]  # misses by hits
    paths = {name: paths[name] for name in order}
    paths = {name: path for name, path in paths.items() if not only or name in only}
    for name, path in paths.items():  # each URL answers, and is warm in both workers
        status, _ = get(port, path, {"HX-Request": "true"} if name in HTMX else None)
        assert status == 200, (name, status)
        if name not in MISSES:
            wrk(port, path, 1, htmx=name in HTMX)
    return paths


def median_line(name: str, rates: list[float], ratios: list[float]) -> str:
    listed = " ".join(f"{r:.2f}" for r in ratios)
    ratio = statistics.median(ratios)
    return f"{name:24} {statistics.median(rates):15.0f} {ratio:14.2f}x   {listed}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--floor", type=float, default=0.8)
    parser.add_argument("--compare", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--only", action="append", default=[], choices=[*STEPS, *MISSES])
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="quiz-throughput-")))
        (tmp / "hello.py").write_text(HELLO)
        uri = stack.enter_context(database(Options(database="sqlite")))
        env = server_env(uri)
        hello = stack.enter_context(server("hello:app", env, tmp / "hello.log", tmp))
        quizzes = {"now": stack.enter_context(server("wsgi:app", env, tmp / "quiz.log", ROOT))}
        if args.compare:
            quizzes["before"] = other_tree(args.compare.resolve(), tmp, stack)
        paths = {which: step_paths(port, args.only) for which, port in quizzes.items()}
        scripts = {name: misses_script(tmp, step) for name, step in MISSES.items()}
        wrk(hello, "/", 1)

        ratios = {(which, name): [] for which in quizzes for name in paths["now"]}
        rates = {key: [] for key in [("hello", "/"), *ratios]}
        print(f"wrk -t2 -c16 -d{args.seconds:g}s; gunicorn -c gunicorn.conf.py --workers 2 (sync)")
        if args.compare:
            print(f"now: {ROOT}; before: {args.compare}")
        for round_number in range(1, args.rounds + 1):
            order = list(quizzes) if round_number % 2 else list(reversed(quizzes))
            for name in paths["now"]:
                base = wrk(hello, "/", args.seconds)
                rates["hello", "/"].append(base)
                line = f"  round {round_number}: hello-world {base:7.0f}/s   {name:16}"
                for which in order:
                    script = scripts.get(name)
                    rate = wrk(
                        quizzes[which], paths[which][name], args.seconds, name in HTMX, script
                    )
                    rates[which, name].append(rate)
                    ratios[which, name].append(rate / base)
                    line += f" {which} {rate:7.0f}/s {rate / base:.2f}x"
                print(line, flush=True)

    print()
    print(f"{'URL':24} {'req/s (median)':>15} {'ratio (median)':>15}   ratios by round")
    print(f"{'hello-world':24} {statistics.median(rates['hello', '/']):15.0f}")
    failed = []
    for name in paths["now"]:
        for which in quizzes:
            label = f"{name} ({which})" if args.compare else name
            print(median_line(label, rates[which, name], ratios[which, name]))
        if name not in MISSES and statistics.median(ratios["now", name]) < args.floor:
            failed.append(name)
        if args.compare:
            direct = [n / b for n, b in zip(rates["now", name], rates["before", name], strict=True)]
            spread = " ".join(f"{d:.2f}" for d in direct)
            print(f"{'  now / before':24} {statistics.median(direct):31.2f}x   {spread}")
    print()
    verdict = "no: " + ", ".join(failed) if failed else "yes"
    print(f"every step (its hits) at least {args.floor:.1f}x hello-world: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
