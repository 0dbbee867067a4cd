"""Texting patients back, as one feature (PATIENT_TEXTS; docs/texts.md).

- the rules, pure: keywords.py (STOP, START, HELP in English and Spanish),
  quiet_hours.py (8:00–21:00 where the number is), signature.py (Twilio's);
- settings.py (checked at start-up), wording.py (the consent and the texts,
  from the content file), opt_out.py (numbers that texted STOP);
- outgoing.py (the first text, staff replies and keyword answers, through
  the outbox), incoming.py (inbound texts, delivery callbacks), webhooks.py
  (POST /sms/inbound and /sms/status); thread.py (the lead page's thread, unread
  marks, the inbox) and staff_views.py (its pages on the staff blueprint,
  imported by the assembly, quiz/__init__.py, as the other staff pages are).
Other features import what they use from here, never from a module inside.
"""

from __future__ import annotations

from flask import Flask

from quiz.notifications import register_sender
from quiz.texts import settings as _settings
from quiz.texts.opt_out import opted_out_at
from quiz.texts.outgoing import CHANNEL, ReplyRefused, queue_first_text, queue_reply, send_text
from quiz.texts.settings import text_settings
from quiz.texts.thread import REPLYING, mark_read, thread_context, unread_leads
from quiz.texts.webhooks import bp
from quiz.texts.wording import SmsConsent, sms_consent
from quiz.web.extensions import csrf, limiter

__all__ = [
    "REPLYING",
    "ReplyRefused",
    "SmsConsent",
    "mark_read",
    "opted_out_at",
    "queue_first_text",
    "queue_reply",
    "register",
    "sms_consent",
    "text_settings",
    "thread_context",
    "unread_leads",
]


def register(app: Flask) -> None:
    """Settings (a mistake stops start-up), the webhooks, and the outbox's "text" sender."""
    _settings.init_app(app)
    app.register_blueprint(bp)
    csrf.exempt(bp)  # Twilio's signature stands in for the session's CSRF token
    limiter.exempt(bp)  # Twilio's bursts must not be turned away; forgeries get 403
    register_sender(CHANNEL, send_text)
