"""Zero loss under load: bench/load.py's harness against gunicorn with 4 workers.

Runs on the suite's database (SQLite, or PostgreSQL with QUIZ_TEST_DATABASE=postgresql;
`make test` runs both). Each of 32 simulated patients fetches a result page for
its form token, then sends the callback form. The runs are bounded by a number
of callbacks and a time limit; the figures themselves are the harness's job
(`bench/load.py`), not asserted here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import create_engine, text

from tests.support.database import TEST_DATABASE

ROOT = Path(__file__).resolve().parent.parent


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


load = _harness()


def run(database_uri: str, **options: object) -> Any:  # the harness's Result
    settings = {"workers": 4, "concurrency": 32, "mode": "callback", "duration": 180, **options}
    # duration is a ceiling: a run stops after its callbacks, in seconds.
    result = load.run(load.Options(database=TEST_DATABASE, database_uri=database_uri, **settings))
    print(load.report(result))  # shown by pytest when a check fails
    return result


def test_every_accepted_callback_is_stored_once_under_load(database_uri: str) -> None:
    result = run(database_uri, callbacks=500)
    assert result.callbacks_sent == 500
    assert result.callbacks_accepted == 500, result.statuses
    assert result.leads_stored == 500
    assert result.missing == [] and result.unexpected == [] and result.duplicates == []
    assert result.partial == []  # each lead came with its two notifications
    assert result.database_locked == 0 and result.tracebacks == 0
    assert not [s for s in result.statuses if s.split()[-1].startswith("5")], result.statuses


def test_a_worker_killed_mid_load_loses_no_acknowledged_lead(database_uri: str) -> None:
    result = run(database_uri, callbacks=300, kill_after=100)
    assert result.worker_killed is not None
    assert result.callbacks_accepted > 100  # the load went on with a new worker
    assert result.missing == []  # no "thank you" without a stored lead
    assert result.duplicates == []  # a resent form found its lead
    assert result.unexpected == []
    assert result.partial == []  # no lead without its outbox rows, nothing half-written
    assert (
        result.callbacks_accepted + result.callbacks_unacknowledged + (result.callbacks_unavailable)
        == result.callbacks_sent
    )
    assert result.database_locked == 0 and result.tracebacks == 0
    engine = create_engine(database_uri)
    try:
        with engine.connect() as conn:
            incomplete = conn.execute(
                text(
                    "SELECT count(*) FROM lead WHERE phone NOT LIKE '+%' "
                    "OR length(consent_text_hash) <> 64 OR consent_text = '' OR outcome = ''"
                )
            ).scalar()
            orphans = conn.execute(
                text("SELECT count(*) FROM outbox WHERE lead_id NOT IN (SELECT id FROM lead)")
            ).scalar()
    finally:
        engine.dispose()
    assert incomplete == 0 and orphans == 0
