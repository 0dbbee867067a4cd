"""The checks every publish runs (issue 14): the principle, the consent bump, stale publishes.

On a real database (SQLite, then PostgreSQL), through content_publishing.publish
as the editor will call it and through `flask content` as an operator does;
a lead is sent through the test client as a patient sends it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from flask import Flask

from quiz import create_app
from quiz.content import publishing as content_publishing
from quiz.content.consent_bump import consent_of
from quiz.content.document import ContentDocument, read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.publishing import PrincipleError, StaleVersion
from quiz.core.clock import utcnow
from quiz.core.scoring import Answers
from quiz.db.engine import db
from quiz.db.models import AuditLog, ContentVersion
from tests.support.app import base_config, leads
from tests.support.patient import valid_callback
from tests.support.staff import cli

EN_SENTENCE, EN_VERSION = consent_of(DEFAULT_CONTENT.read_text(encoding="utf-8"))


def make_app(uri: str) -> Flask:
    """An app that checks for a new version on every request (no waiting in tests)."""
    app = create_app(base_config(uri, CONTENT_CHECK_SECONDS=0))
    assert app.test_client().get("/quiz/").status_code == 200  # version 1 stored
    return app


def copy_files(tmp_path: Path, edit: Any) -> Path:
    """quiz.toml and quiz.es.toml copied, each file's TOML document passed to `edit`."""
    folder = tmp_path / "draft"
    folder.mkdir()
    for name in ("quiz.toml", "quiz.es.toml"):
        document = tomlkit.parse((DEFAULT_CONTENT.parent / name).read_text(encoding="utf-8"))
        edit(name, document)
        (folder / name).write_text(tomlkit.dumps(document), encoding="utf-8")
    return folder / "quiz.toml"


def versions(app: Flask) -> list[ContentVersion]:
    with app.app_context():
        rows = content_publishing.history()
        db.session.expunge_all()
        return rows


def forehead_filled(name: str, document: Any) -> None:
    """The draft's mistake: the forehead made a filler's area (in every language)."""
    [forehead] = [o for o in document["questions"][1]["options"] if o["id"] == "forehead"]
    forehead["treatment"], forehead["products"] = "fill", ["ha"]


def test_a_draft_that_breaks_the_principle_is_refused_naming_the_answer_set(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)
    draft = copy_files(tmp_path, forehead_filled)
    result = cli(app, "content", "publish", str(draft), "--note", "oops")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.startswith(
        f"Error: nothing was published: {draft}: the result breaks the site rule for "
        "“Lines that appear when I squint, frown or raise my brows” on Forehead, to “Stop new "
        "lines from forming” (concern=expression, area=forehead, goal=prevent)"
    )
    assert "but Forehead is not a site for it" in result.output
    with app.app_context(), pytest.raises(PrincipleError) as refused:
        content_publishing.publish(
            read_document(draft), author="a@spa.example", note="", based_on=1,
            languages=app.extensions["quiz_languages"],
        )  # fmt: skip
    assert refused.value.violation.answers == Answers("expression", ("forehead",), "prevent")
    # The editor can run the same checks on a draft without publishing it.
    languages = app.extensions["quiz_languages"]
    with pytest.raises(PrincipleError, match="concern=expression, area=forehead, goal=prevent"):
        content_publishing.check(read_document(draft), languages)
    assert set(content_publishing.check(read_document(DEFAULT_CONTENT), languages)) == {"en", "es"}
    assert [v.id for v in versions(app)] == [1]  # nothing stored
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditLog.id))) == 0


def test_a_changed_consent_sentence_gets_a_new_version_and_the_next_lead_stores_it(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)
    new_sentence = EN_SENTENCE.replace("Reply STOP to any text", "Reply STOP to any message")

    def reword(name: str, document: Any) -> None:
        if name == "quiz.toml":  # the sentence changed, its version forgotten
            document["copy"]["consent_text"] = new_sentence

    draft = copy_files(tmp_path, reword)
    before = utcnow().date()
    result = cli(app, "content", "publish", str(draft), "--note", "kinder opt-out")
    days = {before, utcnow().date()}  # the publish's UTC date (a test run may cross midnight)
    assert result.exit_code == 0, result.output
    [newest, _] = versions(app)
    stored = json.loads(newest.document)
    new_version = consent_of(stored["en"])[1]
    assert new_version in {f"{day.isoformat()}-v2" for day in days}
    assert f"copy.consent_version is now {new_version!r} (was {EN_VERSION!r})" in result.output
    # The stored text is the editor's, with that one value rewritten; Spanish untouched.
    assert stored["en"] == draft.read_text(encoding="utf-8").replace(
        f'consent_version = "{EN_VERSION}"', f'consent_version = "{new_version}"'
    )
    assert stored["es"] == draft.with_name("quiz.es.toml").read_text(encoding="utf-8")
    with app.app_context():
        audit = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "content_publish"))
        assert audit is not None
        assert json.loads(audit.detail)["consent_version"] == {"en": new_version}

    client = app.test_client(use_cookies=False)
    response = client.post("/quiz/callback", data=valid_callback(client))
    assert response.status_code == 200
    [lead] = leads(app)
    shown = new_sentence.format(spa_name=app.extensions["quiz_spa"].name)
    assert lead.consent_text == shown
    assert lead.consent_text_hash == hashlib.sha256(shown.encode()).hexdigest()
    assert lead.consent_text_version == new_version != EN_VERSION


def test_a_version_the_editor_changed_with_the_sentence_is_kept(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)

    def reword(name: str, document: Any) -> None:
        if name == "quiz.toml":
            document["copy"]["consent_text"] = EN_SENTENCE.replace("any text", "any message")
            document["copy"]["consent_version"] = "spring-2027"

    draft = copy_files(tmp_path, reword)
    result = cli(app, "content", "publish", str(draft))
    assert result.exit_code == 0 and "consent_version is now" not in result.output
    assert versions(app)[0].document == read_document(draft).to_json()


def test_a_stale_publish_names_the_version_published_meanwhile(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)
    draft = read_document(copy_files(tmp_path, lambda name, doc: None))
    edited = ContentDocument.of(
        {k: v.replace('label = "Forehead"', 'label = "Brow"') for k, v in draft.texts}
    )
    languages = app.extensions["quiz_languages"]
    with app.app_context():
        assert content_publishing.published_since(1) == []
        content_publishing.publish(
            edited, author="a@spa.example", note="shorter label", based_on=1, languages=languages
        )
        with pytest.raises(StaleVersion) as stale:
            content_publishing.publish(
                draft, author="b@spa.example", note="mine", based_on=1, languages=languages
            )
        [theirs] = stale.value.published
        assert (theirs.id, theirs.author, theirs.note, theirs.based_on) == (
            2, "a@spa.example", "shorter label", 1,
        )  # fmt: skip
        assert theirs.published_at is not None
        assert (stale.value.based_on, stale.value.latest) == (1, 2)
        assert str(stale.value).startswith(
            "version 2 was published since version 1, which this change is based on "
            "(version 2 by a@spa.example at "
        )
        assert "“shorter label”); start again from the latest version" in str(stale.value)
        assert [v.id for v in content_publishing.published_since(1)] == [2]
        assert [v.id for v in content_publishing.published_since(None)] == [1, 2]
        assert content_publishing.published_since(2) == []
        # What the editor shows as "the other person's change".
        [change] = content_publishing.diff(content_publishing.version(1), theirs)
        assert '+  label = "Brow"' in change.text
    result = cli(
        app, "content", "publish", str(tmp_path / "draft" / "quiz.toml"), "--based-on", "1"
    )
    assert result.exit_code != 0
    assert "by a@spa.example at " in result.output and "“shorter label”" in result.output
    assert [v.id for v in versions(app)] == [2, 1]


def test_flask_content_diff_prints_each_languages_change(database_uri: str, tmp_path: Path) -> None:
    app = make_app(database_uri)

    def relabel(name: str, document: Any) -> None:
        [forehead] = [o for o in document["questions"][1]["options"] if o["id"] == "forehead"]
        forehead["label"] = "Brow" if name == "quiz.toml" else "Frente alta"

    assert cli(app, "content", "publish", str(copy_files(tmp_path, relabel))).exit_code == 0
    output = cli(app, "content", "diff", "1").output  # to the latest
    assert output.startswith("--- quiz.toml (version 1)\n+++ quiz.toml (version 2)\n@@ ")
    assert '-  label = "Forehead"\n+  label = "Brow"\n' in output
    assert "--- quiz.es.toml (version 1)\n+++ quiz.es.toml (version 2)\n" in output
    assert '+  label = "Frente alta"\n' in output
    assert cli(app, "content", "diff", "2", "2").output == "no change\n"
    missing = cli(app, "content", "diff", "1", "7")
    assert missing.exit_code != 0 and "there is no version 7" in missing.output
