"""SQLite writers take turns through a lock file, so a waiting writer wakes at once.

Two workers that both want to write meet SQLite's busy handler: the one that
finds the database locked sleeps 1 ms, then 2, then 5…, however soon the
other commits. A callback's write holds the lock for about 0.3 ms, so under
load about one write in four slept a whole millisecond with nothing to do;
more workers made it worse (2 workers 655 leads/s, 4 workers 490, measured
with bench/leads.py --redis off).

Writers here first take an advisory lock on a file beside the database
(`quiz.db-write.lock`): at once when it is free, else by polling with short
pauses (50 µs, doubling up to 1 ms), so a writer starts within a fraction of
a millisecond of the previous one's commit. A thread lock does the same for
the threads of one worker, which share the file (flock is per open file).

The queue is only a speed-up, never what keeps writes safe: SQLite's own lock
(BEGIN IMMEDIATE, busy_timeout) still does. A writer that waits longer than
`PATIENCE_SECONDS` for its turn (another process is stuck, or holds the lock
through a long write) goes ahead without it, to SQLite's own waiting; so does
every writer when the lock file can't be made (a read-only directory).
The kernel drops a dead process's lock, so a crash never leaves the queue stuck.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

PATIENCE_SECONDS = 2.0
FIRST_PAUSE = 0.000_05
LONGEST_PAUSE = 0.001


class WriterQueue:
    """One database file's turn-taking lock, shared by this process's threads."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-write.lock"
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._broken = False

    @contextmanager
    def turn(self) -> Iterator[bool]:
        """Hold this writer's turn for the block; yield whether the turn was had."""
        deadline = time.monotonic() + PATIENCE_SECONDS
        if not self._threads.acquire(timeout=PATIENCE_SECONDS):
            yield False
            return
        try:
            fd = self._file()
            held = fd is not None and _lock(fd, deadline)
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(fd, fcntl.LOCK_UN)  # type: ignore[arg-type]
        finally:
            self._threads.release()

    def _file(self) -> int | None:
        # Opened once per process; a worker forked from a parent that had it
        # open would share the parent's lock, so the pid is checked.
        if self._broken:
            return None
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            except OSError as error:
                log.warning("SQLite writers wait in SQLite's own way: no lock file (%s)", error)
                self._broken = True
                return None
            self._pid = os.getpid()
        return self._fd


def _lock(fd: int, deadline: float) -> bool:
    pause = FIRST_PAUSE
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(database: str | None) -> WriterQueue | None:
    """The queue for an SQLite database file; None in memory (one connection, no rivals)."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    with _queues_lock:
        queue = _queues.get(database)
        if queue is None:
            queue = _queues[database] = WriterQueue(database)
        return queue
