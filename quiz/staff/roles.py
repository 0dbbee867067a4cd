"""Staff roles, least privilege: what a desk account may do, and what needs an admin.

- "desk" works leads: the list, a lead's page, its status and note.
- "admin" also exports leads (CSV, Excel), erases a lead, sees the Deliveries
  page and retries a delivery, and sees the funnel.

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

from quiz.staff import bp
from quiz.staff.helpers import error_page
from quiz.storage.models import StaffUser

DESK, ADMIN = "desk", "admin"  # quiz.storage.models.STAFF_ROLES
EDIT_CONTENT = "edit the quiz's content"  # the editor's pages, for admins only

View = TypeVar("View", bound=Callable[..., Any])


def is_admin(staff: StaffUser | None) -> bool:
    """True for a signed-in admin account; a desk account, or nobody, is not."""
    return staff is not None and staff.role == ADMIN


bp.add_app_template_global(is_admin, "staff_is_admin")


def admin_required(action: str) -> Callable[[View], View]:
    """Let only admins run the view; a desk account gets 403 saying it can't `action`.

    `action` completes "Your account can't …", e.g. "export leads". The check
    runs before the view does anything (no query, no audit entry, no change).
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def admin_only(*args: Any, **kwargs: Any) -> Any:
            if not is_admin(g.get("staff")):
                return error_page(403, f"Your account can't {action}; ask an admin.")
            return view(*args, **kwargs)

        return admin_only  # type: ignore[return-value]

    return decorate
