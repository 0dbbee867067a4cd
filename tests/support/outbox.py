"""Staff notifications for the tests: settings pointing at the test peers, leads, deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from quiz.db.engine import db
from quiz.db.models import OutboxMessage
from quiz.notifications import delivery
from tests.support.app import leads
from tests.support.patient import valid_callback
from tests.support.peers import SmtpPeer, WebhookPeer

SECRET = "webhook-secret-for-the-tests-0123456789"  # WEBHOOK_SECRET
STAFF = "desk@alazzo.example"  # NOTIFY_EMAIL_TO


def notify_config(smtp: SmtpPeer | None, webhook: WebhookPeer | None, **extra: Any) -> dict:
    """Settings that send the staff email to `smtp` and the webhook to `webhook`."""
    config: dict[str, Any] = {"STAFF_BASE_URL": "https://quiz.alazzo.example"}
    if smtp is not None:
        config.update(
            NOTIFY_EMAIL_TO=[STAFF],
            NOTIFY_EMAIL_FROM="Relax or Fill <quiz@alazzo.example>",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
            SMTP_SECURITY="none",
            SMTP_TIMEOUT_SECONDS=3,
        )
    if webhook is not None:
        config.update(WEBHOOK_URL=webhook.url, WEBHOOK_SECRET=SECRET, WEBHOOK_TIMEOUT_SECONDS=3)
    return {**config, **extra}


def submit(app: Flask, count: int = 1, **fields: Any) -> list[int]:
    """Send `count` valid callback requests; return the new leads' ids."""
    client = app.test_client(use_cookies=False)
    before = {lead.id for lead in leads(app)}
    for _ in range(count):
        response = client.post("/quiz/callback", data=valid_callback(client, **fields))
        assert response.status_code == 200 and 'id="thanks"' in response.get_data(as_text=True)
    return sorted({lead.id for lead in leads(app)} - before)


def messages(app: Flask) -> list[OutboxMessage]:
    """Every queued notification, oldest first."""
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        result = list(rows)
        db.session.expunge_all()
        return result


def deliver(app: Flask, now: datetime | None = None, **kwargs: Any) -> delivery.DeliveryReport:
    """One run of the deliverer (`flask outbox deliver`), at `now` if given."""
    with app.app_context():
        try:
            return delivery.deliver_due(now=now, **kwargs)
        finally:
            db.session.remove()


def soon(seconds: float) -> datetime:
    """The wall clock `seconds` from now (past any backoff started before this call)."""
    return datetime.now(UTC) + timedelta(seconds=seconds)


def as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives it back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
