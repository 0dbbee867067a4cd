"""`flask outbox ...`: deliver staff notifications, show the queue, retry failures.

`flask outbox deliver --loop` is meant to run as its own long-lived process (a
systemd unit or a container next to gunicorn); several may run at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from quiz.db.engine import DatabaseGroup, db
from quiz.notifications import delivery, outbox
from quiz.notifications.settings import settings

outbox_cli = DatabaseGroup("outbox", help="Staff notifications: deliver, inspect, retry.")

# After a database error the loop waits this long (doubling) before trying again.
ERROR_PAUSE_SECONDS = (1, 2, 5, 10, 30)


@outbox_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running: deliver, wait, deliver again.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when there was nothing to do.")
def deliver_command(loop: bool, quiet: bool) -> None:
    """Send every notification that is due (once, or for ever with --loop)."""
    config = settings()
    if not config.channels:
        click.echo(
            "No notification channel is configured (NOTIFY_EMAIL_TO, WEBHOOK_URL, STAFF_SMS_TO)."
        )
    worker = delivery.worker_name()
    if not loop:
        report = delivery.deliver_due(worker=worker)
        db.session.remove()
        if report.attempted or report.skipped or report.cancelled or not quiet:
            click.echo(_describe(report))
        return

    logging.getLogger(delivery.__name__).setLevel(logging.INFO)
    _log_to_stderr(current_app)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        # Finish the message in hand, then leave: nothing is half-recorded.
        current_app.logger.info("outbox deliverer stopping (signal %s)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    current_app.logger.info("outbox deliverer %s started", worker)
    errors = 0
    while not stop.is_set():
        try:
            report = delivery.deliver_due(worker=worker)
            errors = 0
        except SQLAlchemyError as err:
            # The database restarting must not end the deliverer.
            db.session.rollback()
            pause = ERROR_PAUSE_SECONDS[min(errors, len(ERROR_PAUSE_SECONDS) - 1)]
            errors += 1
            current_app.logger.warning("outbox: database error (%s); retrying in %ss",
                                       type(err).__name__, pause)  # fmt: skip
            stop.wait(pause)
            continue
        finally:
            db.session.remove()
        if report.attempted or report.cancelled:
            current_app.logger.info(_describe(report))
        if not report.attempted and not report.skipped:
            stop.wait(config.poll_seconds)
    current_app.logger.info("outbox deliverer %s stopped", worker)


@outbox_cli.command("status")
def status_command() -> None:
    """Show how many notifications are pending, delivered and failed, and the failures."""
    counts = outbox.summary()
    click.echo(
        f"pending {counts['pending']}, delivered {counts['delivered']}, failed {counts['failed']}; "
        f"oldest due for {counts['oldest_due_seconds']} s"
    )
    for message in outbox.undelivered(100, statuses=("failed",)):
        click.echo(
            f"failed #{message.id} lead {message.lead_id} {message.channel} "
            f"after {message.attempts} attempts: {message.last_error}"
        )


@outbox_cli.command("retry")
@click.argument("message_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Queue every failed notification again.")
def retry_command(message_ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed notifications again (after fixing the mail server or webhook)."""
    if not message_ids and not all_failed:
        raise click.UsageError("Give the failed message ids, or --all-failed.")
    count = outbox.retry_failed(None if all_failed else list(message_ids))
    click.echo(f"{count} notification(s) queued again.")


def _describe(report: delivery.DeliveryReport) -> str:
    text = (
        f"delivered {report.delivered}, will retry {report.retrying}, "
        f"failed for good {report.failed}, left to another deliverer {report.skipped}"
    )
    if report.cancelled:
        text += f", escalations not needed any more {report.cancelled}"
    return text


def _log_to_stderr(app: Flask) -> None:
    logger = logging.getLogger(delivery.__name__)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)


def register(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
