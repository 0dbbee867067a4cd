"""Hostile drafts: a file of the wrong shape or thousands of levels deep is refused with a message.

Valid TOML of the wrong shape (`questions = "hello"`, `copy = 5`) or a file
3,000 levels deep used to be saved; then the editor, its preview and its
review answered 500 and only a hand-made POST got rid of the draft. Now the
save is refused with the file and the key named, the text sent stays in the
box, and every editor page still answers, with the discard button, even for
such a draft already stored (saved before these checks, or written by hand).
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.content.document import ContentDocument
from quiz.content.file import DEFAULT_CONTENT
from quiz.db.engine import db
from quiz.db.models import ContentDraft, ContentVersion, StaffUser
from quiz.db.scope import DEFAULT_SPA_ID
from tests.support.staff import ADMIN_EMAIL, csrf_token

ENGLISH = DEFAULT_CONTENT.read_text(encoding="utf-8")
SPANISH = DEFAULT_CONTENT.with_name("quiz.es.toml").read_text(encoding="utf-8")
DEEP = "a = " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_TABLES = "[" + ".".join(["x"] * 3000) + "]\ny = 1\n"
HOSTILE = {
    "questions is text": 'questions = "hello"\n',
    "copy is a number": "copy = 5\n" + ENGLISH.split("[copy]")[0],
    "rules is a number": "rules = 5\n" + ENGLISH.replace("[rules]", "[rules_old]", 1),
    "a product is text": ENGLISH.replace(
        "[products.botox]", '[products]\nbotox = "x"\n[products_botox]', 1
    ),
    "3,000 nested arrays": DEEP,
    "3,000 nested tables": DEEP_TABLES,
}
EDITOR_PAGES = ["/staff/content", "/staff/content/preview", "/staff/content/review"]


def draft_text(app: Flask) -> str | None:
    with app.app_context():
        row = db.session.get(ContentDraft, (DEFAULT_SPA_ID, staff_id(app)))
        return None if row is None else ContentDocument.from_json(row.document).text("en")


def staff_id(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(
            db.select(StaffUser.id).where(StaffUser.email == ADMIN_EMAIL)
        ).scalar_one()


def send_file(client: FlaskClient, text: str, locale: str = "en") -> tuple[int, str]:
    html = client.get("/staff/content").get_data(as_text=True)
    response = client.post(
        f"/staff/content/files/{locale}", data={"csrf_token": csrf_token(html), "text": text}
    )
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_file_is_refused_with_a_message_and_kept_in_the_box(
    app: Flask, admin: FlaskClient, text: str
) -> None:
    status, page = send_file(admin, text)
    assert status == 400
    assert "quiz.toml:" in page and ("must be" in page or "levels deep" in page)
    box = re.search(r'id="text-en"[^>]*>(.*?)</textarea>', page, re.S)
    assert box and html_lib.unescape(box.group(1)) == text  # nothing typed is lost
    assert draft_text(app) is None  # and nothing was stored


@pytest.mark.parametrize("locale", ["es"])
def test_a_translation_of_the_wrong_shape_is_refused_too(
    app: Flask, admin: FlaskClient, locale: str
) -> None:
    status, page = send_file(admin, "copy = 5\n" + SPANISH.replace("[copy]", "[copia]", 1), locale)
    assert status == 400 and "quiz.es.toml: copy: must be a table" in page


def test_a_file_with_a_typo_is_still_saved_and_its_problem_listed(
    app: Flask, admin: FlaskClient
) -> None:
    text = ENGLISH.replace("intro_title", "intro_titel", 1)
    status, _ = send_file(admin, text)
    assert status == 303 and draft_text(app) == text
    assert "intro_title" in admin.get("/staff/content").get_data(as_text=True)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_stored_hostile_draft_leaves_every_page_answering_and_can_be_discarded(
    app: Flask, admin: FlaskClient, text: str
) -> None:
    # As if saved before these checks existed: written straight into the table.
    with app.app_context():
        document = ContentDocument.of({"en": text, "es": SPANISH})
        db.session.add(ContentDraft(staff_id=staff_id(app), document=document.to_json()))
        db.session.commit()
    for url in EDITOR_PAGES:
        response = admin.get(url)
        assert response.status_code in (200, 303), (url, response.status_code)
    page = admin.get("/staff/content").get_data(as_text=True)
    assert 'action="/staff/content/discard"' in page
    assert "quiz.toml:" in page  # the problem is named
    discarded = admin.post("/staff/content/discard", data={"csrf_token": csrf_token(page)})
    assert discarded.status_code == 303 and draft_text(app) is None


@pytest.mark.parametrize("text", [DEEP, DEEP_TABLES], ids=["arrays", "tables"])
def test_importing_a_file_thousands_deep_is_refused_with_a_message(
    app: Flask, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "quiz.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "quiz.es.toml").write_text(SPANISH, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["content", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}: nested more than 12 levels deep" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not an uncaught error


def test_a_broken_stored_version_is_named_not_called_a_passing_state(
    app: Flask, admin: FlaskClient
) -> None:
    # A hand-edited row past the checks: its page names the problem (it used to
    # say "reload in a few seconds", which is only true while nothing is published).
    with app.app_context():
        db.session.add(
            ContentVersion(id=2, author="x", note="", based_on=1, content_hash="x", document="{")
        )
        db.session.commit()
    response = admin.get("/staff/content/history/2")
    page = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "the stored document is not JSON" in page and "content editor" in page
    assert "Reload in a few seconds" not in page
