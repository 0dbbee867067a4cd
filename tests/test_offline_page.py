"""`flask offline-page`: the calm page a proxy shows while the app is down, in each language.

The command writes FILE in the default language and one page per language beside
it (offline.es.html …); deploy/nginx.conf picks one by `lang` or Accept-Language
(tests/test_nginx.py runs that through a real nginx). Here: what each file says.
"""

from __future__ import annotations

import html as html_lib
from pathlib import Path

import pytest
from flask import Flask


def write_pages(app: Flask, tmp_path: Path) -> Path:
    output = tmp_path / "instance" / "offline.html"
    with app.app_context():  # as `flask` gives every command
        result = app.test_cli_runner().invoke(args=["offline-page", str(output)])
    assert result.exit_code == 0, result.output
    return output


def page(path: Path) -> str:
    return html_lib.unescape(path.read_text(encoding="utf-8"))


def test_the_calm_page_is_written_once_per_language(app: Flask, tmp_path: Path) -> None:
    output = write_pages(app, tmp_path)
    english, spanish = (
        page(output.with_name("offline.en.html")),
        page(output.with_name("offline.es.html")),
    )

    assert '<html lang="en">' in english
    assert '<h1 id="step-heading" tabindex="-1">We can\'t take requests just now</h1>' in english
    assert "Please call Alazzo Med Spa on" in english
    assert '<a href="/quiz/?lang=en">Start the quiz again</a>' in english

    assert '<html lang="es">' in spanish
    assert "No podemos atender solicitudes en este momento</h1>" in spanish
    assert (
        "<title>No podemos atender solicitudes en este momento · Alazzo Med Spa</title>" in spanish
    )
    assert "no ha llegado a Alazzo Med Spa" in spanish
    assert 'Llame a Alazzo Med Spa al <a class="phone" href="tel:+13018105740">' in spanish
    assert '<a href="/quiz/?lang=es">Empezar el cuestionario de nuevo</a>' in spanish
    assert "take requests" not in spanish and "Please call" not in spanish


def test_the_page_without_a_language_in_its_name_is_the_default_language(
    app: Flask, tmp_path: Path
) -> None:
    output = write_pages(app, tmp_path)
    assert output.read_bytes() == output.with_name("offline.en.html").read_bytes()


@pytest.mark.parametrize("app_config", [{"DEFAULT_LANGUAGE": "es"}])
def test_a_spa_whose_default_is_spanish_gets_the_spanish_page_by_default(
    app: Flask, tmp_path: Path
) -> None:
    output = write_pages(app, tmp_path)
    assert '<html lang="es">' in page(output)


def test_the_callback_form_says_its_language_in_its_address(app: Flask) -> None:
    """A proxy can't read the form's body: `lang` in the action lets its calm page follow."""
    client = app.test_client(use_cookies=False)
    answers = "concern=volume&area=cheeks&goal=repair"
    for query, lang in ((f"{answers}&lang=es", "es"), (answers, "en")):
        form = client.get(f"/quiz/callback?{query}").get_data(as_text=True)
        assert f'action="/quiz/callback?lang={lang}"' in form
        assert f'hx-post="/quiz/callback?lang={lang}"' in form
