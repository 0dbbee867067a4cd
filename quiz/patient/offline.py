"""The page a reverse proxy shows when the app can't answer: `flask offline-page FILE`.

While gunicorn is stopped (a deploy, a crash) the proxy still serves the quiz's
pages from its cache, but a callback, the form, or a page it never kept has
nowhere to go. Rather than the proxy's own "502 Bad Gateway", it serves this
file: the calm page with the spa's phone number, rendered by the app from its
settings and content ahead of time (deploy/nginx-quiz.conf; docs/operations.md).
Write it again whenever the spa's settings change (the systemd unit does it on
every start).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app, render_template


def offline_page() -> str:
    """The whole calm page, as a patient's browser would get it from the app."""
    return render_template(
        "patient/page.html",
        partial="patient/_offline.html",
        fragment=False,
        title="We can't take requests just now",
    )


@click.command("offline-page")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def write_offline_page(output: Path) -> None:
    """Write the page the proxy shows while the app is down to OUTPUT (instance/offline.html)."""
    # Links are relative, so any host the app serves will do (one it trusts).
    trusted = current_app.config.get("TRUSTED_HOSTS") or ["localhost"]
    with current_app.test_request_context("/quiz/", base_url=f"http://{trusted[0].lstrip('.')}"):
        html = offline_page()
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(output)  # never a half-written page, even if nginx reads it meanwhile
    click.echo(f"wrote {output}")


def register(app: Flask) -> None:
    app.cli.add_command(write_offline_page)
