"""Waiting for a real signal, with a deadline: never a fixed sleep that hopes.

A test that needs something to be ready (a process's log line, a file's
contents, a row in the database, a page's state) waits for that thing itself:
`wait_until` checks the condition every `interval` and returns as soon as it
holds, and fails with what it waited for once the deadline passes. The
deadline is only a bound for a broken run; a healthy one never reaches it, so
it may be generous for a loaded machine.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

WAIT_SECONDS = 30.0  # the longest any test waits for one signal
T = TypeVar("T")


def wait_until(
    check: Callable[[], T], what: str, *, timeout: float = WAIT_SECONDS, interval: float = 0.05
) -> T:
    """Return `check()`'s first true value; fail after `timeout` seconds saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)  # between two checks of the real condition


def lines_in(path: Path, text: str) -> list[str]:
    """The lines of a file (a log another process writes) that contain `text`."""
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in content.splitlines() if text in line]


def wait_for_lines(
    path: Path, text: str, count: int, *, timeout: float = WAIT_SECONDS
) -> list[str]:
    """Wait until `count` lines of the file at `path` contain `text`; return those lines."""

    def enough() -> list[str]:
        found = lines_in(path, text)
        return found if len(found) >= count else []

    return wait_until(enough, f"{count} line(s) with {text!r} in {path.name}", timeout=timeout)


class ProcessOutput:
    """A child process's output, read line by line in a thread, so a test can wait for one."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            with self._changed:
                self.lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()

    def wait_for(self, text: str, *, count: int = 1, timeout: float = WAIT_SECONDS) -> None:
        """Block until `text` has appeared on `count` lines; fail after `timeout` seconds."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: sum(text in line for line in self.lines) >= count, timeout=timeout
            )
        if not found:
            seen = "".join(self.lines)
            raise AssertionError(
                f"gave up after {timeout:g} s waiting for {text!r}; output:\n{seen}"
            )

    def text(self) -> str:
        """All the output: call it once the process has ended."""
        self._reader.join(WAIT_SECONDS)
        with self._changed:
            return "".join(self.lines)
