"""`flask spas create|list|disable`: the spas one install serves (docs/operations.md)."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask, current_app

from quiz.core.clock import iso
from quiz.db.engine import DatabaseGroup
from quiz.settings.schema import BY_NAME
from quiz.spas.registry import (
    SpaError,
    create_spa,
    disable_spa,
    list_spas,
    spa_settings_of,
    update_spa,
)
from quiz.web.spa_settings import check as check_settings

spas_cli = DatabaseGroup("spas", help="The spas this install serves besides its default one.")


@spas_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The spa's name, as patients read it.")
@click.option("--origin", "origins", multiple=True, help="A site that embeds its quiz (repeat).")
@click.option("--copy-from", default="", help="Start from this spa's settings (a snapshot).")
def create(slug: str, name: str, origins: tuple[str, ...], copy_from: str) -> None:
    """Create the spa SLUG (a-z, 0-9 and hyphens, 3 to 40 characters)."""
    try:
        spa = create_spa(slug, name, list(origins), copy_from)
    except SpaError as err:
        raise click.ClickException(f"{err}. Nothing was created.") from None
    copied = f", settings copied from {spa.copied_from}" if spa.copied_from else ""
    click.echo(f"created spa {spa.slug} ({spa.name}), embedded by {', '.join(spa.origins)}{copied}")


@spas_cli.command("set")
@click.argument("slug")
@click.option("--name", default=None, help="Its name, as patients read it.")
@click.option("--origin", "origins", multiple=True, help="Replace its sites (repeat).")
@click.option("--phone", default=None, help="Its phone number (else the install's SPA_PHONE).")
@click.option("--callback-window", default=None, help='Its promise: "within one business day".')
@click.option("--booking-url", default=None, help='Its "Book online" page (https://…).')
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="One of its own settings (repeat), e.g. THEME_ACCENT=#0b6e4f or "
                   "'NOTIFY_EMAIL_TO=[\"desk@glow.example\"]'; see configuration.md.")  # fmt: skip
@click.option("--unset", "unset", multiple=True, metavar="NAME",
              help="Go back to the install's value for NAME (repeat).")  # fmt: skip
def set_command(
    slug: str,
    name: str | None,
    origins: tuple[str, ...],
    phone: str | None,
    callback_window: str | None,
    booking_url: str | None,
    assignments: tuple[str, ...],
    unset: tuple[str, ...],
) -> None:
    """Change the spa SLUG's details and settings, each checked as start-up checks the install's.

    A value is read as a QUIZ_ variable is: JSON when it parses (lists,
    numbers, true/false), else the text as written.
    """
    settings: dict[str, Any] = {key: value for key, value in (("SPA_PHONE", phone),
                ("SPA_CALLBACK_WINDOW", callback_window), ("SPA_BOOKING_URL", booking_url))
                if value is not None}  # fmt: skip
    for assignment in assignments:
        key, equals, raw = assignment.partition("=")
        if not equals or not key.strip():
            raise click.UsageError(f"--set {assignment!r}: write it NAME=VALUE")
        settings[key.strip().upper().removeprefix("QUIZ_")] = parsed_value(raw)
    dropped = [key.strip().upper().removeprefix("QUIZ_") for key in unset]
    if name is None and not origins and not settings and not dropped:
        raise click.UsageError("say what to change: --name, --origin, --phone, "
                               "--callback-window, --booking-url, --set or --unset")  # fmt: skip
    try:
        spa = update_spa(slug, name=name, origins=list(origins), settings=settings,
                         unset=dropped, base=current_app.config,
                         check=lambda config: check_settings(current_app, config))  # fmt: skip
    except SpaError as err:
        raise click.ClickException(f"{err}. Nothing was changed.") from None
    changed = ", ".join([*(["name"] if name else []), *(["origins"] if origins else []),
                         *settings, *(f"{key} (the install's)" for key in dropped)])  # fmt: skip
    click.echo(f"spa {spa.slug}: {changed} changed; every worker shows it within "
               f"{current_app.config['SPA_CHECK_SECONDS']:g} s")  # fmt: skip


def parsed_value(raw: str) -> Any:
    """A value as a QUIZ_ variable's is read (Flask's from_prefixed_env): JSON, else text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


@spas_cli.command("show")
@click.argument("slug")
def show(slug: str) -> None:
    """The settings SLUG has of its own (secrets hidden); every other is the install's."""
    try:
        own = spa_settings_of(slug)
    except SpaError as err:
        raise click.ClickException(str(err)) from None
    if not own:
        click.echo(f"spa {slug} has every setting from the install")
    for key in sorted(own):
        value = "(hidden)" if BY_NAME[key].secret else json.dumps(own[key])
        click.echo(f"{key}\t{value}")


@spas_cli.command("list")
def list_command() -> None:
    """Every spa: slug, state, name, origins."""
    spas = list_spas()
    if not spas:
        click.echo("no spas besides the default one")
    for spa in spas:
        state = "live" if spa.live else f"disabled {iso(spa.disabled_at)}"
        click.echo(f"{spa.slug}\t{state}\t{spa.name}\t{' '.join(spa.origins)}")


@spas_cli.command("disable")
@click.argument("slug")
def disable(slug: str) -> None:
    """Stop serving SLUG (its data stays)."""
    try:
        spa = disable_spa(slug)
    except SpaError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"spa {spa.slug} is disabled since {iso(spa.disabled_at)}")


def register(app: Flask) -> None:
    app.cli.add_command(spas_cli)
