"""Staff passwords: the length rule, the common-password check, scrypt hashes.

NIST SP 800-63B and OWASP: at least 8 characters, long passphrases allowed, no
composition rules (they push people to `Password1!`), and refuse the passwords
attackers try first. The list of those is zxcvbn's 30,000 most common
passwords (from leaked password corpora), shipped inside the zxcvbn package,
so the check needs no network. Hashes are Werkzeug's scrypt with OWASP's
parameters (`STAFF_PASSWORD_METHOD`, N=2**17, r=8, p=1); the parameters are
stored in each hash, so raising them later keeps old hashes verifiable.

Checking a password runs scrypt in a helper process (one per worker process
and priority): Python's scrypt holds the interpreter lock for its whole
~0.3 s, so in the worker itself it would freeze every other request that
worker serves, the quiz's included. In the helper, the worker's thread only
waits. A lone sign-in is checked at normal priority; during a flood (the gate
in signin.py says when) checks run in a second helper at the lowest CPU
priority, so a flood gets only the CPU the quiz does not need, while the front
desk on a merely busy machine is not starved (nice 19 behind two busy
processes made one check take 15-30 s).

A sign-in naming an unknown email computes no hash: it waits as long as a
real check took. Spending a real scrypt there (Django's way) makes timing tell
nothing, but it also makes every made-up email a CPU lever: a flood of them
from rotating networks is a flood of 128 MB hashes, which slowed the quiz's
slowest requests 2-6x however low the helper's priority (bench/README.md,
"Sign-in flood"). The wait is drawn from the durations of this process's
recent real checks (the first one is timed on a dummy hash, and so is one
whenever no check was timed for RETIME_SECONDS), so its time follows the real
ones, load included, and it holds the same gate slot. What
is left to an attacker is the server's CPU load itself, a signal far noisier
than the response time and one she could only read by loading it.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

# Checked as well as the common list: what someone setting up this app might try.
_CONTEXT_WORDS = ("relaxorfill", "relax or fill", "medspa", "med spa", "staff", "password")


class PasswordRejected(ValueError):
    """The password breaks a rule; the message says which, in plain words."""


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, lower-cased (loaded on first use)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, email: str = "", spa_name: str = "") -> None:
    """Raise PasswordRejected unless the password may be used."""
    config = current_app.config
    low, high = config["STAFF_PASSWORD_MIN_LENGTH"], config["STAFF_PASSWORD_MAX_LENGTH"]
    if len(password) < low:
        raise PasswordRejected(f"The password must be at least {low} characters long.")
    if len(password) > high:
        raise PasswordRejected(f"The password must be at most {high} characters long.")
    folded = password.strip().lower()
    if folded in common_passwords():
        raise PasswordRejected(
            "That password is one of the most common passwords; attackers try those first. "
            "A few unrelated words make a strong one that is easy to remember."
        )
    if len(set(folded)) < 3:
        raise PasswordRejected("The password repeats too few different characters.")
    local = email.lower().split("@", 1)[0]
    context = {w for w in (*_CONTEXT_WORDS, email.lower(), local, spa_name.lower()) if w}
    squeezed = folded.replace(" ", "")
    if folded in context or squeezed in {w.replace(" ", "") for w in context}:
        raise PasswordRejected("The password must not be your email address or the spa's name.")


def hash_password(password: str) -> str:
    """An scrypt hash of the password with the configured parameters."""
    return generate_password_hash(password, method=current_app.config["STAFF_PASSWORD_METHOD"])


LOW_PRIORITY_NICE = 19
_pools: dict[bool, ProcessPoolExecutor] = {}  # low_priority -> this process's helper
_pool_pid = 0
_pool_lock = threading.Lock()


def _checker(low_priority: bool = False) -> ProcessPoolExecutor:
    """This process's helper for checks at that priority (a forked worker makes its own)."""
    global _pool_pid
    with _pool_lock:
        if _pool_pid != os.getpid():
            _pools.clear()  # a forked child's copies of the parent's helpers are not its own
            _pool_pid = os.getpid()
        if low_priority not in _pools:
            size = current_app.config["STAFF_PASSWORD_CHECKS_AT_ONCE"]
            # spawn: the helper starts clean, without the worker's threads and sockets.
            context = multiprocessing.get_context("spawn")
            nice = LOW_PRIORITY_NICE if low_priority else 0
            _pools[low_priority] = ProcessPoolExecutor(
                max_workers=size, mp_context=context, initializer=os.nice, initargs=(nice,)
            )
        return _pools[low_priority]


def _started(low_priority: bool) -> bool:
    with _pool_lock:
        return _pool_pid == os.getpid() and low_priority in _pools


# With no real check for this long, the next unknown email times a dummy one again, so
# the wait follows the machine's load (one hash per worker per interval at most).
RETIME_SECONDS = 600.0


class CheckTimes:
    """How long an app's recent real checks took, in seconds (a wait is drawn from them).

    Held by the app's sign-in gate (quiz.staff.signin.PasswordGate) and read
    and written under the gate's one lock. The helper processes above are the
    worker process's own, shared by its apps: an OS resource, not app state.
    """

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._recent: deque[float] = deque(maxlen=32)
        self._last = 0.0  # time.monotonic() of the newest of them
        self._count = 0  # how many checks were timed

    def add(self, seconds: float) -> None:
        with self._lock:
            self._recent.append(seconds)
            self._last = time.monotonic()
            self._count += 1

    def recent(self) -> tuple[list[float], int, bool]:
        """The recent durations, how many were ever timed, and whether the newest is fresh."""
        with self._lock:
            fresh = time.monotonic() - self._last < RETIME_SECONDS
            return list(self._recent), self._count, fresh

    def count(self) -> int:
        with self._lock:
            return self._count


def _check(password_hash: str, password: str, times: CheckTimes, low_priority: bool) -> bool:
    # A helper's first check includes starting it: not what a check takes, so not kept.
    starting = not _started(low_priority)
    started = time.perf_counter()
    ok = _checker(low_priority).submit(check_password_hash, password_hash, password).result()
    if not starting:
        times.add(time.perf_counter() - started)
    return ok


def verify_password(
    password_hash: str, password: str, *, times: CheckTimes, low_priority: bool = False
) -> bool:
    """True when the password matches the hash (checked in a helper process, and timed)."""
    return _check(password_hash, password, times, low_priority)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def burn_verification_time(password: str, *, times: CheckTimes, low_priority: bool = False) -> None:
    """Take as long as a real check, without computing one (see the module docstring).

    Until a check has been timed in this process, or when none was for
    RETIME_SECONDS, it checks a dummy hash instead (twice if the helper has to
    start first): that takes the real time, and times it.
    """
    recent, timed, fresh = times.recent()
    if recent and fresh:
        time.sleep(random.choice(recent))
        return
    method = current_app.config["STAFF_PASSWORD_METHOD"]
    while times.count() == timed:
        _check(_dummy_hash(method), password, times, low_priority)
