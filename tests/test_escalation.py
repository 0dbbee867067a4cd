"""Escalation: one more text when a lead is still "new" after the threshold, in opening hours.

The deliverer runs with a clock the test hands it (`deliver(app, now=...)`),
so "30 minutes later" and "after the spa opens" are exact and nothing sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from quiz import create_app
from tests.support.app import base_config, leads
from tests.support.outbox import as_utc, deliver, messages, submit
from tests.support.sms_peer import STAFF_NUMBERS, TwilioPeer, sms_config
from tests.support.staff import page_token

TOKYO = ZoneInfo("Asia/Tokyo")  # no daylight saving: "the next opening" is plain arithmetic


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def app_config(twilio: TwilioPeer) -> dict[str, Any]:
    return sms_config(twilio, STAFF_STALE_LEAD_MINUTES=30)


def escalations(peer: TwilioPeer) -> list[str]:
    return [t.to for t in peer.delivered if t.body.startswith("Still not called")]


def created_at(app: Flask, lead_id: int) -> datetime:
    return as_utc(next(lead.created_at for lead in leads(app) if lead.id == lead_id))


def test_a_lead_still_new_after_the_threshold_is_escalated_once(
    app: Flask, twilio: TwilioPeer
) -> None:
    [lead_id] = submit(app)
    arrived = created_at(app, lead_id)
    assert deliver(app, now=arrived).delivered == 2  # the new-lead texts
    assert deliver(app, now=arrived + timedelta(minutes=29, seconds=59)).attempted == 0
    assert deliver(app, now=arrived + timedelta(minutes=30)).delivered == 2
    assert sorted(escalations(twilio)) == sorted(STAFF_NUMBERS)
    body = twilio.delivered[-1].body
    assert body == (
        f"Still not called: callback request #{lead_id} (best time: morning). "
        f"Open: https://quiz.alazzo.example/staff/leads/{lead_id}"
    )
    for later in (timedelta(hours=2), timedelta(days=3)):
        assert deliver(app, now=arrived + later).attempted == 0
    assert len(twilio.received) == 4


def test_no_escalation_once_staff_have_changed_the_status(
    app: Flask, twilio: TwilioPeer, desk: Any
) -> None:
    [lead_id] = submit(app)
    arrived = created_at(app, lead_id)
    deliver(app, now=arrived)
    response = desk.post(
        f"/staff/leads/{lead_id}/status",
        data={"status": "contacted", "csrf_token": page_token(desk), "next": "/staff/"},
    )
    assert response.status_code == 303
    report = deliver(app, now=arrived + timedelta(minutes=31))
    assert report.cancelled == 2 and report.attempted == 0
    assert escalations(twilio) == []
    rows = [m for m in messages(app) if json.loads(m.payload)["kind"] == "lead.escalation"]
    assert {m.status for m in rows} == {"cancelled"}
    assert all("worked on before it was due" in m.last_error for m in rows)


def test_outside_opening_hours_the_escalation_waits_for_the_spa_to_open(
    database_uri: str, twilio: TwilioPeer
) -> None:
    # Open one hour a day, starting two hours from now (Tokyo time): now is closed.
    now = datetime.now(TOKYO)
    opens = (now.hour + 2) % 24
    closes = f"{opens + 1:02d}:00" if opens < 23 else "24:00"
    hours = {"mon-sun": f"{opens:02d}:00-{closes}"}
    config = sms_config(
        twilio, STAFF_TIMEZONE="Asia/Tokyo", STAFF_OPENING_HOURS=hours, STAFF_STALE_LEAD_MINUTES=30
    )
    app = create_app(base_config(database_uri, **config))
    [lead_id] = submit(app)
    arrived = created_at(app, lead_id)
    opening = arrived.astimezone(TOKYO).replace(hour=opens, minute=0, second=0, microsecond=0)
    if opening <= arrived:
        opening += timedelta(days=1)
    due = opening + timedelta(minutes=30)

    deliver(app, now=arrived)  # the new-lead texts go at once, whatever the hour
    assert deliver(app, now=arrived + timedelta(minutes=31)).attempted == 0
    assert deliver(app, now=due - timedelta(seconds=1)).attempted == 0
    rows = [m for m in messages(app) if json.loads(m.payload)["kind"] == "lead.escalation"]
    assert {as_utc(m.next_attempt_at) for m in rows} == {due}  # staff see when it is due
    assert deliver(app, now=due).delivered == 2
    assert sorted(escalations(twilio)) == sorted(STAFF_NUMBERS)


@pytest.mark.parametrize("extra", [{"STAFF_ESCALATION_SMS_TO": ["+13015550177"]}])
def test_escalations_go_to_their_own_numbers(
    database_uri: str, twilio: TwilioPeer, extra: dict[str, Any]
) -> None:
    app = create_app(base_config(database_uri, **sms_config(twilio, **extra)))
    [lead_id] = submit(app)
    deliver(app, now=created_at(app, lead_id) + timedelta(hours=1))
    assert escalations(twilio) == ["+13015550177"]
    assert sorted(t.to for t in twilio.delivered if t.body.startswith("New")) == STAFF_NUMBERS
