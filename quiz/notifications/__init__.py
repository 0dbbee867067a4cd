"""Notifications: the outbox (queued in the lead's transaction, delivered later) and channels.

outbox.py (queue, lease, back off), delivery.py, dispatch.py (which channel
sends what), channels.py (email, signed webhook), sms.py (texts to staff,
their settings, the escalation's timing), settings.py, cli.py (`flask
outbox`), views.py (Deliveries).
"""

from quiz.notifications.outbox import queue_notifications, queue_staff_alert, summary

__all__ = ["queue_notifications", "queue_staff_alert", "summary"]
