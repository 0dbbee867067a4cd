"""Which spa's rows a piece of work sees: the one place every query is scoped (issue 25).

Every spa-owned table has a `spa_id` (models.spa_column; the models are listed
in SPA_OWNED). Work runs in a scope:

- `spa_scope(spa_id)`: one spa. Every ORM SELECT, UPDATE and DELETE through
  any Session gets `spa_id = <that spa>` added to each spa-owned table it
  names (SQLAlchemy's with_loader_criteria, from the do_orm_execute hook
  below), and every row inserted without a spa gets this one. A view never
  writes the filter itself, so none can forget it.
- `spa_scope(ALL_SPAS)`: install-wide, only where asked for: the outbox's
  deliverer (it scopes each message to its spa in turn), the sign-in lookup
  (an email belongs to one account, whichever spa), the agency's cross-spa
  report. Rows inserted here without a spa go to the default spa.

Outside any `spa_scope` (a CLI command, a background thread, the WSGI
layers) the scope is the default spa (DEFAULT_SPA_ID, the install's own,
which migration 0011 made): an install that never creates a spa works as it
always did, and nothing sees every spa by accident. Requests enter theirs
from the patient's address (/s/<slug>/…) or the staff account.

On PostgreSQL the database backs this up: row-level security policies
(migration 0011) show a transaction only the rows of the spa in the setting
`quiz.spa`, set with set_config(…, true) (SET LOCAL) before the first
statement of each transaction and again whenever the scope changes inside
one (watch()). A query that
leaves the filter out on purpose (`unscoped()`) still sees no other spa's
rows there. Superusers and BYPASSRLS roles skip policies: the app's database
user must be neither (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

DEFAULT_SPA_ID = 1  # the install's own spa: made by migration 0011, served at /quiz/
ALL_SPAS = 0  # the install-wide scope (no spa has id 0)
SETTING = "quiz.spa"  # PostgreSQL: the row-level security policies read it
_UNSCOPED = "quiz_unscoped"  # execution option: leave the filter out (tests, the agency)
_SET_FOR = "quiz_spa_set_for"  # Connection.info: the scope this transaction's setting holds

_current: ContextVar[int] = ContextVar("quiz_spa", default=DEFAULT_SPA_ID)
# Filled by models.py: the spa-owned mapped classes (each has a spa_id column).
SPA_OWNED: list[type] = []


def current_spa() -> int:
    """The spa the current work is scoped to, or ALL_SPAS."""
    return _current.get()


def spa_for_insert() -> int:
    """The spa a new row belongs to when its maker names none (the column default)."""
    return _current.get() or DEFAULT_SPA_ID


@contextmanager
def spa_scope(spa_id: int) -> Iterator[None]:
    """Run the block scoped to one spa (or ALL_SPAS); the previous scope comes back after."""
    token = _current.set(spa_id)
    try:
        yield
    finally:
        _current.reset(token)


def enter(spa_id: int) -> Any:
    """Scope the rest of this context to `spa_id` (a request's); `leave(token)` ends it."""
    return _current.set(spa_id)


def leave(token: Any) -> None:
    _current.reset(token)


def unscoped() -> dict[str, bool]:
    """Execution options that leave the spa filter out of one statement (see the docstring)."""
    return {_UNSCOPED: True}


def setting_value(spa_id: int) -> str:
    """What `quiz.spa` holds for a scope: the spa's id, or "*" for install-wide."""
    return "*" if spa_id == ALL_SPAS else str(spa_id)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    spa = _current.get()
    if spa == ALL_SPAS or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(_UNSCOPED) or state.is_column_load or state.is_relationship_load:
        return
    state.statement = state.statement.options(*_criteria(spa))


_CRITERIA: dict[int, tuple[Any, ...]] = {}


def _criteria(spa: int) -> tuple[Any, ...]:
    """The filter options for one spa, built once per spa (a few µs saved per statement)."""
    options = _CRITERIA.get(spa)
    if options is None:
        options = tuple(
            with_loader_criteria(cls, cls.spa_id == spa, include_aliases=True)  # type: ignore[attr-defined]
            for cls in SPA_OWNED
        )
        _CRITERIA[spa] = options
    return options


def watch(engine: Engine) -> None:
    """PostgreSQL: before each statement, make `quiz.spa` this scope's (configure_engine).

    At the connection, not the session: every statement counts, ORM or Core,
    a flush's INSERTs included, and a scope changed inside a transaction is
    set again before its next statement. The value is remembered per
    connection until the transaction ends (SET LOCAL ends with it).
    """
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "before_cursor_execute", _before_statement)
    for name in ("commit", "rollback"):
        event.listen(engine, name, _transaction_ended)
    event.listen(engine.pool, "checkout", _checked_out)


def _before_statement(conn: Any, cursor: Any, *_args: Any) -> None:
    spa = _current.get()
    if conn.info.get(_SET_FOR) != spa:
        cursor.execute("SELECT set_config(%s, %s, true)", (SETTING, setting_value(spa)))
        conn.info[_SET_FOR] = spa


def _transaction_ended(conn: Any) -> None:
    conn.info.pop(_SET_FOR, None)


def _checked_out(_dbapi: Any, record: Any, _proxy: Any) -> None:
    record.info.pop(_SET_FOR, None)  # a connection returned without commit or rollback
