"""A `flask` command group that turns a missing schema into a message, not a traceback."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError, ProgrammingError


class DatabaseGroup(AppGroup):
    """Commands that use the database: say what to do when it is missing or unreachable."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            # The class only: the driver's message may quote data.
            raise click.ClickException(
                f"the database is not ready ({type(exc.orig).__name__}). Check "
                "SQLALCHEMY_DATABASE_URI, and run `flask db upgrade` to create the tables."
            ) from None
