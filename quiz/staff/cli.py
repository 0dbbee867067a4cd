"""`flask staff create|set-password|set-role|set-clinician|enable|disable|list`: accounts.

There is no default account and no sign-up page: the operator creates each
account here. The password comes from a hidden prompt (asked twice) on a
terminal, or from the first line of standard input otherwise, so scripts can
pipe it in without putting it on the command line.

Roles (`quiz.staff.roles`): "desk" works leads; "admin" also exports, erases,
sees deliveries and the funnel; "clinical" works leads and approves the quiz's
medical content, with the name and credential patients read (`--name`,
`--credential`, `set-clinician`). `create` makes a desk account unless told
`--role admin`, the first account included: the safe mistake is an account
that can do too little, and the operator, who can export and purge from this
command line anyway, grants admin explicitly. `set-role` does not end the
account's sessions: the role is read from the database on every request, so
the change applies at the account's next request (a demoted admin's next
export is refused) and nobody is signed out mid-call.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, null, select

from quiz.core.clock import iso, utcnow
from quiz.db import audit
from quiz.db.engine import DatabaseGroup, db, write_transaction
from quiz.db.models import STAFF_ROLES, Spa, StaffUser
from quiz.db.scope import DEFAULT_SPA_ID
from quiz.staff.passwords import PasswordRejected, check_password, hash_password

staff_cli = DatabaseGroup(
    "staff",
    help="Manage staff accounts and their roles (there is no default account).",
    install_wide=True,  # an email names one account, whichever spa it works for
)
ROLE_HELP = (
    "desk: the lead list and lead pages, status and notes. "
    "admin: also exports, erasure, deliveries and the funnel. "
    "clinical: works leads as desk does and approves the quiz's medical content "
    "(needs --name and --credential). "
    "agency: belongs to no spa; an admin in every spa, one at a time, with the cross-spa report."
)
ROLE = click.Choice(STAFF_ROLES, case_sensitive=False)
_ROLE_WORDS = {
    "desk": "desk: works leads; `flask staff set-role EMAIL admin` to let it export and erase",
    "admin": "admin: can also export, erase, and see deliveries and the funnel",
    "clinical": "clinical: works leads and approves the quiz's medical content",
    "agency": "agency: an admin in every spa, with the spa switcher and the cross-spa report",
}
NAME_LENGTH = 120  # StaffUser.name and .credential
NAME = click.option(
    "--name", default=None, help='A clinical account\'s name as patients read it ("Dr. Ana Ruiz").'
)
CREDENTIAL = click.option(
    "--credential", default=None, help='Its credential ("MD, medical director").'
)


def _words(value: str | None, option: str) -> str:
    """A name or credential for patients: one line of printable text, up to NAME_LENGTH."""
    text = " ".join((value or "").split())
    if len(text) > NAME_LENGTH:
        raise click.BadParameter(f"at most {NAME_LENGTH} characters", param_hint=option)
    if any(not ch.isprintable() for ch in text):
        raise click.BadParameter("only printable characters", param_hint=option)
    return text


def _clinician_words(role: str, name: str | None, credential: str | None) -> dict[str, str]:
    """--name and --credential, both required for a clinical account (patients read them)."""
    words = {"name": _words(name, "--name"), "credential": _words(credential, "--credential")}
    if role == "clinical":
        for option, text in words.items():
            if not text:
                raise click.UsageError(
                    f"a clinical account needs --{option}: patients read "
                    '"Reviewed by <name>, <credential>, on <date>" under their result'
                )
    return words


def _email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as err:
        raise click.BadParameter(f"{value!r} is not an email address: {err}") from None


def _read_password(email: str) -> str:
    """A password that passes the rules: hidden prompt on a TTY, else stdin's first line."""
    if sys.stdin.isatty():
        password = click.prompt(
            "New password (8+ characters; a few unrelated words work well)",
            hide_input=True,
            confirmation_prompt="Repeat the password",
        )
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_password(password, email=email, spa_name=current_app.config.get("SPA_NAME", ""))
    except PasswordRejected as err:
        raise click.ClickException(str(err)) from None
    return password


def _find(email: str) -> StaffUser:
    staff = db.session.execute(
        select(StaffUser).where(func.lower(StaffUser.email) == email)
    ).scalar_one_or_none()
    if staff is None:
        raise click.ClickException(f"No staff account for {email}. `flask staff list` shows them.")
    return staff


@staff_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=ROLE,
    default="desk",
    show_default=True,
    help=ROLE_HELP + " Without --role every account, the first too, is desk.",
)
@NAME
@CREDENTIAL
@click.option(
    "--spa",
    "spa_slug",
    default="",
    help="The spa the account works for (`flask spas list`); without it, the default spa.",
)
def create_command(
    email: str, role: str, name: str | None, credential: str | None, spa_slug: str
) -> None:
    """Create a staff account; the password is asked for (or read from stdin).

    A desk account unless `--role admin`: give admin only to those who export and erase.
    `--role clinical --name "Dr. Ana Ruiz" --credential "MD, medical director"`
    makes the account that approves the quiz's medical content.
    """
    email = _email(email)
    words = _clinician_words(role, name, credential)
    if role == "agency" and spa_slug:
        raise click.BadParameter("an agency account works every spa; leave --spa out",
                                 param_hint="--spa")  # fmt: skip
    spa_id = None if role == "agency" else _spa_id(spa_slug)
    exists = db.session.execute(
        select(StaffUser.id).where(func.lower(StaffUser.email) == email)
    ).first()
    if exists:
        raise click.ClickException(
            f"{email} already has an account; use `flask staff set-password {email}`."
        )
    password_hash = hash_password(_read_password(email))
    with write_transaction() as tx:
        staff = StaffUser(
            email=email,
            password_hash=password_hash,
            active=True,
            created_at=utcnow(),
            role=role,
            # null(), not None: None would let the column's default put it in a spa.
            spa_id=null() if spa_id is None else spa_id,
            **words,
        )
        tx.add(staff)
        tx.flush()
        detail: dict[str, Any] = {"staff_id": staff.id, "role": role}
        if role == "clinical":
            detail |= words
        audit.record(tx, "staff_create", actor=audit.CLI_ACTOR, detail=detail, spa_id=spa_id)
    works_for = f" for the spa {spa_slug}" if spa_slug else ""
    click.echo(
        f"Created staff account {email}{works_for} ({_ROLE_WORDS[role]}). Sign in at /staff/login."
    )


def _spa_id(slug: str) -> int:
    """The id of the live spa `slug` ("": the default spa); a message for any other."""
    if not slug:
        return DEFAULT_SPA_ID
    spa = db.session.execute(select(Spa).where(Spa.slug == slug)).scalar_one_or_none()
    if spa is None or spa.id == DEFAULT_SPA_ID:
        raise click.ClickException(
            f"--spa {slug!r}: there is no spa with that slug (`flask spas list` shows them). "
            "Nothing was created."
        )
    if spa.disabled_at is not None:
        raise click.ClickException(f"--spa {slug!r} is disabled. Nothing was created.")
    return spa.id


@staff_cli.command("set-password")
@click.argument("email")
def set_password_command(email: str) -> None:
    """Set a new password; every session of the account ends."""
    staff = _find(_email(email))
    password_hash = hash_password(_read_password(staff.email))
    _change(staff, "staff_password", password_hash=password_hash, end_sessions=True)
    click.echo(f"Password changed for {staff.email}; its sessions have ended.")


@staff_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable an account: it cannot sign in and its sessions end now."""
    staff = _find(_email(email))
    _change(staff, "staff_disable", active=False, end_sessions=True)
    click.echo(f"Disabled {staff.email}; its sessions have ended.")


@staff_cli.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Enable a disabled account again (its old sessions stay ended)."""
    staff = _find(_email(email))
    _change(staff, "staff_enable", active=True)
    click.echo(f"Enabled {staff.email}.")


@staff_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE)
def set_role_command(email: str, role: str) -> None:
    """Make an account desk, admin or clinical; it applies at the account's next request.

    Its sessions do not end: the role is checked on every request. A clinical
    account needs a name and a credential (`set-clinician`) before it approves.
    """
    staff = _find(_email(email))
    if staff.role == role:
        click.echo(f"{staff.email} is already {role}; nothing changed.")
        return
    if "agency" in (role, staff.role):
        # An agency account belongs to no spa, the others to one: not a role's change.
        raise click.ClickException(
            "set-role does not move an account between one spa and every spa: create an "
            "agency account with `flask staff create EMAIL --role agency`, and disable this one"
            " if it should go. Nothing changed."
        )
    _change(staff, "staff_role", detail={"role": role, "was": staff.role}, role=role)
    click.echo(f"{staff.email} is now {_ROLE_WORDS[role]}. It applies at its next request.")
    if role == "clinical" and not (staff.name and staff.credential):
        click.echo(
            f"Before it can approve, give it the name and credential patients read: "
            f"`flask staff set-clinician {staff.email} --name … --credential …`."
        )


@staff_cli.command("set-clinician")
@click.argument("email")
@click.option("--name", required=True, help='The name patients read ("Dr. Ana Ruiz").')
@click.option("--credential", required=True, help='Its credential ("MD, medical director").')
def set_clinician_command(email: str, name: str, credential: str) -> None:
    """Set the name and credential patients read under an approved result.

    Approvals already given keep the words they were given with.
    """
    staff = _find(_email(email))
    words = _clinician_words("clinical", name, credential)
    _change(staff, "staff_clinician", detail=dict(words), **words)
    click.echo(f"{staff.email} now signs as {words['name']}, {words['credential']}.")


def _change(
    staff: StaffUser,
    action: str,
    *,
    end_sessions: bool = False,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """Set `values` on the account, end its sessions if asked, audit it: one transaction."""
    with write_transaction() as tx:
        staff = tx.merge(staff)
        for name, value in values.items():
            setattr(staff, name, value)
        if end_sessions:
            staff.session_version += 1
        entry = {"staff_id": staff.id, **(detail or {})}
        audit.record(tx, action, actor=audit.CLI_ACTOR, detail=entry, spa_id=staff.spa_id)


@staff_cli.command("list")
def list_command() -> None:
    """List staff accounts: email, role, state, created, last sign-in (UTC)."""
    rows = db.session.execute(select(StaffUser).order_by(StaffUser.email)).scalars().all()
    slugs = {spa_id: slug for spa_id, slug in db.session.execute(select(Spa.id, Spa.slug))}
    if not rows:
        click.echo(
            "No staff accounts yet. Create one with `flask staff create EMAIL --role admin`."
        )
        return
    width = max(len(s.email) for s in rows)
    for staff in rows:
        state = "active" if staff.active else "disabled"
        last = _when(staff.last_login_at) or "never signed in"
        click.echo(
            f"{staff.email:<{width}}  {staff.role:<8}  {state:<8}  "
            f"created {_when(staff.created_at)}  {last}"
            + (f"  ({staff.name}, {staff.credential})" if staff.role == "clinical" else "")
            + (
                f"  spa {slugs.get(staff.spa_id)}"
                if staff.spa_id not in (None, DEFAULT_SPA_ID)
                else ""
            )
        )


def _works_for(staff: StaffUser, slugs: dict[int, str]) -> str:
    """A spa's account says which spa; the default spa's and agency accounts say nothing more."""
    if staff.spa_id in (None, DEFAULT_SPA_ID):
        return ""
    return f"  spa {slugs.get(staff.spa_id, staff.spa_id)}"


def _when(moment: datetime | None) -> str:
    return iso(moment)
