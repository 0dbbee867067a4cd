"""Database models (SQLAlchemy 2.0 style)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

LEAD_STATUSES = ("new", "contacted", "booked", "closed", "do_not_contact")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Lead(db.Model):
    """A patient's callback request, with the answers, consent and source."""

    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    status: Mapped[str] = mapped_column(String(20), default="new")

    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    email: Mapped[str] = mapped_column(String(254), default="")
    best_time: Mapped[str] = mapped_column(String(20))

    concern: Mapped[str] = mapped_column(String(40))
    areas: Mapped[str] = mapped_column(String(400))  # option ids joined with ";"
    goal: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))  # recomputed on the server

    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
    # The form token's nonce: a resent form (double click, refresh, retry)
    # finds the lead it already made instead of storing a duplicate.
    form_nonce: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_lead_created_at", "created_at"),)

    @property
    def area_list(self) -> list[str]:
        return [a for a in self.areas.split(";") if a]
