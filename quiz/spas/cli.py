"""`flask spas create|list|disable`: the spas one install serves (docs/operations.md)."""

from __future__ import annotations

import click
from flask import Flask

from quiz.core.clock import iso
from quiz.db.engine import DatabaseGroup
from quiz.spas.registry import SpaError, create_spa, disable_spa, list_spas

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
