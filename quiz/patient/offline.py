"""The page a reverse proxy shows when the app can't answer: `flask offline-page FILE`.

While gunicorn is stopped (a deploy, a crash) the proxy still serves the quiz's
pages from its cache, but a callback, the form, or a page it never kept has
nowhere to go. Rather than the proxy's own "502 Bad Gateway", it serves this
file: the calm page with the spa's phone number, rendered by the app from its
settings and content ahead of time (deploy/nginx-quiz.conf; docs/operations.md).
One page per language, beside FILE (offline.es.html …), and FILE itself in the
default language, for a patient whose language the proxy can't tell.
Write them again whenever the spa's settings change (the systemd unit does it on
every start).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app, render_template
from flask_babel import gettext


def offline_page() -> str:
    """The whole calm page in this request's language, as the app would send it."""
    return render_template(
        "patient/page.html",
        partial="patient/_offline.html",
        fragment=False,
        title=gettext("We can't take requests just now"),
    )


def language_file(output: Path, lang: str) -> Path:
    """Where the page in `lang` goes: offline.html gives offline.es.html (the proxy's name)."""
    return output.with_name(f"{output.stem}.{lang}{output.suffix}")


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(path)  # never a half-written page, even if nginx reads it meanwhile
    click.echo(f"wrote {path}")


@click.command("offline-page")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def write_offline_page(output: Path) -> None:
    """Write the pages the proxy shows while the app is down: OUTPUT and one per language."""
    # Links are relative, so any host the app serves will do (one it trusts).
    trusted = current_app.config.get("TRUSTED_HOSTS") or ["localhost"]
    base_url = f"http://{trusted[0].lstrip('.')}"
    pages: dict[str, str] = {}
    for lang in current_app.extensions["quiz_languages"]:
        # `lang` in the URL picks the page's language, its catalog and its content; a fresh
        # app context each time, since `g` (which keeps the request's language) lives there.
        app_context = current_app.app_context()
        request_context = current_app.test_request_context(f"/quiz/?lang={lang}", base_url=base_url)
        with app_context, request_context:
            pages[lang] = offline_page()
        _write(language_file(output, lang), pages[lang])
    _write(output, pages[current_app.config["DEFAULT_LANGUAGE"]])


def register(app: Flask) -> None:
    app.cli.add_command(write_offline_page)
