"""Default configuration. Later sources override these, in order:
`instance/config.py`, then `QUIZ_*` environment variables (values parsed as
JSON when they can be: `QUIZ_MIN_FILL_SECONDS=0`, `QUIZ_EMBED_ORIGINS='["https://spa.example"]'`),
then the mapping a test passes to `create_app`.

There is deliberately no SECRET_KEY here: outside development and testing the
app refuses to start without one (see `quiz.settings.check_secret_key`).
"""

from __future__ import annotations

# "production" unless told otherwise; `make run` writes ENV = "development"
# into instance/config.py. Development allows a generated secret key and plain HTTP.
ENV = "production"

# Database: None means SQLite at instance/quiz.db (WAL, busy_timeout, foreign keys).
SQLALCHEMY_DATABASE_URI: str | None = None

# The spa, shown on the result and thank-you screens and in the consent text.
SPA_NAME = "Alazzo Med Spa"
SPA_PHONE = "+13018105740"  # E.164; shown in the spa's national format
SPA_BOOKING_URL = ""  # "Book online" appears only when this (or SPA_BOOKING_URLS) is set
# Per outcome ("relax", "fill", "both"), the booking page for that service; an
# outcome not named here uses SPA_BOOKING_URL. QUIZ_SPA_BOOKING_URLS='{"relax": "https://…"}'
SPA_BOOKING_URLS: dict[str, str] = {}
SPA_CALLBACK_WINDOW = "within one business day"

# Where the quiz's words and weights live; None means quiz/content/quiz.toml.
QUIZ_CONTENT_FILE: str | None = None

# Phone numbers without a +country prefix are read in this region.
PHONE_DEFAULT_REGION = "US"

# The callback form's signed token: refused if sent faster than MIN_FILL_SECONDS
# after the form was shown (bots), or older than FORM_MAX_AGE_SECONDS.
MIN_FILL_SECONDS = 3
FORM_MAX_AGE_SECONDS = 2 * 60 * 60

# Origins allowed to frame the widget (JSON list in QUIZ_EMBED_ORIGINS).
EMBED_ORIGINS: list[str] = []

# Per-IP limit on callback requests (Flask-Limiter syntax). Storage defaults to
# memory (one process); use redis://... when several workers or hosts serve.
CALLBACK_RATE_LIMIT = "30 per minute; 300 per day"
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = False

# Requests larger than this are refused with 413 (the callback form is tiny).
MAX_CONTENT_LENGTH = 64 * 1024
MAX_FORM_MEMORY_SIZE = 64 * 1024

# Cache lifetime for the question pages (pure functions of their URL).
QUIZ_CACHE_SECONDS = 300

# Flask-WTF protects staff forms with session CSRF; the patient path has its own token.
WTF_CSRF_ENABLED = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE: bool | None = None  # None: Secure everywhere but development

# Embedding and theme
# Who may frame the widget is EMBED_ORIGINS, above. The theme is applied as CSS
# custom properties in the widget's own stylesheet (no web fonts, nothing from a
# third party); each value is checked at start-up. A page may override the
# accent per container with data-accent="#rrggbb" (see README, "Embed it on your site").
THEME_ACCENT = "#7a3e6d"  # buttons, links, chosen answers; needs 4.5:1 contrast on white
THEME_TEXT = "#1f1d24"  # body text; needs 4.5:1 contrast on white and on the light tint
THEME_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
THEME_RADIUS = "10px"  # corners of answers, buttons and boxes, e.g. "0", "4px", "0.5rem"

# Staff
# The session cookie is sent to /staff only, so the patient path never sees it.
SESSION_COOKIE_NAME = "staff_session"
SESSION_COOKIE_PATH = "/staff"
# Werkzeug's scrypt with OWASP's parameters (N=2**17, r=8, p=1).
STAFF_PASSWORD_METHOD = "scrypt:131072:8:1"
STAFF_PASSWORD_MIN_LENGTH = 8
STAFF_PASSWORD_MAX_LENGTH = 256
# Signed out after this long without a request, and after this long in any case.
STAFF_IDLE_TIMEOUT_MINUTES = 30
STAFF_SESSION_MAX_HOURS = 12
# Failed sign-ins allowed per IP and per account (Flask-Limiter syntax; storage as above).
STAFF_LOGIN_RATE_LIMIT = "20 per 15 minutes"
STAFF_LOGIN_ACCOUNT_RATE_LIMIT = "5 per 15 minutes"
# A lead still "new" after this many minutes is flagged in the list.
STAFF_STALE_LEAD_MINUTES = 30
STAFF_PAGE_SIZE = 50
# The spa's time zone for staff pages, date filters and funnel days (IANA name).
STAFF_TIMEZONE = "UTC"
# `flask leads purge` without --older-than erases leads older than this; None keeps them.
RETENTION_DAYS: int | None = None
# Funnel counters are kept in memory and written by a background thread this often
# (seconds). 0 turns the thread off: counts then reach the database only when the
# staff funnel page is opened in the same process (tests, benches).
FUNNEL_FLUSH_SECONDS = 10

# Notifications, proxy and deployment
# Staff notifications go through the outbox (quiz/outbox.py): queued in the same
# transaction as the lead, sent by `flask outbox deliver`. A channel is on when
# its address is set. They carry the lead's number, time and staff link, never
# the patient's answers.
NOTIFY_EMAIL_TO: list[str] = []  # staff addresses; QUIZ_NOTIFY_EMAIL_TO='["desk@myspa.com"]'
NOTIFY_EMAIL_FROM = ""  # required with NOTIFY_EMAIL_TO, e.g. "Quiz <quiz@myspa.com>"
SMTP_HOST = "localhost"
SMTP_PORT = 587
SMTP_SECURITY = "starttls"  # starttls | tls (implicit, port 465) | none (a relay on localhost)
SMTP_USERNAME = ""
SMTP_PASSWORD = ""
SMTP_CA_FILE = ""  # a PEM bundle to trust instead of the system's (a private mail server)
SMTP_TIMEOUT_SECONDS = 15
WEBHOOK_URL = ""  # JSON POST, signed with WEBHOOK_SECRET (README, "Deployment")
WEBHOOK_SECRET = ""
WEBHOOK_CA_FILE = ""  # a PEM bundle to trust instead of the system's (a private receiver)
WEBHOOK_TIMEOUT_SECONDS = 10
# Adds name, phone, email, answers and source to the webhook: see the README's privacy note.
WEBHOOK_INCLUDE_LEAD_FIELDS = False
# Where staff open a lead: links are STAFF_BASE_URL + /staff/leads/<id>. Required
# with notifications outside development (a Host header must not pick the link).
STAFF_BASE_URL = ""
# Retries: the n-th failure waits RETRY_BASE * 2**(n-1) seconds, at most RETRY_MAX;
# after MAX_ATTEMPTS the message is "failed" (listed by `flask outbox status`).
OUTBOX_MAX_ATTEMPTS = 12
OUTBOX_RETRY_BASE_SECONDS = 30
OUTBOX_RETRY_MAX_SECONDS = 3600
# A deliverer's claim on a message; a killed deliverer's messages return after it.
OUTBOX_LEASE_SECONDS = 120
OUTBOX_BATCH_SIZE = 20
OUTBOX_POLL_SECONDS = 5  # `deliver --loop` looks for due messages this often

# Reverse proxies in front of the app (0: none); see quiz/deployment.py.
PROXY_FIX_HOPS = 0
# Host names the app answers to (Flask); None accepts any. QUIZ_TRUSTED_HOSTS='["quiz.myspa.com"]'
TRUSTED_HOSTS: list[str] | None = None
# A pooled connection that died (database restart) is replaced, not used for a lead.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
# If the rate-limit store (Redis) is down, let callbacks through rather than lose them.
RATELIMIT_SWALLOW_ERRORS = True
