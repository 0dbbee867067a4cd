"""Leads per second end to end: wrk opens callback forms and sends them, against gunicorn.

Starts the app under gunicorn (gunicorn.conf.py, `--workers`, production
settings, notifications configured so every lead writes its outbox rows) on
a fresh, migrated database, then runs wrk with a Lua script that does what a
patient's browser does with JavaScript off: GET the callback form for a
result, read its signed token and consent fingerprint, POST it filled in. Each
connection alternates; a token is used once. wrk is written in C, so the
client takes little of the machine's two cores, unlike bench/load.py's Python
patients (which check more: resends, killed workers).

The callback rate limit is raised out of the way (every request comes from
127.0.0.1) but stays on, counted in Redis as production must with several
workers; every other check (token age and signature, origin, consent, the
form's validation, one lead per token) runs as for a patient.

It prints, per round, leads/s, the gunicorn workers' CPU time per lead
(user + system, from /proc: steadier than the rate on a shared machine, and
what a change to the app's code moves), and the form and callback counts,
then the median, and checks: every thanks page is a stored lead, no other status, every
lead has its outbox rows.

    .venv/bin/python bench/leads.py --database sqlite --workers 2 --rounds 3 --seconds 10

Exit status: 0 when every check passed, 1 when one failed, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import Options, database, gunicorn, stored_leads  # noqa: E402

FORM = "/quiz/callback?concern=expression&area=between_brows&area=cheeks&goal=prevent&lang=en"
FIELDS = "concern=expression&area=between_brows&area=cheeks&goal=prevent&lang=en"

LUA = r"""
local queue = {}
local n = 0
local me = ""
local origin = "http://127.0.0.1:" .. os.getenv("LEADS_PORT")
local threads = {}
forms, thanks, other = 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)  -- each thread's patients have names of their own
end

function init(args) me = tostring(id) end

request = function()
  local item = table.remove(queue)
  if item == nil then return wrk.format("GET", "FORM_PATH") end
  n = n + 1
  local body = "FIELDS&token=" .. item[1] .. "&consent_shown=" .. item[2] ..
    "&name=Patient+" .. me .. "-" .. n .. "&phone=%28301%29+810-5740&email=p" .. me .. n ..
    "%40example.com&best_time=morning&consent=yes&website="
  return wrk.format("POST", "/quiz/callback",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = origin}, body)
end

response = function(status, headers, body)
  local token = body:match('name="token" type="hidden" value="([^"]+)"')
  if status == 200 and token then
    local shown = body:match('name="consent_shown" type="hidden" value="([^"]+)"')
    table.insert(queue, {token, (shown:gsub(":", "%%3A"))})
    forms = forms + 1
  elseif status == 200 and body:find('id="thanks"', 1, true) then
    thanks = thanks + 1
  else
    other = other + 1
  end
end

done = function(summary, latency, requests)
  local f, t, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    f = f + thread:get("forms"); t = t + thread:get("thanks"); o = o + thread:get("other")
  end
  io.write(string.format("COUNTS %d %d %d\n", f, t, o))
end
"""


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far (steadier than a rate here)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that was replaced: its time is lost, not miscounted
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def one_round(args: argparse.Namespace, tmp: Path) -> tuple[float, list[str]]:
    """One server on a fresh database: leads/s, and what failed."""
    script = tmp / "leads.lua"
    script.write_text(LUA.replace("FORM_PATH", FORM).replace("FIELDS", FIELDS))
    problems: list[str] = []
    with database(Options(database=args.database)) as uri:
        with gunicorn(
            uri, args.workers, tmp, limits=None if args.redis == "off" else args.redis
        ) as server:
            env = {**os.environ, "LEADS_PORT": str(server.port)}
            command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds:g}s",
                       "-s", str(script), f"http://127.0.0.1:{server.port}"]  # fmt: skip
            workers = server.worker_pids()
            before = cpu_seconds(workers)
            out = subprocess.run(command, capture_output=True, text=True, env=env).stdout
            spent = cpu_seconds(workers) - before
            log = server.log()
        counts = [line for line in out.splitlines() if line.startswith("COUNTS")]
        if not counts:
            raise RuntimeError(f"wrk said:\n{out}")
        forms, thanks, other = (int(x) for x in counts[0].split()[1:])
        names, partial = stored_leads(uri)
    rate = len(names) / args.seconds
    per_lead = spent / max(len(names), 1) * 1000
    print(f"  {rate:6.0f} leads/s   {per_lead:.2f} ms of worker CPU a lead   forms {forms}, "
          f"thanks {thanks}, other {other}, stored {len(names)}")  # fmt: skip
    if other:
        problems.append(f"{other} responses were neither a form nor a thanks page")
    if len(names) != thanks:  # wrk may stop with a request in flight: at most one per connection
        if not 0 <= len(names) - thanks <= args.connections:
            problems.append(f"{thanks} thanks pages but {len(names)} leads stored")
    if len(set(names)) != len(names):
        problems.append("a lead was stored twice")
    if partial:
        problems.append(f"{len(partial)} leads without their outbox rows")
    if "Traceback" in log or "database is locked" in log:
        problems.append("gunicorn's log has a traceback or 'database is locked'")
    return rate, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="more than 1: gthread workers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379",
                        help="where the rate limits count; 'off' switches them off")  # fmt: skip
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    print(f"database {args.database}, gunicorn {args.workers} workers (sync), "
          f"wrk -t2 -c{args.connections} -d{args.seconds:g}s, {args.rounds} rounds")  # fmt: skip
    rates, problems = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="quiz-leads-") as tmp:
            rate, found = one_round(args, Path(tmp))
        rates.append(rate)
        problems += found
    print(f"median {statistics.median(rates):.0f} leads/s")
    for problem in problems:
        print(f"FAIL  {problem}")
    if not problems:
        print("PASS  every thanks page is a stored lead, once, with its outbox rows")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
