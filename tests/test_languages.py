"""Languages as data: the Spanish content mirrors the English, the catalog is complete,
and the page's language comes from `lang` or Accept-Language, cookie-less and cacheable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from quiz import create_app
from quiz.content.file import DEFAULT_CONTENT
from quiz.core.model import ContentError
from quiz.settings import ConfigError
from tests.support.app import base_config
from tests.support.content import load_locales

REPO = Path(__file__).resolve().parent.parent
CATALOG = REPO / "quiz" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
SPANISH = DEFAULT_CONTENT.with_name("quiz.es.toml")
RESULT = "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent"


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def page_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, "no <html lang>"
    return found.group(1)


def heading(html: str) -> str:
    found = re.search(r'<h1 id="step-heading"[^>]*>(.*?)</h1>', html, re.S)
    assert found, "no step heading"
    return re.sub(r"<[^>]+>", "", found.group(1))


# --- the content in each language -------------------------------------------------------


def test_spanish_content_has_the_same_ids_weights_and_placeholders_as_english() -> None:
    contents = load_locales()
    assert list(contents) == ["en", "es"]
    en, es = contents["en"], contents["es"]
    for q_en, q_es in zip(en.questions, es.questions, strict=True):
        assert q_es.option_ids == q_en.option_ids
        assert [(o.relax, o.fill, o.treats) for o in q_es.options] == [
            (o.relax, o.fill, o.treats) for o in q_en.options
        ]
    assert es.copy.keys() == en.copy.keys()
    assert "{spa_name}" in es.copy["consent_text"] and "{best_time}" in es.copy["thanks_text"]
    assert es.copy["consent_version"] != en.copy["consent_version"]  # its own text, its own version
    assert es.question("concern").title == "¿Qué es lo que más le molesta?"
    # One version over both files, so the render cache never keeps a page past an edit of either.
    assert es.version == en.version


def _copy_with_spanish(tmp_path: Path, change: Any) -> Path:
    english = tmp_path / "quiz.toml"
    english.write_text(DEFAULT_CONTENT.read_text(encoding="utf-8"), encoding="utf-8")
    spanish = SPANISH.read_text(encoding="utf-8")
    (tmp_path / "quiz.es.toml").write_text(change(spanish), encoding="utf-8")
    return english


def test_a_missing_spanish_key_stops_start_up_naming_the_file_and_the_key(
    tmp_path: Path, database_uri: str
) -> None:
    content = _copy_with_spanish(
        tmp_path, lambda text: re.sub(r'(?m)^start = ".*"\n', "", text, count=1)
    )
    with pytest.raises(ContentError) as failure:
        create_app(base_config(database_uri, QUIZ_CONTENT_FILE=str(content)))
    message = str(failure.value)
    assert "quiz.es.toml" in message and "copy.start" in message and "missing" in message


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t.replace("[copy]\n", '[copy]\nslogan = "¡Hola!"\n'), "copy.slogan: extra key"),
        (lambda t: t.replace('id = "cheeks"', 'id = "mejillas"'), "questions.area.options"),
        (lambda t: t.replace("relax = 3", "relax = 2", 1), "weights are the same"),
        (lambda t: t.replace("{spa_name} le llamará", "La clínica le llamará"), "placeholders"),
        (lambda t: t.replace('treats = ["fill"]', 'treats = ["relax"]', 1), "never translated"),
    ],
    ids=["extra key", "renamed id", "other weight", "lost placeholder", "other treatment"],
)
def test_a_spanish_file_that_differs_from_english_is_refused(
    tmp_path: Path, change: Any, says: str
) -> None:
    with pytest.raises(ContentError, match=re.escape(says)) as failure:
        load_locales(_copy_with_spanish(tmp_path, change))
    assert "quiz.es.toml" in str(failure.value)


def test_a_default_language_the_quiz_does_not_have_stops_start_up(database_uri: str) -> None:
    with pytest.raises(ConfigError, match="DEFAULT_LANGUAGE"):
        create_app(base_config(database_uri, DEFAULT_LANGUAGE="fr"))


# --- the interface's catalog ---------------------------------------------------------------


def test_the_spanish_catalog_has_no_empty_or_fuzzy_entry() -> None:
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="es")
    assert not catalog.fuzzy
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert untranslated == []
    assert len([m for m in catalog if m.id]) > 80


def test_every_interface_string_in_the_code_is_in_the_spanish_catalog(tmp_path: Path) -> None:
    """`make translations` was run after the last string changed (no English left on a page)."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "-o", str(pot), "quiz"],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with CATALOG.open("rb") as f:
        have = {m.id for m in read_po(f) if m.id}
    assert wanted - have == set()


# --- choosing the language -----------------------------------------------------------------


def test_accept_language_chooses_the_first_screen_and_says_vary(client: FlaskClient) -> None:
    spanish = client.get("/quiz/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert spanish.status_code == 200
    assert "Accept-Language" in spanish.headers["Vary"]
    html = text(spanish)
    assert page_lang(html) == "es" and heading(html) == "¿Relajar o rellenar?"
    assert '<input type="hidden" name="lang" value="es">' in html  # the start keeps it
    english = client.get("/quiz/", headers={"Accept-Language": "fr-FR,de;q=0.8"})
    assert page_lang(text(english)) == "en" and heading(text(english)) == "Relax or fill?"


def test_a_lang_in_the_url_wins_over_the_browser_and_needs_no_vary(client: FlaskClient) -> None:
    response = client.get("/quiz/?lang=en", headers={"Accept-Language": "es"})
    assert page_lang(text(response)) == "en"
    assert "Accept-Language" not in response.headers.get("Vary", "")


@pytest.mark.parametrize("lang", ["fr", "xx-yy", "ES-<script>", "e"])
def test_an_unsupported_lang_falls_back_to_the_default_without_an_error(
    client: FlaskClient, lang: str
) -> None:
    response = client.get(f"/quiz/concern?lang={lang}", headers={"Accept-Language": "es"})
    assert response.status_code == 200
    html = text(response)
    assert page_lang(html) == "en" and "<script>" not in html
    assert '<input type="hidden" name="lang" value="en">' in html


@pytest.mark.parametrize("app_config", [{"DEFAULT_LANGUAGE": "es"}])
def test_the_spa_can_make_spanish_its_default(client: FlaskClient) -> None:
    assert page_lang(text(client.get("/quiz/?lang=fr"))) == "es"
    assert page_lang(text(client.get("/quiz/", headers={"Accept-Language": "de"}))) == "es"
    assert page_lang(text(client.get("/quiz/", headers={"Accept-Language": "en-US"}))) == "en"


def test_every_step_offers_the_other_language_keeping_the_answers(client: FlaskClient) -> None:
    html = text(client.get("/quiz/goal?concern=volume&area=cheeks&goal=repair&lang=en"))
    links = dict(
        (m.group(2), m.group(1).replace("&amp;", "&"))
        for m in re.finditer(r'<a href="([^"]+)" lang="(\w+)" hreflang="\2"', html)
    )
    assert links == {
        "en": "/quiz/goal?concern=volume&area=cheeks&goal=repair&lang=en",
        "es": "/quiz/goal?concern=volume&area=cheeks&goal=repair&lang=es",
    }
    assert ">English</a>" in html and ">Español</a>" in html
    spanish = text(client.get(links["es"]))
    assert page_lang(spanish) == "es" and "¿Qué le gustaría lograr?" in heading(spanish)
    assert re.search(r'id="goal-repair" value="repair" checked', spanish)  # the answer kept
    for step in ("/quiz/?lang=es", "/quiz/concern?lang=es", RESULT + "&lang=es"):
        assert 'hreflang="en"' in text(client.get(step)), step


def test_a_fragment_says_its_language(client: FlaskClient) -> None:
    fragment = text(client.get("/quiz/area?concern=volume&lang=es", headers={"HX-Request": "1"}))
    assert "<html" not in fragment
    assert re.search(r'<section class="step step-area"[^>]* lang="es"', fragment)
    assert "<title>¿En qué parte de la cara? (pregunta 2 de 3)" in fragment


def test_the_render_cache_never_serves_one_language_for_the_other(app: Flask) -> None:
    assert app.config["RENDER_CACHE_ENTRIES"] > 0
    client = app.test_client(use_cookies=False)
    for _ in range(2):  # the second round is served from the cache
        for url, accept, want in [
            ("/quiz/", "es", "¿Relajar o rellenar?"),
            ("/quiz/", "en", "Relax or fill?"),
            ("/quiz/", "", "Relax or fill?"),
            ("/quiz/?lang=es", "en", "¿Relajar o rellenar?"),
            ("/quiz/?lang=en", "es", "Relax or fill?"),
            ("/quiz/area?concern=volume", "es-AR", "¿En qué parte de la cara?"),
            ("/quiz/area?concern=volume", "en-GB", "Where on your face?"),
        ]:
            response = client.get(url, headers={"Accept-Language": accept} if accept else {})
            assert want in heading(text(response)), (url, accept)
    assert len(app.extensions["render_cache"].lru) >= 6
