"""Database engine tuning and the write-transaction helper.

SQLite is the embedded default, so it is set up for concurrent workers: WAL
(readers never block the writer), a busy timeout (a writer waits instead of
failing with "database is locked"), foreign keys on, and writes that start with
BEGIN IMMEDIATE so two writers never both hold a read lock and deadlock on the
upgrade; writers take turns through writer_queue.py first, so one that waits
starts as soon as the other commits, not after SQLite's 1 ms sleep. On
PostgreSQL none of this applies and the helpers are no-ops.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Dialect, MetaData, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from quiz.db import scope
from quiz.db.scope import ALL_SPAS, spa_scope
from quiz.db.writer_queue import queue_for

# Named constraints so migrations can alter them on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# expire_on_commit=False: a view that just stored a lead can still read it
# without another round trip to the database.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime, on SQLite as on PostgreSQL.

    SQLite keeps no time zone and hands back naive datetimes; this type puts
    UTC back on them, so no caller ever converts. A naive datetime is refused on
    the way in: it would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime, got a naive one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BUSY_TIMEOUT_MS = 10_000
_BEGIN_OPTION = "sqlite_begin"


_WRITER_QUEUE = "quiz_writer_queue"


def configure_engine(app: Flask) -> None:
    """Install the SQLite connection settings on the app's engine, and its writers' queue."""
    with app.app_context():
        engine = db.engine
    scope.watch(engine)  # PostgreSQL: each transaction's spa for row-level security
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        app.extensions[_WRITER_QUEUE] = queue_for(engine.url.database)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so that the
    # "begin" hook below decides how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


class PendingChanges(RuntimeError):
    """write_transaction() met changes it did not make (a programming error, never input)."""


_FLUSHED = "quiz_flushed"  # Session.info: this transaction has written rows


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_flush(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed or rolled back
        session.info.pop(_FLUSHED, None)


@contextmanager
def write_transaction() -> Iterator[Session]:
    """Run a short write transaction (BEGIN IMMEDIATE on SQLite); commit or roll back."""
    session = db.session()  # the request's Session behind the scoped proxy
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        # A change made outside a write transaction would be committed here
        # unseen (or lost with a rollback): that is a bug to fix where it was made.
        raise PendingChanges(
            "the session has changes made outside write_transaction(); make them inside it"
        )
    if session.in_transaction():
        # A read earlier in the request opened a deferred transaction; end it
        # so the write starts fresh with the immediate lock (it holds no writes:
        # checked above, so this commit stores nothing).
        session.commit()
    queue = current_app.extensions.get(_WRITER_QUEUE)
    with queue.turn() if queue is not None else nullcontext():
        session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _spa_id(ctx: click.Context, slug: str) -> int:
    """The id of the spa `--spa` names; a UsageError when there is none."""
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        # Core, not the model: this module is below models.py. `spa` is no spa's own row.
        found = db.session.execute(text("SELECT id FROM spa WHERE slug = :slug"), {"slug": slug})
        spa_id = found.scalar_one_or_none()
    if spa_id is None:
        raise click.UsageError(f"--spa {slug!r}: there is no spa with that slug (flask spas list).")
    return int(spa_id)


class DatabaseGroup(AppGroup):
    """Commands that use the database: say what to do when it is missing or unreachable.

    They work on the default spa (quiz/db/scope.py) unless the group is
    `install_wide` (`flask staff`: an email names one account, whichever spa),
    or has `spa_option` and is given `--spa SLUG` (`flask content --spa glow
    publish …`): then every command in it works on that spa alone.
    """

    def __init__(
        self, *args: Any, install_wide: bool = False, spa_option: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.install_wide = install_wide
        if spa_option:
            self.params.append(click.Option(["--spa", "spa"], default="", metavar="SLUG",
                               help="Work on this spa (default: the install's own)."))  # fmt: skip

    def invoke(self, ctx: click.Context) -> Any:
        try:
            slug = ctx.params.get("spa") or ""
            if self.install_wide:
                chosen: Any = spa_scope(ALL_SPAS)
            elif slug:
                chosen = spa_scope(_spa_id(ctx, slug))
            else:
                chosen = nullcontext()
            with chosen:
                return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            # The class only: the driver's message may quote data.
            raise click.ClickException(
                f"the database is not ready ({type(exc.orig).__name__}). Check "
                "SQLALCHEMY_DATABASE_URI, and run `flask db upgrade` to create the tables."
            ) from None
