"""Database models (SQLAlchemy 2.0 style)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from quiz.core.clock import utcnow
from quiz.db.engine import UtcDateTime, db
from quiz.db.scope import SPA_OWNED, spa_for_insert

LEAD_STATUSES = ("new", "contacted", "booked", "closed", "do_not_contact")
STAFF_ROLES = ("desk", "admin", "clinical", "agency")


def spa_column(*, primary_key: bool = False, nullable: bool = False) -> Mapped[int]:
    """The spa a row belongs to (quiz/db/scope.py): the current scope's unless given."""
    return mapped_column(
        ForeignKey("spa.id"),
        primary_key=primary_key,
        nullable=nullable,
        default=spa_for_insert,
        server_default="1",  # rows from before 0011 belong to the default spa
    )


class Lead(db.Model):
    """A patient's callback request, with the answers, consent and source."""

    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    spa_id: Mapped[int] = spa_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="new")

    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    email: Mapped[str] = mapped_column(String(254), default="")
    best_time: Mapped[str] = mapped_column(String(20))

    concern: Mapped[str] = mapped_column(String(40))
    areas: Mapped[str] = mapped_column(String(400))  # option ids joined with ";"
    goal: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))  # recomputed on the server

    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consent_text_version: Mapped[str] = mapped_column(String(40))
    consent_text_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the text shown
    consent_text: Mapped[str] = mapped_column(Text)  # the exact text shown
    consent_ip: Mapped[str] = mapped_column(String(45), default="")
    consent_user_agent: Mapped[str] = mapped_column(String(400), default="")
    consent_origin: Mapped[str] = mapped_column(String(200), default="")

    source_url: Mapped[str] = mapped_column(String(2048), default="")
    referrer: Mapped[str] = mapped_column(String(2048), default="")
    utm_source: Mapped[str] = mapped_column(String(200), default="")
    utm_medium: Mapped[str] = mapped_column(String(200), default="")
    utm_campaign: Mapped[str] = mapped_column(String(200), default="")
    utm_term: Mapped[str] = mapped_column(String(200), default="")
    utm_content: Mapped[str] = mapped_column(String(200), default="")

    notes: Mapped[str] = mapped_column(Text, default="")
    # When staff first moved the lead out of "new" (UTC); set once, never changed.
    first_contacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The language the patient saw the quiz and the consent in (en, es); exports' `locale`.
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The separate texting consent (texts/consent.py): unticked by default, and the
    # form is sent without it. Its text, hash and version as shown; when it was
    # given. The address, origin and language are the call consent's (one request).
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sms_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sms_consent_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    sms_consent_text_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    sms_consent_text_version: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The form token's nonce: a resent form (double click, refresh, retry)
    # finds the lead it already made instead of storing a duplicate.
    form_nonce: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_lead_created_at", "created_at"),
        Index("ix_lead_spa_id_created_at", "spa_id", "created_at"),
        Index("ix_lead_spa_id_status", "spa_id", "status", "created_at"),
    )

    @property
    def area_list(self) -> list[str]:
        return [a for a in self.areas.split(";") if a]


class LeadEvent(db.Model):
    """The history of a lead: status changes and notes, with who and when."""

    __tablename__ = "lead_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    spa_id: Mapped[int] = spa_column()
    # None for a message about no lead (an alert to staff, e.g. a sign-in attack).
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), index=True, nullable=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # status | note
    old_status: Mapped[str] = mapped_column(String(20), default="")
    new_status: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text, default="")


class StaffUser(db.Model):
    """A staff account, created from the CLI; there is no default account."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an agency account: it works every spa, one at a time (quiz.spas).
    spa_id: Mapped[int | None] = spa_column(nullable=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Bumped on password change or disable: sessions carrying an older value end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # "desk" works leads; "admin" also exports, erases, sees deliveries and the funnel;
    # "clinical" works leads as desk does and approves the quiz's medical content.
    role: Mapped[str] = mapped_column(String(10), default="desk", server_default="admin")
    # A clinical account's name and credential, as patients read them ("Reviewed by …").
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    credential: Mapped[str] = mapped_column(String(120), default="", server_default="")


class AuditLog(db.Model):
    """Who did what and when: logins, exports, erasures. Never a patient's details."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    spa_id: Mapped[int] = spa_column()
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(254), default="")  # staff email, or "cli"
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")  # JSON: filters, lead id, counts
    row_count: Mapped[int | None] = mapped_column(Integer, nullable=True)


class OutboxMessage(db.Model):
    """A notification queued in the same transaction as its lead, delivered afterwards."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    spa_id: Mapped[int] = spa_column()
    # None for a message about no lead (an alert to staff, e.g. a sign-in attack).
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), index=True, nullable=True
    )
    channel: Mapped[str] = mapped_column(String(20))  # email | webhook | sms
    payload: Mapped[str] = mapped_column(Text, default="")  # JSON
    # pending | delivered | failed | cancelled (an escalation the lead no longer needed)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


class FunnelCount(db.Model):
    """Anonymous daily counters for the funnel: no person, no IP, no answers."""

    __tablename__ = "funnel_count"

    spa_id: Mapped[int] = spa_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    event: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. view:concern
    count: Mapped[int] = mapped_column(Integer, default=0)


class ContentVersion(db.Model):
    """A published version of the quiz's content; never changed once stored.

    The id is the version's number, given by the publisher as the version it
    was based on plus one: two publishers working from the same version make the
    same id, and the primary key refuses the second (no lost update, on SQLite
    and PostgreSQL alike, with no lock held while anyone edits).
    """

    __tablename__ = "content_version"

    spa_id: Mapped[int] = spa_column(primary_key=True)  # each spa numbers its own versions
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(254))  # a staff email, "file" or "cli"
    note: Mapped[str] = mapped_column(String(500), default="")
    based_on: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the one it replaced
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a rollback's source
    content_hash: Mapped[str] = mapped_column(String(64))  # the render cache's version
    # JSON: each language's TOML text exactly as the files hold it, {"en": "...", "es": "..."}.
    document: Mapped[str] = mapped_column(Text)
    # quiz.content.medical.medical_hash of the document ("" for versions stored before 0008).
    medical_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # True when its medical part was new at publish: it is live only once approved.
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ContentApproval(db.Model):
    """A clinical account's approval of a version's medical text and scoring.

    The approver's name and credential are copied as signed: patients read
    them ("Reviewed by …") even if the account is renamed or removed later.
    `medical_hash` is the approved medical part: a later version with the same
    medical part (a changed button label) carries the same approval.
    """

    __tablename__ = "content_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    spa_id: Mapped[int] = spa_column()
    version_id: Mapped[int] = mapped_column(Integer, index=True)
    medical_hash: Mapped[str] = mapped_column(String(64), index=True)
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    credential: Mapped[str] = mapped_column(String(120))
    via: Mapped[str] = mapped_column(String(10), default="editor")  # "editor" or "cli"

    __table_args__ = (
        ForeignKeyConstraint(
            ["spa_id", "version_id"],
            ["content_version.spa_id", "content_version.id"],
            name="fk_content_approval_version",
        ),
    )


class ContentDraft(db.Model):
    """One editor's unpublished changes to the content, kept across sign-ins.

    One row per staff account (the primary key): each editor has their own
    draft, started from the version `based_on`; publishing it refuses when
    another version was published since. Deleted once published or discarded,
    and with the account.
    """

    __tablename__ = "content_draft"

    # An agency account keeps one draft per spa it edits.
    spa_id: Mapped[int] = spa_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    based_on: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # JSON, as ContentVersion.document: each language's TOML text.
    document: Mapped[str] = mapped_column(Text)


class TextMessage(db.Model):
    """One text to or from a patient: the lead's thread (quiz/texts).

    Inbound texts keep Twilio's MessageSid (unique: a webhook sent twice stores
    one message); outbound ones get the provider's sid once sent, and their
    delivery status from Twilio's status callbacks. A text from a number no lead
    has (`lead_id` None) waits in the admins' inbox.
    """

    __tablename__ = "text_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    spa_id: Mapped[int] = spa_column()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("lead.id", ondelete="CASCADE"), nullable=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    # in: "patient", or "keyword" (STOP, START, HELP: answered automatically);
    # out: "first_text" (automatic), "reply" (staff), "keyword" (the automatic answer)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(20), index=True)  # the patient's, E.164
    body: Mapped[str] = mapped_column(Text, default="")
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # in: received; out: waiting (in the outbox), then Twilio's: queued, sent, delivered,
    # undelivered, failed; "refused" when the provider or a rule turned it down
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    error: Mapped[str] = mapped_column(String(300), default="")
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (Index("ix_text_message_lead_id", "lead_id", "id"),)


class TextOptOut(db.Model):
    """A number that texted STOP (opted_out_at set) or START again (None).

    Kept by number, not by lead: STOP covers every lead with the number, and a
    later lead from it stays opted out until it texts START. Erasing a lead
    keeps this row: it holds only the number, and forgetting it would text
    someone who asked not to be.
    """

    __tablename__ = "text_opt_out"

    # STOP reaches the spa whose number the patient texted, not every spa.
    spa_id: Mapped[int] = spa_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Spa(db.Model):
    """A spa served by this install besides the default one (issue 25: one install, many spas).

    An install that never creates one serves exactly as before: the default spa
    is the install's own settings and content. `settings` is the spa's own
    settings as JSON (name, phone, hours, theme… as they are added); `origins`
    the pages allowed to embed its quiz, as a JSON list.
    """

    __tablename__ = "spa"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    origins: Mapped[str] = mapped_column(Text, default="[]")
    settings: Mapped[str] = mapped_column(Text, default="{}")
    copied_from: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


SPA_OWNED.extend(
    [Lead, LeadEvent, StaffUser, AuditLog, OutboxMessage, FunnelCount, ContentVersion,
     ContentApproval, ContentDraft, TextMessage, TextOptOut]
)  # fmt: skip
