"""Texting patients back: the figures issue 24 asks for, measured in process.

Builds the app as production would run it (a migrated SQLite file, texting on,
the SMS account pointed at the tests' Twilio peer on loopback) and reports:

- the automatic first text: a callback with the texting consent ticked is
  stored, its text is in the outbox in the lead's own transaction (same
  creation time), and the next delivery run sends it to the peer;
- `POST /sms/inbound`, signed as Twilio signs it, each with a new MessageSid
  (matched against the leads, stored): median and p90 of one WSGI call,
  signing included (budget 5 ms);
- a lead's page with 200 texts in its thread, and the thread alone as htmx
  polls it: median (budget 50 ms).

    .venv/bin/python bench/texts.py              # 300 inbound texts, 30 page loads
    .venv/bin/python bench/texts.py --inbound 1000 --pages 100

It prints figures and PASS/OVER against the budgets, and exits 0 either way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import _migrate  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.db.engine import db  # noqa: E402
from quiz.db.models import Lead, OutboxMessage, TextMessage  # noqa: E402
from quiz.notifications.delivery import deliver_due  # noqa: E402
from tests.support.app import stop_background  # noqa: E402
from tests.support.outbox import submit  # noqa: E402
from tests.support.sms_peer import TwilioPeer, message_sid, texts_config  # noqa: E402
from tests.support.staff import STAFF_CONFIG, create_staff, signed_in_client  # noqa: E402

INBOUND_BUDGET_MS = 5.0
THREAD_BUDGET_MS = 50.0
PATIENT = "+13018105740"
# The inbound texts come from another lead's number and from one no lead has (the
# inbox), in turn; the first lead's thread is then filled to exactly 200 texts.
OTHER_LEAD = "+13018105741"
STRANGER = "+14155550100"


def verdict(value: float, budget: float) -> str:
    return "PASS" if value <= budget else "OVER"


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inbound", type=int, default=300)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args(argv)
    os.environ.pop("QUIZ_ENV", None)
    peer = TwilioPeer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="quiz-texts-") as tmp:
            uri = f"sqlite:///{tmp}/quiz.db"
            _migrate(uri)
            config = {
                "SECRET_KEY": secrets.token_urlsafe(48),
                "SQLALCHEMY_DATABASE_URI": uri,
                "MIN_FILL_SECONDS": 0,
                "RATELIMIT_ENABLED": False,
                "FUNNEL_FLUSH_SECONDS": 0,
                "ENV": "testing",
                **texts_config(peer),
                **STAFF_CONFIG,
            }
            app = create_app(config)

            # 1. The first text: in the lead's transaction, sent on the next run.
            [lead_id] = submit(app, sms_consent="yes")
            with app.app_context():
                lead = db.session.get(Lead, lead_id)
                row = db.session.scalars(
                    db.select(OutboxMessage).where(OutboxMessage.channel == "text")
                ).one()
                same = row.created_at == lead.created_at and row.lead_id == lead_id
                due = row.next_attempt_at.replace(tzinfo=UTC)
                report = deliver_due(now=max(due, datetime.now(UTC)) + timedelta(seconds=1))
            sent = [t for t in peer.delivered if t.to == PATIENT]
            print("first text:")
            print(f"  queued with the lead in one transaction: {'yes' if same else 'NO'} "
                  f"(outbox row {row.id}, lead {lead_id}, due {due.isoformat()})")  # fmt: skip
            print(f"  next delivery run: delivered {report.delivered}, "
                  f"peer got {len(sent)} text(s) to {PATIENT}")  # fmt: skip

            # 2. The inbound webhook, in process.
            web = app.test_client(use_cookies=False)
            submit(app, phone="(301) 810-5741")  # half the texts come from this lead's number
            timings = []
            for number in range(args.inbound):
                start = time.perf_counter()
                sender = (OTHER_LEAD, STRANGER)[number % 2]
                response = peer.inbound(web, sender, f"Question {number}: is Friday ok? 🙂",
                                        sid=message_sid())  # fmt: skip
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.status_code
            median, p90 = ms(timings[10:])
            print(
                f"POST /sms/inbound ({args.inbound} signed texts, half on a lead):"
                f" median {median:.2f} ms,"
                f" p90 {p90:.2f} ms  {verdict(median, INBOUND_BUDGET_MS)} (budget"
                f" {INBOUND_BUDGET_MS:g} ms; includes signing each request, as Twilio would)"
            )

            # 3. The thread page with 200 texts.
            with app.app_context():
                count = db.session.scalar(
                    db.select(db.func.count(TextMessage.id)).where(TextMessage.lead_id == lead_id)
                )
                extra = max(200 - int(count or 0), 0)
                now = datetime.now(UTC)
                db.session.add_all(
                    TextMessage(created_at=now, lead_id=lead_id, direction="out", kind="reply",
                                number=PATIENT, body=f"Reply {n}", status="delivered", error="")
                    for n in range(extra)
                )  # fmt: skip
                db.session.commit()
                total = db.session.scalar(
                    db.select(db.func.count(TextMessage.id)).where(TextMessage.lead_id == lead_id)
                )
            create_staff(app, role="desk")
            desk = signed_in_client(app)
            pages = (
                ("lead page", f"/staff/leads/{lead_id}"),
                ("thread (htmx poll)", f"/staff/leads/{lead_id}/texts"),
            )
            for name, path in pages:
                desk.get(path)
                samples = []
                for _ in range(args.pages):
                    start = time.perf_counter()
                    response = desk.get(path, headers={"HX-Request": "true"})
                    samples.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200
                median, p90 = ms(samples)
                print(
                    f"GET {name} with {total} texts: median {median:.1f} ms, p90 {p90:.1f} ms  "
                    f"{verdict(median, THREAD_BUDGET_MS)} (budget {THREAD_BUDGET_MS:g} ms)"
                )
            stop_background(app)
    finally:
        peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
