"""What the tests share besides fixtures: helpers, peers and waits.

Test modules and conftest files import from here; no test module imports
another test module, and conftest.py holds only fixtures and hooks.

- environment: CI=true (`IN_CI`), and skipping (or, in CI, failing) a test whose
  requirement (a server, a command) is missing; Redis for the rate-limit tests.
- app: the test configuration and what an app has stored.
- database: which database the suite runs on, fresh PostgreSQL databases.
- patient: the callback form as a patient reaches and fills it.
- staff: staff accounts, signed-in clients, leads stored directly.
- outbox: notification settings and deliveries for the outbox tests.
- peers: a real SMTP server and webhook receiver on loopback, and the webhook
  signature checked as docs/operations.md tells a receiver to.
- waiting: waiting for a real signal (a log line, a file, a condition) with a deadline.
- clock: a frozen wall clock for tests about time windows.
- browser: the live server and paths for the Chromium tests.
"""
