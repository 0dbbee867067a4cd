"""Show a staff text on the wire and its retry sequence, against the tests' Twilio peer.

Starts the Twilio-compatible peer from tests/support/sms_peer.py on loopback,
an app on a temporary SQLite database texting one staff number through it,
stores one callback request, and runs the deliverer (`deliver_due`, what
`flask outbox deliver` runs) with a clock it moves past each backoff, while the
peer answers 500, then 429, then 201. It prints each run's outcome and the
outbox row after it, then the request the peer accepted: path, headers and
form body. A second lead's text to a number the peer refuses (400, code 21211)
shows a failure that is not retried.

    .venv/bin/python bench/sms_demo.py
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.db.engine import db  # noqa: E402
from tests.support.app import base_config  # noqa: E402
from tests.support.outbox import deliver, messages, submit  # noqa: E402
from tests.support.sms_peer import TwilioPeer, sms_config  # noqa: E402


def show_row(app: object, label: str) -> None:
    [row] = [m for m in messages(app) if m.channel == "sms" and m.status != "cancelled"][-1:]
    due = f"{row.next_attempt_at:%H:%M:%S}" if row.status == "pending" else "-"
    print(f"  {label}: status={row.status} attempts={row.attempts} next try {due}; "
          f"last_error={row.last_error!r}")  # fmt: skip


def main() -> None:
    peer = TwilioPeer().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = sms_config(peer, STAFF_SMS_TO=["+13015550101"], STAFF_ESCALATION_SMS_TO=[])
            app = create_app(base_config(f"sqlite:///{folder}/demo.db", **config))
            with app.app_context():
                flask_migrate.upgrade()
            peer.answers = ["error", "throttled"]
            [lead_id] = submit(app)
            start = datetime.now(UTC)
            print(f"lead #{lead_id}: the retry sequence (clock given to each run)")
            for offset in (0, 29, 30, 89, 90, 3600):
                report = deliver(app, now=start + timedelta(seconds=offset))
                outcome = (f"delivered {report.delivered}, will retry {report.retrying}, "
                           f"failed {report.failed}")  # fmt: skip
                print(f"run at +{offset:>4} s: {outcome}")
                show_row(app, "row")
            print("\nrequests the peer got:", [t.status for t in peer.received])
            text = peer.delivered[-1]
            print("\nthe accepted request:")
            print(f"POST {text.path}")
            for name, value in sorted(text.headers.items()):
                print(f"{name}: {value}")
            print()
            for name, value in text.form.items():
                print(f"  {name} = {value}")
            print(f"answered 201, sid {text.sid}")

            peer.answers = ["invalid_to"]
            submit(app)
            print("\nlead 2, the peer answers 400 code 21211:")
            for offset in (4000, 4000 + 86400):
                report = deliver(app, now=start + timedelta(seconds=offset))
                print(f"run at +{offset:>5} s: delivered {report.delivered}, "
                      f"will retry {report.retrying}, failed {report.failed}")  # fmt: skip
                show_row(app, "row")
            with app.app_context():
                db.engine.dispose()
    finally:
        peer.stop()


if __name__ == "__main__":
    main()
