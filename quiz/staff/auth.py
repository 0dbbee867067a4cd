"""Staff sign-in and sessions.

The session is Flask's signed cookie (`staff_session`, path /staff, HttpOnly,
SameSite=Lax, Secure outside development). It holds the staff id, the
account's `session_version`, when it signed in and when it was last seen.
Every staff request checks it against the database:
- an account that was disabled, or whose password changed, has a new
  `session_version`, so its sessions everywhere end at their next request;
- signing out bumps the version too, so a copied cookie dies with it (this
  signs the account out on every computer, which is the safe reading of
  "sign out" on a shared front-desk machine);
- a session unused for `STAFF_IDLE_TIMEOUT_MINUTES`, or older than
  `STAFF_SESSION_MAX_HOURS`, ends.
At sign-in the old session is cleared and a new one is written (with a new
CSRF token), so nothing from before sign-in carries over.

Sign-in is guarded by `quiz.staff.signin`, which says what each limit stops:
- failed sign-ins per account from one network (STAFF_LOGIN_ACCOUNT_RATE_LIMIT)
  stop a guesser, while the owner on their own network still signs in;
- failed sign-ins per network (STAFF_LOGIN_RATE_LIMIT) stop one network trying
  many accounts;
- failed sign-ins per account from all networks (STAFF_LOGIN_ACCOUNT_ALERT_LIMIT)
  lock nothing: crossing it alerts staff once (audit "login_alert" and an email).
The attempt is counted in the limit store before the password is hashed (a
right password gives it back, so a staff member who types it right is never
slowed down), at most STAFF_PASSWORD_CHECKS_AT_ONCE hashes run at once per
worker (a few more wait in a short line; 429 with Retry-After beyond it), and
sign-in is refused (503) while the limit store is unreachable.

Why not Flask-Login: it would replace the ~25 lines that load the account
from the session (`_session_staff`, `current_staff`), and nothing else we
need. Ending every session at a password change, a disable or a sign-out
(`session_version`), the idle and absolute timeouts and the /staff-only cookie
are not in it and would be written on top of its user_loader anyway, while
its remember-me cookie and "session protection" (which signs the front desk
out when the spa's address changes) would have to be switched off. One
dependency and two models of a session for 25 lines is not a trade worth making.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select

from quiz.core.clock import utcnow
from quiz.db import audit, scope
from quiz.db.engine import db, write_transaction
from quiz.db.models import StaffUser
from quiz.staff import bp, passwords, signin
from quiz.staff.forms import EmptyForm, LoginForm

PUBLIC_ENDPOINTS = {"staff.login"}
SIGNED_OUT_REASONS = {
    "idle": "You were signed out after a while without activity. Please sign in again.",
    "expired": "Your session reached its time limit. Please sign in again.",
    "revoked": "Your session was ended (account changed or signed out elsewhere).",
    "signed_out": "You are signed out.",
}
TOUCH_EVERY_SECONDS = 30  # rewrite the cookie's "last seen" at most this often


def current_staff() -> StaffUser:
    """The signed-in staff member (views run only after `require_staff` let them in)."""
    return g.staff


def signed_in_staff() -> StaffUser | None:
    """The staff member whose valid session this request carries, outside the staff blueprint."""
    return _session_staff()[0]


def _session_staff() -> tuple[StaffUser | None, str]:
    """The staff member this session belongs to, or None and why it is not valid."""
    staff_id = session.get("staff_id")
    if staff_id is None:
        return None, ""
    config = current_app.config
    now = time.time()
    if now - float(session.get("seen", 0)) > config["STAFF_IDLE_TIMEOUT_MINUTES"] * 60:
        return None, "idle"
    if now - float(session.get("since", 0)) > config["STAFF_SESSION_MAX_HOURS"] * 3600:
        return None, "expired"
    with scope.spa_scope(scope.ALL_SPAS):  # the account first, whichever spa it works for
        staff = db.session.get(StaffUser, staff_id)
    if staff is None or not staff.active or staff.session_version != session.get("v"):
        return None, "revoked"
    return staff, ""


@bp.before_request
def require_staff() -> Response | None:
    """Let only a signed-in, active staff member through; send anyone else to sign in."""
    staff, why = _session_staff()
    if why:
        session.clear()
    g.staff = staff
    if staff is None:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        return _to_login(why)
    # Everything this request reads or writes is the account's spa's, and only
    # that (quiz/db/scope.py); the spa layer (quiz/spas/paths.py) ends it.
    scope.enter(staff.spa_id or _agency_spa())
    now = time.time()
    if now - float(session.get("seen", 0)) > TOUCH_EVERY_SECONDS:
        session["seen"] = int(now)
    return None


AGENCY_SPA = "spa"  # the session key: the spa an agency account works on now


def _agency_spa() -> int:
    """The spa an agency account chose with the switcher (quiz.spas); the default spa at first."""
    chosen = session.get(AGENCY_SPA)
    return chosen if isinstance(chosen, int) and chosen > 0 else scope.DEFAULT_SPA_ID


def _to_login(why: str) -> Response:
    args = {"why": why} if why else {}
    if request.method == "GET":
        args["next"] = request.full_path.rstrip("?")
    target = url_for("staff.login", **args)
    if "HX-Request" in request.headers:
        # htmx follows HX-Redirect with a full page load; the body is a fallback.
        response = make_response(render_template("staff/_signed_out.html", login_url=target), 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def safe_next(target: str | None) -> str:
    """Only a path inside the staff area; anything else goes to the lead list.

    A line break or any other control character (a header-splitting attempt,
    or a pasted link gone wrong) means the default, never a 500.
    """
    default = url_for("staff.leads")
    if not target or not target.isprintable():
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(bp.url_prefix + "/"):
        return default
    if "\\" in target or target.startswith("//"):
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """The sign-in page; on success, a fresh session and the page asked for."""
    if g.staff is not None and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    message = SIGNED_OUT_REASONS.get(request.args.get("why", ""), "")
    error = ""
    if form.validate_on_submit():
        try:
            staff = _check_credentials(form.email.data or "", form.password.data or "")
        except signin.Refused as refused:
            return _refused(form, refused)
        if staff is not None:
            _start_session(staff)
            return redirect(safe_next(request.args.get("next")), 303)
        error = "That email and password don't match an active staff account."
    return render_template(
        "staff/login.html", form=form, message=message, error=error, title="Staff sign-in"
    )


def _refused(form: LoginForm, refused: signin.Refused) -> Response:
    """The sign-in page again, with why it was refused and when to try again."""
    html = render_template(
        "staff/login.html", form=form, message="", error=refused.message, title="Staff sign-in"
    )
    response = make_response(html, refused.status)
    response.headers["Retry-After"] = str(refused.retry_after)
    return response


def _check_credentials(email: str, password: str) -> StaffUser | None:
    """The account if the password is right and it is active; None after a failure.

    Raises signin.Refused, before any hash, when the gate is full, a limit is
    used up or the limit store is unreachable. Install-wide: an email names
    one account, whichever spa it works for (its audit entries are its spa's).
    """
    with scope.spa_scope(scope.ALL_SPAS):
        return _checked(email, password)


def _checked(email: str, password: str) -> StaffUser | None:
    email = email.strip().lower()
    gate = signin.gate(current_app)
    with gate.slot():
        low_priority = gate.flooded()  # a lone sign-in is not starved by a busy machine
        reservation = signin.reserve(email)
        staff = db.session.execute(
            select(StaffUser).where(func.lower(StaffUser.email) == email)
        ).scalar_one_or_none()
        if staff is None:
            passwords.burn_verification_time(password, times=gate.times, low_priority=low_priority)
            ok = False
        else:
            ok = passwords.verify_password(
                staff.password_hash, password, times=gate.times, low_priority=low_priority
            )
    if ok and staff is not None and staff.active:
        reservation.give_back()
        with write_transaction() as tx:
            staff = tx.merge(staff)
            staff.last_login_at = utcnow()
            audit.record(tx, "login", staff=staff)
        return staff
    alert = signin.count_failure(email)
    with write_transaction() as tx:
        # The attempted email is only kept when it names a real account.
        audit.record(
            tx,
            "login_failed",
            staff=staff,
            actor=staff.email if staff else "",
            detail={"disabled": True} if ok else {},
        )
        if alert is not None:
            signin.record_alert(tx, staff, alert)
    return None


def _start_session(staff: StaffUser) -> None:
    session.clear()  # nothing from before sign-in survives, including the CSRF token
    now = int(time.time())
    session.update(
        staff_id=staff.id, v=staff.session_version, since=now, seen=now, sid=secrets.token_hex(8)
    )
    g.staff = staff


@bp.post("/logout")
def logout() -> Response:
    """Sign out: end this account's sessions and forget the cookie."""
    form = EmptyForm()
    if form.validate_on_submit():
        with write_transaction() as tx:
            staff = tx.merge(current_staff())
            staff.session_version += 1
            audit.record(tx, "logout", staff=staff)
    session.clear()
    return redirect(url_for("staff.login", why="signed_out"), 303)
