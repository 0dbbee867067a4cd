"""A lead's status changes, and the first contact they record.

`first_contacted_at` is the moment staff first moved the lead out of "new"
(to contacted, booked, closed or do-not-contact): it is set once and never
moved, so a lead put back to "new" and worked again keeps its first time.
It is what the speed report measures and what stops an escalation text.
"""

from __future__ import annotations

from datetime import datetime

from quiz.db.models import Lead


def change_status(lead: Lead, new_status: str, at: datetime) -> None:
    """Give the lead its new status; the first move out of "new" records `at` as first contact."""
    if lead.status == "new" and new_status != "new" and lead.first_contacted_at is None:
        lead.first_contacted_at = at
    lead.status = new_status
