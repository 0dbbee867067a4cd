"""The whole patient path in Spanish with JavaScript off (plain forms and links), the lead
it stores (language, the exact consent text shown, its version and hash), the exports'
`locale` and what staff see."""

from __future__ import annotations

import csv
import hashlib
import html as html_lib
import io
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.support.app import leads
from tests.support.patient import callback_fields
from tests.support.staff import add_lead, post_export, words

SPANISH_CONSENT = (
    "Acepto que Alazzo Med Spa me llame o me envíe mensajes de texto al número indicado arriba "
    "sobre mi solicitud. El consentimiento no es una condición de compra. Responda STOP a "
    "cualquier mensaje para darse de baja."
)


def text(response: Any) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def quiz_urls(html: str) -> list[str]:
    """Every link and form action in the widget that leads to another quiz step."""
    body = html[html.index("<main") :]
    urls = re.findall(r'(?:href|action|hx-get)="(/quiz/[^"]*)"', body)
    return [u for u in urls if "lang=" in u or not u.startswith("/quiz/?")]


def get_form(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The step's GET form: its action and hidden fields (what the browser would send)."""
    form = re.search(r'<form method="get" action="([^"]+)".*?</form>', html, re.S)
    assert form, "no form on the page"
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(0))
    return form.group(1), hidden


def submit(client: FlaskClient, html: str, *answers: tuple[str, str]) -> str:
    action, hidden = get_form(html)
    response = client.get(f"{action}?{urlencode(hidden + list(answers))}")
    assert response.status_code == 200, action
    page = text(response)
    assert re.search(r'<html lang="es">', page), action
    return page


def assert_spanish_links(html: str) -> None:
    """Every link onward keeps `lang=es`, like the answers (hidden fields included)."""
    for url in quiz_urls(html):
        query = dict(parse_qsl(urlsplit(url).query))
        if urlsplit(url).path in ("/quiz/concern", "/quiz/area", "/quiz/goal", "/quiz/result"):
            # A form's action has no query: its hidden fields carry the language.
            if not query:
                continue
        assert query.get("lang") in ("es", "en"), url  # "en" only on the switcher's link
    if '<form method="get"' in html:
        assert ("lang", "es") in get_form(html)[1]


def test_the_whole_quiz_and_a_callback_in_spanish_without_javascript(
    app: Flask, client: FlaskClient
) -> None:
    intro = text(client.get("/quiz/", headers={"Accept-Language": "es-US,es;q=0.9"}))
    assert "¿Relajar o rellenar?" in intro and "Empezar el cuestionario" in intro
    assert_spanish_links(intro)

    concern = submit(client, intro)  # no Accept-Language from here on: the URL carries it
    assert "Pregunta 1 de 3" in concern and "¿Qué es lo que más le molesta?" in concern
    assert_spanish_links(concern)
    area = submit(client, concern, ("concern", "expression"))
    assert "Pregunta 2 de 3" in area and "Entrecejo (las líneas del 11)" in area
    assert_spanish_links(area)
    goal = submit(client, area, ("area", "between_brows"), ("area", "cheeks"))
    assert "Pregunta 3 de 3" in goal and "Evitar que se formen líneas nuevas" in goal
    assert_spanish_links(goal)
    result = submit(client, goal, ("goal", "prevent"))
    assert 'data-outcome="both"' in result  # scoring is language-neutral
    assert "Sus respuestas apuntan a ambos" in result and "Cambiar mis respuestas" in result
    assert "Por qué sus respuestas llevaron aquí" in result
    assert_spanish_links(result)

    link = re.search(r'id="request-callback" href="([^"]+)"', result).group(1)  # type: ignore[union-attr]
    assert dict(parse_qsl(urlsplit(link).query))["lang"] == "es"
    form_page = text(client.get(link))
    assert "¿Quiere que le llamemos?" in form_page and "Mejor hora para llamarle" in form_page
    assert "Con el código de área, por ejemplo (301) 810-5740." in form_page  # the phone's hint
    assert SPANISH_CONSENT in form_page

    fields = dict(callback_fields(form_page))
    assert fields["lang"] == ["es"]
    empty = client.post("/quiz/callback", data={**fields, "consent": ""})
    assert empty.status_code == 422
    errors = text(empty)
    assert re.search(r'<html lang="es">', errors)
    assert "Hay 3 problemas que corregir" in errors
    assert '<a href="#name">Díganos su nombre.</a>' in errors
    assert '<a href="#phone">Indique un número de teléfono al que podamos llamar.</a>' in errors
    assert '<a href="#consent">Marque la casilla para que podamos llamarle.</a>' in errors
    bad_phone = text(client.post("/quiz/callback", data={**fields, "phone": "123", "name": "Ana"}))
    assert "Escriba un número de teléfono al que podamos llamar" in bad_phone

    thanks = client.post(
        "/quiz/callback",
        data={**fields, "name": "Ana López", "phone": "(301) 810-5740", "best_time": "morning",
              "consent": "yes"},
    )  # fmt: skip
    assert thanks.status_code == 200
    page = text(thanks)
    assert "Gracias, nos pondremos en contacto." in page
    assert "Alazzo Med Spa le llamará dentro de un día hábil, por la mañana." in page
    # The heading thanks her; the text says what comes next.
    assert page[page.index('id="thanks"') :].count("Gracias") == 1
    [lead] = leads(app)
    assert lead.locale == "es"
    assert lead.consent_text == SPANISH_CONSENT
    assert lead.consent_text_version == "2026-11-30-es"
    assert lead.consent_text_hash == hashlib.sha256(SPANISH_CONSENT.encode()).hexdigest()
    assert (lead.concern, lead.areas, lead.goal) == (
        "expression",
        "between_brows;cheeks",
        "prevent",
    )


def test_an_english_lead_is_stored_in_english(app: Flask, client: FlaskClient) -> None:
    from tests.support.patient import valid_callback

    assert client.post("/quiz/callback", data=valid_callback(client)).status_code == 200
    [lead] = leads(app)
    assert lead.locale == "en" and lead.consent_text.startswith("I agree that Alazzo Med Spa")


def test_errors_are_in_spanish_too(client: FlaskClient) -> None:
    missing = client.get("/quiz/nowhere?lang=es")
    assert missing.status_code == 404
    assert "No encontramos esa página." in text(missing) and "Lo sentimos" in text(missing)
    by_browser = client.get("/quiz/nowhere", headers={"Accept-Language": "es"})
    assert "No encontramos esa página." in text(by_browser)
    assert "Accept-Language" in by_browser.headers["Vary"]
    broken = client.get("/quiz/result?concern=botox&area=cheeks&goal=prevent&lang=es")
    assert broken.status_code == 400
    assert "No reconocemos esa respuesta a «qué le molesta»." in text(broken)
    assert 'href="/quiz/?lang=es"' in broken.get_data(as_text=True)
    asked_again = text(client.get("/quiz/goal?concern=expression&lang=es"))
    assert "Elija al menos una zona de su cara." in asked_again


def test_a_database_outage_is_explained_in_spanish(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    from sqlalchemy.exc import OperationalError

    from quiz.patient import callback as callback_view

    page = client.get(
        "/quiz/callback?concern=expression&area=cheeks&goal=prevent&lang=es"
    ).get_data(as_text=True)
    fields = dict(callback_fields(page))

    def down(**_kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(callback_view, "store_lead", down)
    response = client.post(
        "/quiz/callback",
        data={**fields, "name": "Ana", "phone": "(301) 810-5740", "consent": "yes"},
    )
    assert response.status_code == 503
    assert "No pudimos guardar su solicitud en este momento" in text(response)


def test_both_exports_append_the_leads_language(app: Flask, admin: Any) -> None:
    # design.md: `locale`, `first_contacted_at` join the contract's columns, in that order.
    add_lead(app, name="Ana López", locale="es")
    add_lead(app, name="Jane Patient")
    rows = list(csv.reader(io.StringIO(post_export(admin, "csv").get_data(as_text=True))))
    at = rows[0].index("locale")  # after the contract's columns, wherever later ones follow
    assert rows[0][at : at + 2] == ["locale", "first_contacted_at"]
    assert rows[0][:2] == ["id", "created_at"] and at > rows[0].index("utm_campaign")
    assert {row[3]: row[at] for row in rows[1:]} == {"Ana López": "es", "Jane Patient": "en"}
    sheet = load_workbook(io.BytesIO(post_export(admin, "xlsx").data), read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][at : at + 2] == ["locale", "first_contacted_at"]
    assert {r[3]: r[at] for r in table[1:]} == {"Ana López": "es", "Jane Patient": "en"}


def test_staff_see_the_leads_language_on_the_list_and_the_lead_page(app: Flask, desk: Any) -> None:
    lead_id = add_lead(app, name="Ana López", locale="es", consent_text=SPANISH_CONSENT)
    assert "Language: Spanish" in words(desk.get("/staff/"))
    page = desk.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert re.search(r"<dt>Language</dt><dd[^>]*>Spanish</dd>", page)
    assert '<blockquote lang="es">' in page  # read aloud as Spanish
