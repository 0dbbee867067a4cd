"""Every setting, declared once: name, kind, default, limits, check and one line of docs.

Start-up validates each one generically (`quiz.settings.loading.validate`), so a
typo stops the app with a message naming the setting, never a 500 later.
docs/configuration.md is generated from this list (`make docs`); a test fails
when it is stale. Checks that weigh several settings together (the spa's
details, the notification channels) run where those are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quiz.settings.checks import (
    check_language,
    check_languages,
    check_origins,
    check_region,
    check_regions,
    check_time_zone,
    check_trusted_hosts,
    check_windows,
)
from quiz.settings.texts import check_escalation_sms_to, check_opening_hours, check_staff_sms_to
from quiz.settings.theme import check_accent, check_font, check_radius, check_text

SECTIONS = {
    "core": "Core",
    "spa": "The spa",
    "quiz": "The quiz and the callback form",
    "theme": "Theme",
    "staff": "Staff console",
    "notifications": "Staff notifications (the outbox)",
    "texts": "Texts to staff and speed to lead",
    "patient_texts": "Texting patients back",
    "deployment": "Deployment, proxies and limits",
}


@dataclass(frozen=True)
class Setting:
    """One setting: `kind` is text, int, number, bool, list or python (its check says)."""

    name: str
    section: str
    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False  # None is allowed (and means what `doc` says)
    check: Callable[[Any], Any] | None = None  # returns the normalised value or raises
    secret: bool = False  # never shown in messages


S = Setting
SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

# fmt: off
SETTINGS: tuple[Setting, ...] = (
    # --- core
    S("ENV", "core", "text", "production", "`development` allows a generated secret key and non-Secure cookies over plain HTTP; `make run` sets it in instance/config.py.", choices=("production", "development", "testing")),
    S("SECRET_KEY", "core", "text", None, "Signs the callback form's token and the staff session. Required outside development: 32+ characters with at least 10 different ones, not a placeholder (`make run` writes a random one).", optional=True, secret=True),
    S("SQLALCHEMY_DATABASE_URI", "core", "text", None, "The database; unset means SQLite at instance/quiz.db. For several hosts: `postgresql+psycopg://user@host/db`.", optional=True),
    S("SQLALCHEMY_ENGINE_OPTIONS", "core", "python", {"pool_pre_ping": True}, "SQLAlchemy engine options; the default replaces a pooled connection that died (a database restart) instead of using it for a lead."),
    S("QUIZ_CONTENT_FILE", "core", "text", None, "The quiz's words and weights; unset means quiz/content/data/quiz.toml (see content.md).", optional=True),
    # --- the spa
    S("SPA_NAME", "spa", "text", "Alazzo Med Spa", "Shown on the result and thank-you screens and in the consent text."),
    S("SPA_PHONE", "spa", "text", "+13018105740", "The spa's number, shown in its national format; a number that is not valid stops start-up."),
    S("SPA_ADDRESS", "spa", "text", "", "The spa's street address, one line, shown on the thank-you screen (unset: none shown); up to 200 characters."),
    S("SPA_BOOKING_URL", "spa", "text", "", '"Book online" appears only when this (or SPA_BOOKING_URLS) is set; an https:// address.'),
    S("SPA_BOOKING_URLS", "spa", "python", {}, "Per outcome (`relax`, `fill`, `both`, `consult`), the booking page for that service; an outcome not named uses SPA_BOOKING_URL. Every link gets `utm_source=relax-or-fill` and the outcome as `utm_content`."),
    S("SPA_CALLBACK_WINDOW", "spa", "text", "within one business day", 'The thank-you screen\'s promise ("… will call you within one business day, in the morning").'),
    S("PHONE_DEFAULT_REGION", "spa", "text", "US", "Region for phone numbers typed without +country (a two-letter code).", check=check_region),
    S("PHONE_ALLOWED_REGIONS", "spa", "list", None, 'Regions whose numbers the callback form accepts, e.g. `["US", "CA"]`; unset means PHONE_DEFAULT_REGION only. Premium-rate, shared-cost and satellite numbers are always refused.', optional=True, check=check_regions),
    # --- the quiz and the form
    S("MIN_FILL_SECONDS", "quiz", "number", 3, "A callback form sent sooner after it was first shown is refused (bots).", low=0, high=3600),
    S("FORM_MAX_AGE_SECONDS", "quiz", "number", 7200, "An older form is refused, with the patient's input kept and a fresh form.", low=1, high=7 * 86400),
    S("QUIZ_CACHE_SECONDS", "quiz", "int", 300, "How long browsers and proxies may keep a quiz page (intro, questions, result).", low=0, high=86400),
    S("QUIZ_ERROR_CACHE_SECONDS", "quiz", "int", 60, "How long browsers and proxies may keep a quiz link's \"let's start that again\" page (400): short, so a fixed link is seen soon.", low=0, high=3600),
    S("RENDER_CACHE_ENTRIES", "quiz", "int", 2000, "Patient pages each worker keeps rendered (least recently used out); 0 turns the render cache off.", low=0, high=1_000_000),
    S("RENDER_CACHE_BYTES", "quiz", "int", 32_000_000, "The most memory (bytes) each worker's render cache may hold.", low=0, high=4_000_000_000),
    S("CALLBACK_RATE_LIMIT", "quiz", "text", "30 per minute; 300 per day", "Per IP, on `POST /quiz/callback` (Flask-Limiter syntax)."),
    S("CONTENT_CHECK_SECONDS", "quiz", "number", 5, "How often each worker's thread asks the database for a newly published content version (one indexed query); 0 asks in every request instead. See content.md.", low=0, high=3600),
    S("SPA_CHECK_SECONDS", "quiz", "number", 2, "How often each worker reads the list of spas again (`flask spas create` and `disable` reach it within this time); 0 reads it in every request to /s/…. See operations.md.", low=0, high=3600),
    S("CONTENT_PREVIEW_SECONDS", "quiz", "int", 900, "How long a link to preview a content draft works (staff only, never cached). See content.md.", low=60, high=86400),
    S("FUNNEL_FLUSH_SECONDS", "quiz", "number", 10, "How often each worker writes its funnel counts; 0 turns the thread off (counts reach the database when the staff funnel page is opened in that process).", low=0, high=3600),
    S("DEFAULT_LANGUAGE", "quiz", "text", "en", "The patient's language when the URL has no `lang` and the browser prefers none the quiz has, or when `lang` names one it hasn't (`en`, `es`, or any language with a content file and a catalog; see content.md).", check=check_language),
    S("LANGUAGES", "quiz", "list", None, 'The languages the quiz offers, e.g. `["en"]`: some of the install\'s (every language with a content file and a catalog); unset offers them all. Mostly a spa\'s own (`flask spas set SLUG --set LANGUAGES=\'["en"]\'`).', optional=True, check=check_languages),
    S("SPA_CALLBACK_WINDOWS", "quiz", "python", {}, 'Per language, SPA_CALLBACK_WINDOW in that language, e.g. `{"es": "dentro de un día hábil"}`; a language not named uses the catalog\'s translation of the default, or SPA_CALLBACK_WINDOW as written.', check=check_windows),
    # --- theme
    S("THEME_ACCENT", "theme", "python", "#7a3e6d", "Buttons, links, chosen answers: a hex colour that reads on white (contrast 4.5:1 or more).", check=check_accent),
    S("THEME_TEXT", "theme", "python", "#1f1d24", "Text: a hex colour that reads on white and on the accent's light tint.", check=check_text),
    S("THEME_FONT", "theme", "python", SYSTEM_FONTS, "A CSS font-family list of fonts the reader's device has (nothing is downloaded).", check=check_font),
    S("THEME_RADIUS", "theme", "python", "10px", "Corners of answers, buttons and boxes, e.g. `0`, `4px`, `0.5rem`.", check=check_radius),
    S("EMBED_ORIGINS", "theme", "list", [], 'Origins allowed to frame the widget, e.g. `["https://www.myspa.com"]` (scheme, host and port only; `www.` and the bare domain separately).', check=check_origins),
    # --- staff
    S("STAFF_TIMEZONE", "staff", "text", "UTC", "The spa's time zone (an IANA name such as `America/New_York`) for staff pages, date filters and funnel days.", check=check_time_zone),
    S("STAFF_PAGE_SIZE", "staff", "int", 50, "Leads per page in the staff list.", low=1, high=500),
    S("STAFF_STALE_LEAD_MINUTES", "staff", "int", 30, 'A lead still "new" after this many minutes of opening hours (STAFF_OPENING_HOURS) is flagged "Not called yet" and, with texts on, escalated.', low=1, high=100_000),
    S("STAFF_IDLE_TIMEOUT_MINUTES", "staff", "number", 30, "Signed out after this long without a request.", low=1, high=24 * 60),
    S("STAFF_SESSION_MAX_HOURS", "staff", "number", 12, "Signed out after this long in any case.", low=0.1, high=24 * 30),
    S("STAFF_PASSWORD_METHOD", "staff", "text", "scrypt:131072:8:1", "Werkzeug's password hash method (scrypt with OWASP's parameters)."),
    S("STAFF_PASSWORD_MIN_LENGTH", "staff", "int", 8, "Shortest password accepted.", low=8, high=256),
    S("STAFF_PASSWORD_MAX_LENGTH", "staff", "int", 256, "Longest password accepted.", low=8, high=4096),
    S("STAFF_LOGIN_RATE_LIMIT", "staff", "text", "20 per 15 minutes", "Failed sign-ins allowed per network (an IPv4 address or an IPv6 /64), whatever the account (Flask-Limiter syntax)."),
    S("STAFF_LOGIN_ACCOUNT_RATE_LIMIT", "staff", "text", "5 per 15 minutes", "Failed sign-ins allowed per account from one network: a stranger elsewhere cannot lock the owner out."),
    S("STAFF_LOGIN_ACCOUNT_ALERT_LIMIT", "staff", "text", "50 per hour", "Failed sign-ins for one account from all networks together beyond which staff are alerted (audit log and the notification email); it never locks the account."),
    S("STAFF_PASSWORD_CHECKS_AT_ONCE", "staff", "int", 1, "Password hashes one worker computes at a time; a sign-in beyond it waits in line (STAFF_PASSWORD_CHECKS_WAITING), so a sign-in flood cannot starve the quiz.", low=1, high=16),
    S("STAFF_PASSWORD_CHECKS_WAITING", "staff", "int", 2, "Sign-ins one worker lets wait for a password check (up to 20 s each); one arriving beyond them gets a fast 429 (a flood), so a busy machine slows the front desk down but never turns it away.", low=0, high=64),
    S("RETENTION_DAYS", "staff", "int", None, "`flask leads purge` without --older-than erases leads older than this; unset keeps them.", low=1, high=100_000, optional=True),
    S("SESSION_COOKIE_NAME", "staff", "text", "staff_session", "The staff session cookie's name."),
    S("SESSION_COOKIE_PATH", "staff", "text", "/staff", "The cookie is sent to the staff area only, so the patient's pages never see it."),
    S("SESSION_COOKIE_SECURE", "staff", "bool", None, "Secure staff cookie; unset means on, except in development.", optional=True),
    S("SESSION_COOKIE_HTTPONLY", "staff", "bool", True, "The staff cookie is out of scripts' reach."),
    S("SESSION_COOKIE_SAMESITE", "staff", "text", "Lax", "SameSite attribute of the staff cookie.", choices=("Lax", "Strict")),
    S("WTF_CSRF_ENABLED", "staff", "bool", True, "Flask-WTF's CSRF token on every staff form (the patient's form has its own token)."),
    # --- notifications
    S("NOTIFY_EMAIL_TO", "notifications", "list", [], 'Staff addresses that get an email for each new lead, e.g. `["desk@myspa.com"]`; email is on when this is set.'),
    S("NOTIFY_EMAIL_FROM", "notifications", "text", "", "The sender, e.g. `Quiz <quiz@myspa.com>`; required with NOTIFY_EMAIL_TO."),
    S("SMTP_HOST", "notifications", "text", "localhost", "The mail server."),
    S("SMTP_PORT", "notifications", "int", 587, "Its port.", low=1, high=65535),
    S("SMTP_SECURITY", "notifications", "text", "starttls", "`starttls`, `tls` (implicit, port 465) or `none` (a relay on localhost).", choices=("starttls", "tls", "none")),
    S("SMTP_USERNAME", "notifications", "text", "", "SMTP login, if the server wants one."),
    S("SMTP_PASSWORD", "notifications", "text", "", "SMTP password.", secret=True),
    S("SMTP_CA_FILE", "notifications", "text", "", "A PEM bundle to trust instead of the system's (a private mail server)."),
    S("SMTP_TIMEOUT_SECONDS", "notifications", "number", 15, "Give up on the mail server after this long.", low=0.1, high=300),
    S("WEBHOOK_URL", "notifications", "text", "", "A JSON POST for each new lead, signed with WEBHOOK_SECRET (https:// outside development, except to loopback)."),
    S("WEBHOOK_SECRET", "notifications", "text", "", "The HMAC-SHA256 key of the webhook's signature (16+ characters); see operations.md.", secret=True),
    S("WEBHOOK_CA_FILE", "notifications", "text", "", "A PEM bundle to trust instead of the system's (a private webhook receiver)."),
    S("WEBHOOK_TIMEOUT_SECONDS", "notifications", "number", 10, "Give up on the webhook after this long.", low=0.1, high=300),
    S("WEBHOOK_INCLUDE_LEAD_FIELDS", "notifications", "bool", False, "Add name, phone, email, answers and source to the webhook (see the privacy note in operations.md)."),
    S("STAFF_BASE_URL", "notifications", "text", "", "Where staff open a lead: links are this + /staff/leads/<id>. Required with notifications outside development, so a Host header cannot pick the link."),
    S("OUTBOX_MAX_ATTEMPTS", "notifications", "int", 12, 'After this many failures a message is "failed" (listed on the staff Deliveries page).', low=1, high=1000),
    S("OUTBOX_RETRY_BASE_SECONDS", "notifications", "number", 30, "The n-th failure waits this × 2^(n-1) seconds…", low=1, high=86400),
    S("OUTBOX_RETRY_MAX_SECONDS", "notifications", "number", 3600, "… at most this long.", low=1, high=7 * 86400),
    S("OUTBOX_LEASE_SECONDS", "notifications", "number", 120, "A deliverer's claim on a message; a killed deliverer's messages return after it. Longer than the SMTP and webhook timeouts.", low=1, high=86400),
    S("OUTBOX_BATCH_SIZE", "notifications", "int", 20, "Messages claimed at a time.", low=1, high=1000),
    S("OUTBOX_POLL_SECONDS", "notifications", "number", 5, "`flask outbox deliver --loop` looks for due messages this often.", low=0.05, high=3600),
    # --- texts to staff (SMS) and speed to lead (docs/texts.md)
    S("STAFF_SMS_TO", "texts", "list", [], 'Staff mobile numbers that get a text for each new lead, in E.164, e.g. `["+13015550100"]`; texts are on when this is set (one text per number).', check=check_staff_sms_to),
    S("SMS_ACCOUNT_SID", "texts", "text", "", "The Twilio (or compatible) account SID; required with STAFF_SMS_TO."),
    S("SMS_AUTH_TOKEN", "texts", "text", "", "The account's auth token (HTTP Basic auth with the SID); required with STAFF_SMS_TO.", secret=True),
    S("SMS_FROM", "texts", "text", "", "The sending number in E.164 (registered for A2P 10DLC in the US); or set SMS_MESSAGING_SERVICE_SID instead."),
    S("SMS_MESSAGING_SERVICE_SID", "texts", "text", "", "A Twilio Messaging Service (`MG…`) to send from, instead of SMS_FROM."),
    S("SMS_API_BASE", "texts", "text", "https://api.twilio.com", "The Messages API's base URL (a compatible provider's, or a test peer's); https:// outside development, except to loopback."),
    S("SMS_CA_FILE", "texts", "text", "", "A PEM bundle to trust instead of the system's (a private gateway)."),
    S("SMS_TIMEOUT_SECONDS", "texts", "number", 10, "Give up on the SMS provider after this long (then retried with the outbox's backoff).", low=0.1, high=300),
    S("SMS_INCLUDE_CONTACT", "texts", "bool", False, "Add the patient's first name and phone to the text (see the privacy note in texts.md)."),
    S("STAFF_ESCALATION_SMS_TO", "texts", "list", None, 'Who gets the escalation text when a lead is still "new" after STAFF_STALE_LEAD_MINUTES of opening hours; unset means the STAFF_SMS_TO numbers, `[]` sends none.', optional=True, check=check_escalation_sms_to),
    S("STAFF_OPENING_HOURS", "texts", "python", None, 'Opening hours per weekday in STAFF_TIMEZONE, e.g. `{"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}` (days not named are closed); unset means every day, all day. Escalations, the "Not called yet" flag and the speed report count only these hours.', optional=True, check=check_opening_hours),
    # --- texting patients back (docs/texts.md)
    S("PATIENT_TEXTS", "patient_texts", "bool", False, "Text patients back: a texting consent box on the callback form (unticked), an automatic first text to those who tick it, the thread on the lead page, and STOP/START/HELP through `POST /sms/inbound`. Needs the SMS account (SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, a sender), STAFF_BASE_URL, and outside development SMS_PRIVACY_URL and SMS_TERMS_URL."),
    S("SMS_PRIVACY_URL", "patient_texts", "text", "", "The spa's privacy policy, linked from the texting consent (https://)."),
    S("SMS_TERMS_URL", "patient_texts", "text", "", "The spa's SMS terms (who texts, how often, HELP and STOP), linked from the texting consent (https://)."),
    S("PATIENT_TEXT_MAX_LENGTH", "patient_texts", "int", 640, "Longest staff reply, in characters (a text over 160 GSM characters is sent as several parts).", low=70, high=1600),
    # --- deployment and limits
    S("PROXY_FIX_HOPS", "deployment", "int", 0, "How many reverse proxies stand in front of the app (0: none). Never more than there are, or a client can forge its address.", low=0, high=5),
    S("TRUSTED_HOSTS", "deployment", "list", None, 'Host names the app answers to, e.g. `["quiz.myspa.com"]`. Required in production (any other Host header gets a 400); unset in development accepts any.', optional=True, check=check_trusted_hosts),
    S("HSTS_SECONDS", "deployment", "int", 31_536_000, "Strict-Transport-Security max-age, sent in production on HTTPS requests (behind a proxy: with PROXY_FIX_HOPS); 0 sends none.", low=0, high=63_072_000),
    S("HEALTH_TOKEN", "deployment", "text", "", "A bearer token that unlocks /healthz's detail (schema revision, outbox counts); without it /healthz says only its status.", secret=True),
    S("RATELIMIT_ENABLED", "deployment", "bool", True, "`false` switches rate limits off (load tests)."),
    S("RATELIMIT_STORAGE_URI", "deployment", "text", "memory://", "`memory://` counts per process, so gunicorn refuses it in production with more than one worker; use `redis://127.0.0.1:6379` when several workers or hosts serve."),
    S("RATELIMIT_HEADERS_ENABLED", "deployment", "bool", False, "Send X-RateLimit headers."),
    S("RATELIMIT_SWALLOW_ERRORS", "deployment", "bool", True, "If the rate-limit store (Redis) is down, let requests through rather than lose a callback."),
    S("MAX_CONTENT_LENGTH", "deployment", "int", 64 * 1024, "Larger request bodies get 413.", low=1024, high=10 * 1024 * 1024),
    S("MAX_FORM_MEMORY_SIZE", "deployment", "int", 64 * 1024, "Largest form field held in memory.", low=1024, high=10 * 1024 * 1024),
)
# fmt: on
BY_NAME = {s.name: s for s in SETTINGS}

# What a spa may have of its own (`flask spas set SLUG --set NAME=VALUE`, issue 25):
# its details, theme, languages, hours, retention, notification recipients and
# texting number. The rest (database, Redis, secret key, SMTP relay, SMS account,
# limits, deployment) is the install's, whichever spa the work is for.
SPA_SETTINGS: tuple[str, ...] = (
    "SPA_PHONE", "SPA_ADDRESS", "SPA_BOOKING_URL", "SPA_BOOKING_URLS", "SPA_CALLBACK_WINDOW",
    "SPA_CALLBACK_WINDOWS", "PHONE_DEFAULT_REGION", "PHONE_ALLOWED_REGIONS",
    "THEME_ACCENT", "THEME_TEXT", "THEME_FONT", "THEME_RADIUS",
    "LANGUAGES", "DEFAULT_LANGUAGE",
    "STAFF_TIMEZONE", "STAFF_OPENING_HOURS", "STAFF_STALE_LEAD_MINUTES", "RETENTION_DAYS",
    "NOTIFY_EMAIL_TO", "NOTIFY_EMAIL_FROM", "WEBHOOK_URL", "WEBHOOK_SECRET",
    "WEBHOOK_INCLUDE_LEAD_FIELDS", "STAFF_SMS_TO", "STAFF_ESCALATION_SMS_TO",
    "SMS_INCLUDE_CONTACT", "SMS_FROM", "SMS_MESSAGING_SERVICE_SID",
    "PATIENT_TEXTS", "SMS_PRIVACY_URL", "SMS_TERMS_URL",
)  # fmt: skip
