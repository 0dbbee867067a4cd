"""Notifications: the outbox (queued in the lead's transaction, delivered later) and channels.

outbox.py (queue, lease, back off), delivery.py, dispatch.py (which channel
sends what), channels.py (email, signed webhook), sms.py (texts to staff,
their settings, the escalation's timing), settings.py, cli.py (`flask
outbox`), views.py (Deliveries).
"""

from quiz.notifications.channels import DeliveryError
from quiz.notifications.dispatch import NotNeeded, NotYet, register_sender
from quiz.notifications.outbox import (
    queue_message,
    queue_notifications,
    queue_staff_alert,
    queue_unanswered_alert,
    summary,
)
from quiz.notifications.sms import Rejected, SmsSettings, send_sms, sms_from_config

__all__ = [
    "DeliveryError",
    "NotNeeded",
    "NotYet",
    "queue_message",
    "queue_notifications",
    "queue_staff_alert",
    "queue_unanswered_alert",
    "Rejected",
    "SmsSettings",
    "register_sender",
    "send_sms",
    "sms_from_config",
    "summary",
]
