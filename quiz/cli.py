"""Command-line tools: `flask leads export`."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from .export import csv_lines, iter_leads, leads_query

leads_cli = AppGroup("leads", help="Work with stored callback requests (leads).")


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD.") from None


@leads_cli.command("export")
@click.option("--since", callback=_day, metavar="YYYY-MM-DD", help="Leads from this day (UTC) on.")
@click.option(
    "--until", callback=_day, metavar="YYYY-MM-DD", help="Leads up to this day (UTC), inclusive."
)
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="File to write (default: standard output).",
)
def export_command(since: date | None, until: date | None, fmt: str, output: str) -> None:
    """Write all matching leads as CSV, streamed row by row."""
    if since and until and since > until:
        raise click.BadParameter("--since is after --until.", param_hint="--since")
    lines = csv_lines(iter_leads(leads_query(since, until)))
    if output == "-":
        for line in lines:
            click.echo(line, nl=False)
        return
    # newline="" keeps the CSV's own \r\n line endings intact.
    with open(output, "w", encoding="utf-8", newline="") as out_file:
        for line in lines:
            out_file.write(line)


def register(app: Flask) -> None:
    app.cli.add_command(leads_cli)
