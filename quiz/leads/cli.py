"""Command-line tools: `flask leads export` and `flask leads purge`."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from quiz.core.clock import FIRST_DAY, LAST_DAY, iso, utcnow
from quiz.db.audit import CLI_ACTOR, record_export
from quiz.db.engine import DatabaseGroup, db
from quiz.db.models import Lead, Spa
from quiz.db.scope import current_spa, spa_scope
from quiz.leads.erasure import purge_older_than
from quiz.leads.export import csv_lines, write_xlsx
from quiz.leads.query import LeadFilter, export_snapshot, iter_leads
from quiz.web.spa_settings import settings as spa_settings

leads_cli = DatabaseGroup(
    "leads", help="Work with stored callback requests (leads).", spa_option=True
)


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
    help="Erase leads received more than DAYS days ago (default: each spa's RETENTION_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many leads would be erased.")
def purge_command(days: int | None, dry_run: bool) -> None:
    """Erase old leads with their history and queued notifications (retention).

    Each spa keeps its leads for its own RETENTION_DAYS (the install's unless
    it set one; `flask spas set SLUG --set RETENTION_DAYS=365`); a spa with
    none keeps them. --older-than applies one period to every spa purged;
    `flask leads --spa SLUG purge` purges that spa's alone.
    """
    spas = db.session.execute(select(Spa.id, Spa.slug).order_by(Spa.id)).all()
    db.session.rollback()  # end the read: each purge writes in its own transactions
    group = click.get_current_context().parent
    if group is not None and group.params.get("spa"):
        spas = [spa for spa in spas if spa.id == current_spa()]  # the group's --spa
    periods = [(spa, days or _retention(spa.id)) for spa in spas]
    if not any(period for _spa, period in periods):
        raise click.UsageError(
            "Say how old: --older-than DAYS, or set RETENTION_DAYS "
            "(e.g. QUIZ_RETENTION_DAYS=365, or one spa's: "
            "flask spas set SLUG --set RETENTION_DAYS=365)."
        )
    several = len(spas) > 1
    for spa, period in periods:
        said = f"spa {spa.slug}: " if several else ""  # an install of one spa reads as before
        if not period:
            click.echo(f"{said}no RETENTION_DAYS: its leads are kept.")
            continue
        with spa_scope(spa.id):
            if dry_run:
                cutoff = utcnow() - timedelta(days=period)
                count = db.session.execute(
                    select(func.count(Lead.id)).where(Lead.created_at < cutoff)
                ).scalar_one()
                db.session.rollback()
                click.echo(f"{said}{count} leads were received before {iso(cutoff)} "
                           "and would be erased.")  # fmt: skip
                continue
            result = purge_older_than(period, actor=CLI_ACTOR)
        click.echo(f"{said}Erased {result.erased} leads received before {iso(result.cutoff)}.")


def _retention(spa_id: int) -> int | None:
    """The spa's RETENTION_DAYS (checked where it was set: a whole number from 1)."""
    days = spa_settings(current_app, spa_id).get("RETENTION_DAYS")
    return int(days) if days else None


def register(app: Flask) -> None:
    app.cli.add_command(leads_cli)
