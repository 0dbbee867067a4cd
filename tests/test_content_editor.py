"""The staff content editor (issue 14): drafts, per-field problems, publishing, history.

Through the test client on a real database (a SQLite file, then PostgreSQL):
an admin edits the draft screen by screen, sees each problem next to its
field, publishes, and patients see the change; `live_content(app).check()` is
what each worker's thread does every few seconds.
"""

from __future__ import annotations

import html as html_lib
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.content import publishing as content_publishing
from quiz.content.live import live_content
from quiz.db.engine import db
from quiz.db.models import AuditLog, ContentDraft, ContentVersion
from tests.support.staff import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    create_staff,
    csrf_token,
    signed_in_client,
)

LABEL = "questions.concern.options.expression.label"


def editor(client: FlaskClient) -> str:
    response = client.get("/staff/content")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def field_value(html: str, name: str) -> str:
    """The value an input (or textarea) named `name` shows."""
    escaped = re.escape(name)
    found = re.search(rf'name="{escaped}" value="([^"]*)"', html) or re.search(
        rf'name="{escaped}"[^>]*>([^<]*)</textarea>', html
    )
    assert found, name
    return found.group(1)


def save(client: FlaskClient, screen: str, **fields: str) -> str:
    """Post a screen with `fields` ({"en|key": text}) changed; the editor page that follows."""
    html = editor(client)
    form = {"csrf_token": csrf_token(html)}
    form.update({k.replace("__", "|"): v for k, v in fields.items()})
    response = client.post(f"/staff/content/screens/{screen}", data=form)
    assert response.status_code == 303
    return editor(client)


def review(client: FlaskClient) -> dict[str, str]:
    """The review page's publish form, as the editor's browser holds it."""
    html = client.get("/staff/content/review").get_data(as_text=True)
    based_on = re.search(r'name="based_on" value="(\d*)"', html)
    assert based_on, html
    return {"csrf_token": csrf_token(html), "based_on": based_on.group(1)}


def publish(
    client: FlaskClient, note: str = "kinder words", form: dict[str, str] | None = None
) -> tuple[int, str]:
    data = {**(form or review(client)), "note": note}
    response = client.post("/staff/content/publish", data=data)
    return response.status_code, response.get_data(as_text=True)


def patient_page(app: Flask, lang: str = "en") -> str:
    live_content(app).check()
    return app.test_client().get(f"/quiz/concern?lang={lang}").get_data(as_text=True)


def test_desk_accounts_cannot_open_the_editor(desk: FlaskClient) -> None:
    for url in ("/staff/content", "/staff/content/preview", "/staff/content/history"):
        assert desk.get(url).status_code == 403
    assert desk.post("/staff/content/discard").status_code in (400, 403)


def test_the_editor_needs_a_signed_in_account(client: FlaskClient) -> None:
    response = client.get("/staff/content")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_every_text_is_shown_in_each_language_side_by_side(admin: FlaskClient) -> None:
    html = editor(admin)
    assert "Lines that appear when I squint" in field_value(html, f"en|{LABEL}")
    assert field_value(html, f"es|{LABEL}") and field_value(html, f"es|{LABEL}") != field_value(
        html, f"en|{LABEL}"
    )
    # Weights are one field for every language.
    assert field_value(html, "*|questions.area.options.forehead.relax") == "3"
    assert 'name="en|questions.area.options.forehead.relax"' not in html
    for screen in ("intro", "concern", "area", "goal", "result", "callback", "weights"):
        assert f'id="screen-{screen}"' in html


def test_publishing_a_changed_label_in_english_and_spanish_changes_what_patients_see(
    app: Flask, admin: FlaskClient
) -> None:
    before = patient_page(app)
    assert "Lines when I smile" not in before
    html = save(
        admin,
        "concern",
        **{f"en__{LABEL}": "Lines when I smile", f"es__{LABEL}": "Líneas al sonreír"},
    )
    assert "Your draft passes every check" in html
    # Saved, not published: patients still see the old label.
    assert "Lines when I smile" not in patient_page(app)
    status, _ = publish(admin)
    assert status == 303
    assert "Lines when I smile" in patient_page(app)
    assert "Líneas al sonreír" in patient_page(app, "es")
    with app.app_context():
        latest = content_publishing.latest()
        assert latest is not None and latest.author == ADMIN_EMAIL and latest.note == "kinder words"
        assert db.session.query(ContentDraft).count() == 0  # the draft is gone once published
        assert db.session.query(AuditLog).filter_by(action="content_publish").count() == 1


@pytest.mark.parametrize(
    ("screen", "name", "typed", "message"),
    [
        ("concern", f"en|{LABEL}", "  ", "missing text"),
        ("weights", "*|questions.area.options.forehead.relax", "high", "weight must be a number"),
        ("callback", "en|copy.consent_text", "I agree that {spa} may call", "unknown placeholder"),
        ("callback", "es|copy.consent_text", "Acepto que {spa_name} me llame {", "placeholders"),
    ],
)
def test_an_invalid_draft_is_refused_with_the_field_marked_and_nothing_published(
    app: Flask, admin: FlaskClient, screen: str, name: str, typed: str, message: str
) -> None:
    html = save(admin, screen, **{name.replace("|", "__"): typed})
    locale, key = name.split("|")
    marked = "all" if locale == "*" else locale
    field = re.search(rf'<(?:input|textarea) id="f-{marked}-{re.escape(key)}"[^>]*>', html)
    assert field and 'aria-invalid="true"' in field.group(0), html
    error_id = f"e-f-{marked}-{re.escape(key)}"
    error = re.search(rf'<span class="field-error" id="{error_id}">([^<]*)', html)
    assert error and message in error.group(1)
    assert "to fix before publishing" in html
    review = admin.get("/staff/content/review").get_data(as_text=True)
    assert "can't be published yet" in review and "Publish these changes" not in review
    with app.app_context():
        assert [row.id for row in content_publishing.history()] == [1]


def test_every_problem_is_shown_at_once(admin: FlaskClient) -> None:
    html = save(
        admin,
        "concern",
        **{
            f"en__{LABEL}": "",
            "es__questions.concern.options.volume.label": "",
            "en__questions.concern.title": "",
        },
    )
    assert html.count('aria-invalid="true"') >= 3
    assert "3 problems to fix before publishing" in html


def test_a_duplicate_id_in_a_file_is_refused_naming_the_answer(admin: FlaskClient) -> None:
    html = editor(admin)
    english = field_value_file(html, "en")
    broken = english.replace('id = "etched"', 'id = "expression"', 1)
    response = admin.post(
        "/staff/content/files/en", data={"csrf_token": csrf_token(html), "text": broken}
    )
    assert response.status_code == 303
    html = editor(admin)
    assert "duplicate option id" in html
    marked = r'<fieldset class="content-group" aria-invalid="true">\s*<legend>([^<]*)'
    group = re.search(marked, html)
    assert group and "expression" in group.group(1)


def field_value_file(html: str, locale: str) -> str:
    found = re.search(rf'<textarea id="text-{locale}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found
    return html_lib.unescape(found.group(1))


def test_a_draft_is_kept_across_sign_ins(app: Flask, admin: FlaskClient) -> None:
    save(admin, "intro", **{"en__copy.intro_title": "Relax, or fill?"})
    admin.post("/staff/logout", data={"csrf_token": csrf_token(editor(admin))})
    again = signed_in_client(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert field_value(editor(again), "en|copy.intro_title") == "Relax, or fill?"


def test_two_editors_publishing_from_the_same_base_the_second_is_refused(
    app: Flask, admin: FlaskClient
) -> None:
    create_staff(app, "second@spa.example", "another long passphrase 42", role="admin")
    other = signed_in_client(app, "second@spa.example", "another long passphrase 42")
    save(admin, "intro", **{"en__copy.intro_title": "First editor's title"})
    save(other, "intro", **{"en__copy.start": "Second editor's button"})
    seen_by_other = review(other)  # both review against version 1
    assert publish(admin)[0] == 303
    status, html = publish(other, form=seen_by_other)
    assert status == 409
    assert "Someone published meanwhile" in html and "First editor&#39;s title" in html
    with app.app_context():
        assert [row.id for row in content_publishing.history()] == [2, 1]
    assert "Second editor" not in patient_page(app).split("<main")[0]


def test_rollback_restores_an_older_versions_text_for_patients(
    app: Flask, admin: FlaskClient
) -> None:
    save(admin, "concern", **{f"en__{LABEL}": "Lines when I smile"})
    assert publish(admin)[0] == 303
    assert "Lines when I smile" in patient_page(app)
    page = admin.get("/staff/content/history/1").get_data(as_text=True)
    response = admin.post(
        "/staff/content/history/1/rollback",
        data={"csrf_token": csrf_token(page), "based_on": "2", "note": "back"},
    )
    assert response.status_code == 303
    assert "Lines when I smile" not in patient_page(app)
    history = admin.get("/staff/content/history").get_data(as_text=True)
    assert "[copy of 1]" in history
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(action="content_rollback").count() == 1


def test_a_draft_the_same_as_the_published_version_publishes_nothing(
    app: Flask, admin: FlaskClient
) -> None:
    html = editor(admin)
    same = field_value(html, f"en|{LABEL}")
    save(admin, "concern", **{f"en__{LABEL}": html_lib.unescape(same)})
    review_page = admin.get("/staff/content/review").get_data(as_text=True)
    assert "nothing to publish" in review_page
    response = admin.post(
        "/staff/content/publish", data={"csrf_token": csrf_token(review_page), "based_on": "1"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert [row.id for row in content_publishing.history()] == [1]


def forehead_filled(text: str) -> str:
    """A language's file with the forehead made a filler's area (the site rule forbids it)."""
    head, forehead = text.split('id = "forehead"', 1)
    block, rest = forehead.split("[[questions.options]]", 1)
    block = block.replace('treatment = "relax"', 'treatment = "fill"')
    block = block.replace('products = ["botox", "xeomin"]', 'products = ["ha"]')
    return f'{head}id = "forehead"{block}[[questions.options]]{rest}'


def test_a_draft_that_breaks_the_site_rule_is_refused_naming_the_answer_set_and_area(
    app: Flask, admin: FlaskClient
) -> None:
    for locale in ("en", "es"):  # ids and `treatment` are the same in every language
        html = editor(admin)
        text = forehead_filled(field_value_file(html, locale))
        response = admin.post(
            f"/staff/content/files/{locale}", data={"csrf_token": csrf_token(html), "text": text}
        )
        assert response.status_code == 303
    html = editor(admin)
    assert "to fix before publishing" in html
    assert "area=forehead" in html and "Forehead is not a site for it" in html
    review_page = admin.get("/staff/content/review").get_data(as_text=True)
    assert "can't be published yet" in review_page and "area=forehead" in review_page
    # Sent anyway (an old tab's form): refused, nothing stored.
    response = admin.post(
        "/staff/content/publish", data={"csrf_token": csrf_token(review_page), "based_on": "1"}
    )
    assert response.status_code == 409 and "area=forehead" in response.get_data(as_text=True)
    with app.app_context():
        assert [row.id for row in content_publishing.history()] == [1]


def test_weights_never_break_the_site_rule_they_only_pick_the_lead(admin: FlaskClient) -> None:
    html = save(
        admin,
        "weights",
        **{
            "*__questions.area.options.forehead.relax": "0",
            "*__questions.area.options.forehead.fill": "3",
        },
    )
    assert "to fix before publishing" not in html
    review_page = admin.get("/staff/content/review").get_data(as_text=True)
    assert "can't be published yet" not in review_page


def test_without_a_published_version_the_editor_says_what_to_do(
    app: Flask, admin: FlaskClient
) -> None:
    with app.app_context():  # as on a database migrated after the app started
        db.session.query(ContentVersion).delete()
        db.session.commit()
    response = admin.get("/staff/content")
    assert response.status_code == 503
    assert "no version is published yet" in response.get_data(as_text=True)
