"""Sign-in limits, the alert to staff, and the gate in front of the password hash.

A password check (scrypt, OWASP's parameters) takes ~0.25 s of CPU and 128 MB.
Three fixed-window counters in the rate-limit store (RATELIMIT_STORAGE_URI:
Redis in production, shared by every worker and host) decide who may have one:

- STAFF_LOGIN_ACCOUNT_RATE_LIMIT (5 per 15 minutes) counts failed sign-ins for
  one account *from one network* (`client_network`: an IPv4 address or an IPv6
  /64). It stops someone guessing one account's password. A stranger elsewhere
  cannot lock the owner out: her own network has its own count.
- STAFF_LOGIN_RATE_LIMIT (20 per 15 minutes) counts failed sign-ins from one
  network whatever the account: it stops one network trying a few common
  passwords on many accounts.
- STAFF_LOGIN_ACCOUNT_ALERT_LIMIT (50 per hour) counts failed sign-ins for one
  account from every network together. It locks nothing (a lock anyone can
  trigger from anywhere is a way to lock the owner out); the first failure
  beyond it in a window alerts staff once: an audit entry "login_alert" and an
  email to NOTIFY_EMAIL_TO (`quiz.notifications.outbox.queue_staff_alert`), the
  account's own spa's.

Counted before the hash: the two locking counters are incremented (one atomic
INCR each) *before* the password is hashed, and an attempt over either limit is
refused with 429 without a hash. So N concurrent wrong passwords make at most
the limit's hash checks, whichever workers serve them. A right password gives
its reservation back, so signing in successfully never uses up the quota. The
emails typed are not stored in the store's keys, only a digest.

Fail closed: when the store cannot be reached, sign-in is refused (503, "Sign-in
is unavailable for a moment...") and the failure is logged with the exception's
class only. Flask-Limiter's own limits (the callback's) swallow store errors so
a lead is never lost; sign-in calls the store itself so it can refuse instead.

The gate: each worker computes at most STAFF_PASSWORD_CHECKS_AT_ONCE hashes at
a time. A sign-in that finds them taken waits its turn in a short line
(STAFF_PASSWORD_CHECKS_WAITING, at most WAIT_SECONDS): a busy machine makes the
front desk wait, never refuses it. Only one beyond the line (a flood) gets a
429 at once. After a line or a refusal in the last FLOOD_SECONDS, checks run at
the lowest CPU priority; a lone one at normal priority (passwords.py).
Unknown emails wait as long as a hash takes, without computing one, and pass
through the same gate. RATELIMIT_ENABLED=false turns the counters off, not the gate.

The fast 429 (BusySignIn, a WSGI layer: quiz/stack.py puts it inside ProxyFix):
a sign-in POST while every slot and place in line is taken is answered before
Flask builds a request, opens the session, checks CSRF, asks the store or
renders a page, so a flood costs about what parsing it costs (~0.01 ms of CPU
against ~0.22 ms through Flask). Nothing is counted; the answer carries every
header a page here carries (quiz.web.headers).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from markupsafe import escape
from sqlalchemy.orm import Session

from quiz.db import audit, scope
from quiz.db.models import StaffUser
from quiz.notifications import queue_staff_alert
from quiz.staff.passwords import CheckTimes
from quiz.web.extensions import client_network
from quiz.web.headers import security_headers

log = logging.getLogger(__name__)

LIMITED = "Too many failed sign-ins. Please wait a few minutes and try again."
BUSY = "Many sign-ins are being checked right now. Please try again in a few seconds."
UNAVAILABLE = "Sign-in is unavailable for a moment; please try again shortly."
BUSY_RETRY_SECONDS = 3
UNAVAILABLE_RETRY_SECONDS = 10
STORE_TIMEOUT_SECONDS = 2  # a Redis that stops answering refuses sign-in after this long
ALERT_ACTION = "login_alert"

T = TypeVar("T")
_setup = threading.Lock()


class Refused(Exception):
    """Sign-in refused before any password check: the status, the message, Retry-After."""

    def __init__(self, status: int, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


# --- the gate ---------------------------------------------------------------------

WAIT_SECONDS = 20.0  # the longest a sign-in waits in line before a 429
FLOOD_SECONDS = 60.0  # a line or a refusal this recent means a flood: low-priority checks


class PasswordGate:
    """One app's password-check slots, the short line waiting for one, and the checks' times.

    All of its state is this app's (one app per worker process) and is read
    and written under its one lock; the slots are a semaphore of their own.
    """

    def __init__(self, slots: int, waiting: int) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._line = waiting
        self._lock = threading.Lock()
        self._waiting = 0
        self._crowded_at = -math.inf  # time.monotonic() of the last line or refusal
        self.times = CheckTimes(self._lock)  # what an unknown email's wait is drawn from

    @property
    def waiting(self) -> int:
        """How many sign-ins are waiting for a slot right now."""
        with self._lock:
            return self._waiting

    def is_full(self) -> bool:
        """Whether a sign-in arriving now would be refused: every slot and place in line taken."""
        with self._lock:
            if self._waiting < self._line:
                return False
            self._crowded_at = time.monotonic()
        if self._slots.acquire(blocking=False):  # a peek: a free slot is given back
            self._slots.release()
            return False
        return True

    def flooded(self) -> bool:
        """Whether sign-ins queued or were refused within FLOOD_SECONDS."""
        with self._lock:
            return time.monotonic() - self._crowded_at < FLOOD_SECONDS

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot, after waiting in line if need be; Refused(429) when the line is full."""
        if not self._slots.acquire(blocking=False):
            with self._lock:
                self._crowded_at = time.monotonic()
                if self._waiting >= self._line:
                    raise Refused(429, BUSY, BUSY_RETRY_SECONDS)
                self._waiting += 1
            try:
                got = self._slots.acquire(timeout=WAIT_SECONDS)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not got:
                raise Refused(429, BUSY, BUSY_RETRY_SECONDS)
        try:
            yield
        finally:
            self._slots.release()


def gate(app: Flask) -> PasswordGate:
    """This app's password gate (one app per worker process: per worker)."""
    config = app.config

    def make() -> PasswordGate:
        return PasswordGate(
            config["STAFF_PASSWORD_CHECKS_AT_ONCE"], config["STAFF_PASSWORD_CHECKS_WAITING"]
        )

    return _per_app("staff_password_gate", make, app)


# --- the limits -------------------------------------------------------------------


@dataclass
class Reservation:
    """Attempts counted against the locking limits, to give back if the password was right."""

    store: Storage | None = None
    taken: list[tuple[str, int]] = field(default_factory=list)  # (key, window seconds)

    def give_back(self) -> None:
        """Uncount the attempt (a successful sign-in costs nothing)."""
        taken, self.taken = self.taken, []
        if self.store is None:
            return
        for key, expiry in taken:
            try:
                if self.store.incr(key, expiry, amount=-1) < 0:
                    # The window ended in between: the key restarted at -1; put it at 0.
                    self.store.incr(key, expiry)
            except StorageError as err:
                _log_store_error(err, "giving back a sign-in attempt")


def reserve(email: str) -> Reservation:
    """Count this attempt against the network and (account, network) limits before the hash.

    Raises Refused: 429 when either limit is used up, 503 when the store is unreachable.
    """
    if not _limits_on():
        return Reservation()
    store = _store()
    network = client_network()
    reservation = Reservation(store)
    limits = (
        ("STAFF_LOGIN_RATE_LIMIT", "network", (network,)),
        ("STAFF_LOGIN_ACCOUNT_RATE_LIMIT", "account-network", (_account(email), network)),
    )
    try:
        for setting, scope, identifiers in limits:
            item = _item(setting)
            key = _key(item, scope, *identifiers)
            if store.incr(key, item.get_expiry()) > item.amount:
                wait = store.get_expiry(key) - time.time()
                reservation.give_back()
                raise Refused(429, LIMITED, max(1, math.ceil(wait)))
            reservation.taken.append((key, item.get_expiry()))
    except StorageError as err:
        _log_store_error(err, "sign-in refused")
        raise Refused(503, UNAVAILABLE, UNAVAILABLE_RETRY_SECONDS) from None
    return reservation


def count_failure(email: str) -> int | None:
    """Count a failed check for the account from all networks.

    Returns the count when this failure is the first beyond
    STAFF_LOGIN_ACCOUNT_ALERT_LIMIT in its window (staff are alerted once), else None.
    """
    if not _limits_on():
        return None
    item = _item("STAFF_LOGIN_ACCOUNT_ALERT_LIMIT")
    try:
        count = _store().incr(_key(item, "account", _account(email)), item.get_expiry())
    except StorageError as err:
        _log_store_error(err, "failed sign-in not counted for the alert")
        return None
    return count if count == item.amount + 1 else None


def record_alert(session: Session, staff: StaffUser | None, failures: int) -> None:
    """Alert staff in the failure's transaction: the audit entry and the queued email."""
    window = str(_item("STAFF_LOGIN_ACCOUNT_ALERT_LIMIT"))
    account_id = staff.id if staff is not None else None
    account = staff.email if staff is not None else ""
    audit.record(
        session,
        ALERT_ACTION,
        staff=staff,
        actor=account,
        detail={"account_id": account_id, "failures": failures, "limit": window},
    )
    # The account's own spa is alerted, by its own recipients (an agency account,
    # or an address that is no account: the install's, the default spa's).
    spa = staff.spa_id if staff is not None and staff.spa_id else scope.DEFAULT_SPA_ID
    with scope.spa_scope(spa):
        queue_staff_alert(
            session, account_id=account_id, account=account, failures=failures, window=window
        )
    log.warning(
        "sign-in alert: %s failed sign-ins for staff account %s (limit %s)",
        failures, account_id if account_id is not None else "(no such account)", window,
    )  # fmt: skip


# --- the store --------------------------------------------------------------------


def _limits_on() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _store() -> Storage:
    """This app's client of the rate-limit store, raising StorageError when it fails."""
    return _per_app("staff_signin_store", _new_store)


def _new_store() -> Storage:
    config = current_app.config
    uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    options: dict[str, Any] = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if uri.startswith(("redis", "valkey")):
        options.setdefault("socket_timeout", STORE_TIMEOUT_SECONDS)
        options.setdefault("socket_connect_timeout", STORE_TIMEOUT_SECONDS)
    return storage_from_string(uri, wrap_exceptions=True, **options)


def _item(setting: str) -> RateLimitItem:
    return parse(current_app.config[setting])


def _key(item: RateLimitItem, scope: str, *identifiers: str) -> str:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return item.key_for(*([prefix] if prefix else []), f"staff-login-{scope}", *identifiers)


def _account(email: str) -> str:
    """The account's part of a key: a digest of the typed email, not the email itself."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


def _log_store_error(err: StorageError, what: str) -> None:
    # The class only: a store error's text can carry the store's address and password.
    cause = type(getattr(err, "storage_error", err)).__name__
    log.error("%s: the rate-limit store is unreachable (%s)", what, cause)


def _per_app(name: str, make: Callable[[], T], app: Flask | None = None) -> T:
    """One `make()` per app (per worker process), made on first use; current_app by default."""
    extensions = (app or current_app).extensions
    if name not in extensions:
        with _setup:
            if name not in extensions:
                extensions[name] = make()
    return extensions[name]


LOGIN_PATH = "/staff/login"  # the blueprint's prefix and route (a test checks url_for agrees)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BusySignIn:
    """Answers 429 to a sign-in while this worker's gate and its line are full; else passes on."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.gate = gate(app)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") != LOGIN_PATH
            or not self.gate.is_full()
        ):
            return self.wsgi_app(environ, start_response)
        login_url = escape(environ.get("SCRIPT_NAME", "") + LOGIN_PATH)
        body = (
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>Staff sign-in</title>'
            f'<p role="alert">{escape(BUSY)}</p>'
            f'<p><a href="{login_url}">Sign in</a></p></html>'
        ).encode()
        secure = environ.get("wsgi.url_scheme") == "https"
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(BUSY_RETRY_SECONDS)),
            ("Cache-Control", "no-store"),
            *security_headers(self.app, widget=False, secure=secure).items(),
        ]
        start_response("429 TOO MANY REQUESTS", headers)
        return [body]
