"""Command-line tools: `flask leads export` and `flask leads purge`."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from quiz.core.clock import FIRST_DAY, LAST_DAY, iso, utcnow
from quiz.db.audit import CLI_ACTOR, record_export
from quiz.db.engine import DatabaseGroup, db
from quiz.db.models import Lead
from quiz.leads.erasure import purge_older_than
from quiz.leads.export import csv_lines, write_xlsx
from quiz.leads.query import LeadFilter, export_snapshot, iter_leads

leads_cli = DatabaseGroup("leads", help="Work with stored callback requests (leads).")


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(f"use a day between {FIRST_DAY} and {LAST_DAY}.")
    return day


@leads_cli.command("export")
@click.option("--since", callback=_day, metavar="YYYY-MM-DD", help="Leads from this day (UTC) on.")
@click.option(
    "--until", callback=_day, metavar="YYYY-MM-DD", help="Leads up to this day (UTC), inclusive."
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="File to write (default: standard output; required for xlsx).",
)
def export_command(since: date | None, until: date | None, fmt: str, output: str) -> None:
    """Write all matching leads as CSV (streamed row by row) or an Excel workbook."""
    if since and until and since > until:
        raise click.BadParameter("--since is after --until.", param_hint="--since")
    if fmt == "xlsx" and output == "-":
        raise click.BadParameter("an Excel file needs -o FILE.xlsx.", param_hint="--output")
    where = LeadFilter(since=since, until=until)
    query, count = export_snapshot(where)
    record_export(fmt, where.describe(), count, actor=CLI_ACTOR)
    if fmt == "xlsx":
        with open(output, "wb") as out_file:
            write_xlsx(iter_leads(query), out_file)
        return
    lines = csv_lines(iter_leads(query))
    if output == "-":
        for line in lines:
            click.echo(line, nl=False)
        return
    # newline="" keeps the CSV's own \r\n line endings intact.
    with open(output, "w", encoding="utf-8", newline="") as out_file:
        for line in lines:
            out_file.write(line)


@leads_cli.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    metavar="DAYS",
    help="Erase leads received more than DAYS days ago (default: RETENTION_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many leads would be erased.")
def purge_command(days: int | None, dry_run: bool) -> None:
    """Erase old leads with their history and queued notifications (retention)."""
    if days is None:
        days = current_app.config.get("RETENTION_DAYS")
        if not days:
            raise click.UsageError(
                "Say how old: --older-than DAYS, or set RETENTION_DAYS "
                "(e.g. QUIZ_RETENTION_DAYS=365)."
            )
        if not isinstance(days, int) or days < 1:
            raise click.UsageError(f"RETENTION_DAYS must be a whole number of days, got {days!r}.")
    if dry_run:
        cutoff = utcnow() - timedelta(days=days)
        count = db.session.execute(
            select(func.count(Lead.id)).where(Lead.created_at < cutoff)
        ).scalar_one()
        click.echo(f"{count} leads were received before {iso(cutoff)} and would be erased.")
        return
    result = purge_older_than(days, actor=CLI_ACTOR)
    click.echo(f"Erased {result.erased} leads received before {iso(result.cutoff)}.")


def register(app: Flask) -> None:
    app.cli.add_command(leads_cli)
