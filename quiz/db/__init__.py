"""The database every feature shares: engine.py (SQLite WAL and BEGIN IMMEDIATE, PostgreSQL,
write transactions, the CLI group that turns a missing schema into a message), models.py
(every table), writer_queue.py (SQLite writers take turns through a lock file), audit.py
(who did what, never a patient's details).
"""
