"""`consult`, the fourth outcome, goes everywhere an outcome goes.

Lost volume above the nose alone: neither injectable in this guide is used
for it, so the patient is offered a clinician's look instead, and the lead
says so in the export, the webhook, the funnel report and the staff filters.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from quiz.funnel.counter import recorder
from quiz.funnel.report import report
from tests.support.outbox import SECRET, deliver, notify_config, submit
from tests.support.peers import WebhookPeer
from tests.support.staff import STAFF_CONFIG, add_lead, create_staff, signed_in_client, text

CONSULT = "concern=volume&area=forehead&area=crows_feet&goal=repair"


@pytest.fixture
def webhook() -> Iterator[WebhookPeer]:
    peer = WebhookPeer(SECRET)
    yield peer
    peer.stop()


@pytest.fixture
def app_config(webhook: WebhookPeer) -> dict[str, Any]:
    return {**STAFF_CONFIG, **notify_config(None, webhook, WEBHOOK_INCLUDE_LEAD_FIELDS=True)}


def test_a_consultation_lead_is_stored_exported_and_sent_as_consult(
    app: Flask, webhook: WebhookPeer
) -> None:
    webhook.start()
    [lead_id] = submit(app, query=CONSULT)
    deliver(app)
    sent = json.loads(webhook.receipts[0].body)["lead"]
    assert (sent["id"], sent["outcome"]) == (lead_id, "consult")
    exported = app.test_cli_runner().invoke(args=["leads", "export"])
    assert exported.exit_code == 0, exported.output
    [row] = list(csv.DictReader(io.StringIO(exported.output)))
    assert (row["outcome"], row["concern"], row["areas"]) == (
        "consult",
        "volume",
        "forehead;crows_feet",
    )


def test_staff_filter_consultation_leads(app: Flask) -> None:
    add_lead(app, name="Vera Volume", outcome="consult", concern="volume", areas="forehead")
    add_lead(app, name="Fay Filler", outcome="fill")
    create_staff(app)
    desk = signed_in_client(app)
    page = text(desk.get("/staff/?outcome=consult"))
    assert re.findall(r'<a class="name" href="/staff/leads/\d+">([^<]+)</a>', page) == [
        "Vera Volume"
    ]
    assert '<option selected value="consult">Consult</option>' in page


def test_the_funnel_counts_consultations(app: Flask) -> None:
    client = app.test_client(use_cookies=False)
    for _ in range(2):
        assert client.get(f"/quiz/result?{CONSULT}").status_code == 200
    recorder(app).flush()
    with app.app_context():
        funnel = report(date.today() - timedelta(days=1), date.today() + timedelta(days=1))
    assert funnel.outcomes["consult"] == 2
    create_staff(app)
    page = text(signed_in_client(app).get("/staff/funnel"))
    assert re.search(r'<th scope="row">Consult</th><td>2</td>', page)
