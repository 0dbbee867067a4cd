"""Staff roles, least privilege: what a desk account may do, and what needs an admin.

- "desk" works leads: the list, a lead's page, its status and note.
- "admin" also exports leads (CSV, Excel), erases a lead, sees the Deliveries
  page and retries a delivery, sees the funnel, and edits the quiz's content.
- "clinical" works leads as desk does, reads the content's history and
  approves the medical content (quiz/content/approval.py); it does not
  edit: the person who signs is not the person who wrote.
- "agency" belongs to no spa: it is an admin in every spa, one at a time
  (the switcher, quiz/spas/views.py), and sees the cross-spa report. Every
  other account belongs to one spa and sees only it.

The role lives in `StaffUser.role` and is read from the database on every
request (`auth.require_staff` loads `g.staff` afresh), so `flask staff set-role`
takes effect at the account's next request without ending its sessions. Any
value other than "admin" counts as desk: an unexpected value fails closed.

The server enforces it (`admin_required` on each admin view, answering 403 with
a calm staff page); the templates only hide what a desk account can't use
(`staff_is_admin(g.staff)`), which is a courtesy, not the protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g

from quiz.db.models import StaffUser
from quiz.staff import bp
from quiz.staff.helpers import error_page

DESK, ADMIN, CLINICAL, AGENCY = "desk", "admin", "clinical", "agency"  # models.STAFF_ROLES
EDIT_CONTENT = "edit the quiz's content"  # the editor's pages, for admins only
READ_CONTENT = "see the content's history"  # admins and clinicians
APPROVE_CONTENT = "approve medical content"  # clinicians only

View = TypeVar("View", bound=Callable[..., Any])


def acting_role(staff: StaffUser) -> str:
    """The role the account acts in within the spa it works on: an agency is its admin."""
    return ADMIN if staff.role == AGENCY else staff.role


def is_admin(staff: StaffUser | None) -> bool:
    """True for a signed-in admin (or agency) account; a desk account, or nobody, is not."""
    return staff is not None and acting_role(staff) == ADMIN


def is_agency(staff: StaffUser | None) -> bool:
    return staff is not None and staff.role == AGENCY


def is_clinical(staff: StaffUser | None) -> bool:
    return staff is not None and staff.role == CLINICAL


bp.add_app_template_global(is_admin, "staff_is_admin")
bp.add_app_template_global(is_clinical, "staff_is_clinical")
bp.add_app_template_global(is_agency, "staff_is_agency")


def admin_required(action: str) -> Callable[[View], View]:
    """Let only admins run the view; any other account gets 403 saying it can't `action`.

    `action` completes "Your account can't …", e.g. "export leads". The check
    runs before the view does anything (no query, no audit entry, no change).
    """
    return role_required(action, (ADMIN,), "ask an admin")


def role_required(action: str, roles: tuple[str, ...], ask: str) -> Callable[[View], View]:
    """Let only accounts with one of `roles` run the view; 403 "…can't `action`; `ask`." else."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            staff = g.get("staff")
            if staff is None or not {staff.role, acting_role(staff)} & set(roles):
                return error_page(403, f"Your account can't {action}; {ask}.")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
