"""Clinical sign-off: a version whose medical part is new goes live once a clinician approves it.

The rule, decided once at publish (`needs_approval`): a version needs an
approval when its medical part (quiz/content/medical.py: treatments, products,
outcomes, rules, each answer's why and weights, the explaining copy) differs
from the live version's and no clinician approved that exact medical part
before (a rollback to approved text needs no second signature). Until it is
approved, patients keep seeing the live version; the editor shows it as
awaiting approval. A change to the spa's own words (a button, the consent
sentence) goes live at once and keeps the live version's reviewed line.

Only an active clinical account with a name and a credential approves (in
the editor, or `--approved-by EMAIL` on the CLI), and only the live version or
one newer than it: an older one was replaced before anyone signed it.
Every approval is in the history and the audit log (`content_approve`).
Patients read "Reviewed by <name>, <credential>, on <date>" from the newest
approval of the live version's medical part; nothing before any approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quiz.content import versions as content_versions
from quiz.content.document import ContentDocument, Reviewed
from quiz.content.medical import medical_changes, medical_hash
from quiz.core.clock import utcnow
from quiz.db.audit import record
from quiz.db.engine import db, write_transaction
from quiz.db.models import ContentApproval, ContentVersion, StaffUser

CLINICAL = "clinical"  # quiz.db.models.STAFF_ROLES


class ApprovalRefused(Exception):
    """Said to the person who tried: why this account or this version can't be approved."""


@dataclass(frozen=True)
class VersionState:
    """How the history shows a version: live, awaiting approval, replaced unsigned, or earlier."""

    live: bool
    awaiting: bool  # needs an approval, and may still get one (newer than the live version)
    superseded: bool  # needed one, never got it, and a newer version went live
    approvals: tuple[ContentApproval, ...]


def hash_of(row: ContentVersion) -> str:
    """The version's medical fingerprint (computed for versions stored before 0008)."""
    return row.medical_hash or medical_hash(ContentDocument.from_json(row.document))


def live_id() -> int | None:
    """The number of the version patients see."""
    return content_versions.live_id(db.session)


def live(session: Session | None = None) -> ContentVersion | None:
    session = session or db.session
    found = content_versions.live_id(session)
    return None if found is None else content_versions.get(session, found)


def needs_approval(session: Session, fingerprint: str) -> bool:
    """True when a medical part (its medical_hash) is neither the live one nor approved before."""
    current = live(session)
    if current is not None and hash_of(current) == fingerprint:
        return False
    return content_versions.approval_for(session, fingerprint) is None


def changes_from_live(document: ContentDocument) -> list[str]:
    """The medical keys `document` changes from what patients see ("en: treatments.relax.lasts")."""
    current = live()
    before = ContentDocument.from_json(current.document) if current is not None else None
    return medical_changes(before, document)


def draft_needs_approval(document: ContentDocument) -> bool:
    """Would publishing `document` now wait for a clinician? (The review page says so.)"""
    return needs_approval(db.session, medical_hash(document))


def clinician(email: str | None, session: Session | None = None) -> StaffUser:
    """The active clinical account `email` names, or ApprovalRefused saying what is missing."""
    session = session or db.session
    address = (email or "").strip().lower()
    staff = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == address))
    if staff is None:
        raise ApprovalRefused(f"{email!r} is not a staff account (`flask staff list` shows them)")
    if not staff.active:
        raise ApprovalRefused(f"{staff.email} is disabled: a disabled account can't approve")
    if staff.role != CLINICAL:
        raise ApprovalRefused(
            f"{staff.email} is {'an' if staff.role[0] in 'aeiou' else 'a'} {staff.role} account: "
            "only a clinical account approves medical "
            f"content (`flask staff create EMAIL --role clinical --name … --credential …`)"
        )
    if not staff.name.strip() or not staff.credential.strip():
        raise ApprovalRefused(
            f"{staff.email} has no name or credential to show patients: "
            f"`flask staff set-clinician {staff.email} --name … --credential …`"
        )
    return staff


def add_approval(
    tx: Session, row: ContentVersion, approver: StaffUser, via: str
) -> ContentApproval:
    """Record `approver`'s approval of `row` and audit it, in the caller's write transaction."""
    approval = ContentApproval(
        version_id=row.id,
        medical_hash=hash_of(row),
        approved_at=utcnow(),
        staff_id=approver.id,
        email=approver.email,
        name=approver.name.strip(),
        credential=approver.credential.strip(),
        via=via,
    )
    tx.add(approval)
    tx.flush()
    detail = {"version": row.id, "name": approval.name, "credential": approval.credential}
    if via == "cli":
        detail["via"] = "cli"
    record(tx, "content_approve", staff=approver, detail=detail)
    return approval


def approve(version_id: int, approver_email: str, *, via: str = "editor") -> ContentApproval:
    """`approver_email`'s approval of version `version_id`; ApprovalRefused says why not."""
    with write_transaction() as tx:
        approver = clinician(approver_email, tx)
        row = content_versions.get(tx, version_id)
        if row is None:
            raise ApprovalRefused(f"there is no version {version_id}")
        current = content_versions.live_id(tx)
        if current is not None and row.id < current:
            raise ApprovalRefused(
                f"version {row.id} was replaced by version {current}, which patients see: "
                f"approve that one, or publish version {row.id} again first"
            )
        return add_approval(tx, row, approver, via)


def reviewed(session: Session, row: ContentVersion) -> Reviewed | None:
    """The reviewed line for a live version: its medical part's newest approval."""
    found = content_versions.approval_for(session, hash_of(row))
    if found is None:
        return None
    return Reviewed(found.id, found.name, found.credential, found.approved_at.date())


def any_approval() -> bool:
    """False until a clinician approved anything (staff pages say so in a banner)."""
    return content_versions.approval_stamp(db.session) is not None


def awaiting() -> list[int]:
    """The versions newer than the live one that still wait for an approval, oldest first."""
    current = content_versions.live_id(db.session) or 0
    pending = [r for r in content_versions.since(db.session, current) if r.needs_approval]
    signed = {a.version_id for a in content_versions.approvals(db.session)}
    return [r.id for r in pending if r.id not in signed]


def states(versions: list[ContentVersion]) -> dict[int, VersionState]:
    """Each version's state for the history page, from one query for the approvals."""
    by_version: dict[int, list[ContentApproval]] = {}
    for approval in content_versions.approvals(db.session):
        by_version.setdefault(approval.version_id, []).append(approval)
    current = content_versions.live_id(db.session) or 0
    result = {}
    for row in versions:
        approved = tuple(by_version.get(row.id, ()))
        pending = row.needs_approval and not approved
        result[row.id] = VersionState(
            live=row.id == current,
            awaiting=pending and row.id > current,
            superseded=pending and row.id < current,
            approvals=approved,
        )
    return result


def signoff_banner() -> str | None:
    """The staff pages' banner about the medical content's approval, or None when all is signed."""
    if not any_approval():
        return (
            "The quiz's medical content is not yet approved by a clinician: patients see no "
            "“Reviewed by” line until a clinical account approves it (Content, History)."
        )
    waiting = awaiting()
    if waiting:
        return (
            f"Version {waiting[-1]} changes medical text or scoring and awaits a clinician's "
            "approval; patients keep seeing the approved version until then."
        )
    return None
