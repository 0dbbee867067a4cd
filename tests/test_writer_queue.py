"""SQLite writers take turns through a lock file (quiz/db/writer_queue.py).

The queue only makes a waiting writer start sooner; what these tests pin is
that it can never stop or lose a write: a turn is held by one writer at a
time, a stuck holder or a lock file that can't be made only sends writers to
SQLite's own waiting, a failed write gives its turn back, and the kernel
drops the turn of a process that dies holding it. Each queue object here has
its own open file, as another worker process would.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from quiz import create_app
from quiz.db import writer_queue
from quiz.db.engine import db, write_transaction
from quiz.db.models import Lead
from quiz.db.writer_queue import WriterQueue
from tests.support.app import base_config
from tests.support.staff import add_lead


@pytest.fixture
def sqlite_app(migrated_sqlite: Path, tmp_path: Path) -> Flask:
    path = tmp_path / "quiz.db"
    shutil.copy(migrated_sqlite, path)
    return create_app(base_config(f"sqlite:///{path}"))


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_queue, "PATIENCE_SECONDS", 0.05)


def store(app: Flask, name: str) -> None:
    """Write a lead as the app does, in a write transaction."""
    lead_id = add_lead(app, name="placeholder")
    with app.app_context(), write_transaction() as tx:
        tx.get(Lead, lead_id).name = name


def lead_names(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(Lead.name)))


def test_one_writer_holds_the_turn_at_a_time(tmp_path: Path, impatient: None) -> None:
    first, second = WriterQueue(str(tmp_path / "q.db")), WriterQueue(str(tmp_path / "q.db"))
    with first.turn() as held:
        assert held
        with second.turn() as also_held:
            assert not also_held  # it waited its patience out, then went on without the turn
    with second.turn() as held:
        assert held  # given back when the first block ended


def test_a_write_asks_for_its_turn_and_gives_it_back(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns: list[bool] = []
    real_lock = writer_queue._lock

    def counting_lock(fd: int, deadline: float) -> bool:
        turns.append(real_lock(fd, deadline))
        return turns[-1]

    monkeypatch.setattr(writer_queue, "_lock", counting_lock)
    store(sqlite_app, "Jane Patient")
    assert turns == [True]
    queue = sqlite_app.extensions["quiz_writer_queue"]
    rival = WriterQueue(queue.path.removesuffix("-write.lock"))
    with rival.turn() as held:
        assert held  # free again once the write committed


def test_a_stuck_holder_delays_a_write_but_never_stops_it(
    sqlite_app: Flask, impatient: None
) -> None:
    queue = sqlite_app.extensions["quiz_writer_queue"]
    holder = os.open(queue.path, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another process that never lets go
        store(sqlite_app, "Jane Patient")
    finally:
        os.close(holder)
    assert lead_names(sqlite_app) == ["Jane Patient"]


def test_a_failed_write_gives_its_turn_back(sqlite_app: Flask, impatient: None) -> None:
    with sqlite_app.app_context(), pytest.raises(RuntimeError, match="changed my mind"):
        with write_transaction():
            raise RuntimeError("changed my mind")
    queue = sqlite_app.extensions["quiz_writer_queue"]
    with WriterQueue(queue.path.removesuffix("-write.lock")).turn() as held:
        assert held


def test_a_lock_file_that_cannot_be_made_leaves_writes_working(
    migrated_sqlite: Path, tmp_path: Path
) -> None:
    path = tmp_path / "quiz.db"
    shutil.copy(migrated_sqlite, path)
    (tmp_path / "quiz.db-write.lock").mkdir()  # something else has the name: open() fails
    app = create_app(base_config(f"sqlite:///{path}"))
    store(app, "Jane Patient")
    store(app, "John Patient")
    assert lead_names(app) == ["Jane Patient", "John Patient"]


def test_the_turn_of_a_process_that_dies_holding_it_is_free(
    tmp_path: Path, impatient: None
) -> None:
    database = str(tmp_path / "q.db")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_SAY, f"{database}-write.lock"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"  # its own signal: it has the turn
    with WriterQueue(database).turn() as held_while_alive:
        pass
    holder.kill()
    holder.wait()
    with WriterQueue(database).turn() as held_after:
        pass
    assert (held_while_alive, held_after) == (False, True)


# Takes the lock, says so, and waits for ever (until killed).
HOLD_AND_SAY = """
import fcntl, os, sys, threading
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
threading.Event().wait()
"""
