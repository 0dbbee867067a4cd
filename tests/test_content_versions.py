"""Published content versions (issue 14, items 1 and 5): stored, served by every worker, CLI.

Each test runs on a real database (a SQLite file, or PostgreSQL in that pass).
A second app on the same database stands for a second gunicorn worker; the
tests call its check (what its thread does every CONTENT_CHECK_SECONDS), and
one test waits for the real thread to switch the page, never sleeping a fixed time.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from quiz import create_app
from quiz.content import publishing as content_publishing
from quiz.content.document import ContentDocument, read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.live import live_content
from quiz.content.versions import StaleVersion
from quiz.db.engine import db
from quiz.db.models import AuditLog, ContentVersion
from tests.support.app import base_config
from tests.support.content import load_locales
from tests.support.staff import ADMIN_EMAIL, ADMIN_PASSWORD, cli, create_staff
from tests.support.waiting import wait_until

FILES = load_locales()
CONCERN = FILES["en"].questions[0]
LABEL_EN = CONCERN.options[0].label
LABEL_ES = FILES["es"].questions[0].options[0].label
CONCERN_URL = "/quiz/concern"


def make_app(uri: str, **config: Any) -> Flask:
    return create_app(base_config(uri, **config))


def changed_files(
    tmp_path: Path, en: str = "Lines when I smile", es: str = "Líneas al sonreír"
) -> Path:
    """A copy of quiz.toml and quiz.es.toml with the first concern's label changed."""
    folder = tmp_path / "changed"
    folder.mkdir(exist_ok=True)
    for name, old, new in (("quiz.toml", LABEL_EN, en), ("quiz.es.toml", LABEL_ES, es)):
        text = (DEFAULT_CONTENT.parent / name).read_text(encoding="utf-8")
        assert f'"{old}"' in text
        (folder / name).write_text(text.replace(f'"{old}"', f'"{new}"', 1), encoding="utf-8")
    return folder / "quiz.toml"


def versions(app: Flask) -> list[ContentVersion]:
    with app.app_context():
        rows = content_publishing.history()
        db.session.expunge_all()
        return rows


def page(app: Flask, lang: str = "en") -> str:
    return app.test_client().get(f"{CONCERN_URL}?lang={lang}").get_data(as_text=True)


@pytest.fixture
def worker(database_uri: str) -> Flask:
    """A second worker: under TESTING its thread does not run; the test calls its check."""
    return make_app(database_uri, CONTENT_CHECK_SECONDS=5)


def test_the_first_version_is_the_files_exactly(database_uri: str) -> None:
    app = make_app(database_uri)
    assert LABEL_EN in page(app)
    [first] = versions(app)
    assert (first.id, first.author, first.based_on) == (1, "file", None)
    files = read_document(DEFAULT_CONTENT)
    assert json.loads(first.document) == dict(files.texts)  # byte for byte, every language
    assert first.content_hash == FILES["en"].version
    shown = cli(app, "content", "show", "1", "--lang", "es")
    assert shown.output == files.text("es")


def test_workers_starting_together_store_the_first_version_once(database_uri: str) -> None:
    apps = [make_app(database_uri) for _ in range(4)]
    with apps[0].app_context():  # as on a database migrated while the workers ran
        db.session.execute(db.delete(ContentVersion))
        db.session.commit()
    start = threading.Barrier(len(apps))

    def check(app: Flask) -> None:
        start.wait()
        live_content(app).check()

    threads = [threading.Thread(target=check, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [v.id for v in versions(apps[0])] == [1]
    assert all(LABEL_EN in page(app) for app in apps)


def test_a_published_change_reaches_another_worker_after_its_interval(
    database_uri: str, worker: Flask, tmp_path: Path
) -> None:
    assert LABEL_EN in page(worker)  # started: serving version 1 (the files)
    operator = make_app(database_uri)
    create_staff(operator, ADMIN_EMAIL, ADMIN_PASSWORD)
    result = cli(
        operator, "content", "publish", str(changed_files(tmp_path)),
        "--note", "kinder words", "--as", ADMIN_EMAIL,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "published version 2" in result.output
    assert LABEL_EN in page(worker)  # within its interval: still the version it has
    live_content(worker).check()  # what its thread does every CONTENT_CHECK_SECONDS
    assert "Lines when I smile" in page(worker)
    assert "Líneas al sonreír" in page(worker, "es")
    newest = versions(worker)[0]
    assert (newest.id, newest.author, newest.note, newest.based_on) == (
        2, ADMIN_EMAIL, "kinder words", 1,
    )  # fmt: skip
    history = cli(operator, "content", "history").output.splitlines()
    assert history[0].startswith("2\t") and history[0].endswith(f"\t{ADMIN_EMAIL}\tkinder words")
    assert history[1].startswith("1\t")


def test_the_thread_switches_a_serving_worker(database_uri: str, tmp_path: Path) -> None:
    worker = make_app(database_uri, CONTENT_CHECK_SECONDS=0.05)
    live = live_content(worker)
    live.background = True  # as in a serving process (TESTING turns it off)
    try:
        assert LABEL_EN in page(worker)  # its first request starts the thread
        operator = make_app(database_uri)
        assert cli(operator, "content", "publish", str(changed_files(tmp_path))).exit_code == 0
        wait_until(lambda: "Lines when I smile" in page(worker), "the worker switched")
    finally:
        live.stop()
    # stop() waits for the thread: nothing checks on after it returns.
    assert not [t for t in threading.enumerate() if t.name == "content-check"]


def test_the_patients_request_never_touches_the_database(database_uri: str) -> None:
    app = make_app(database_uri)  # the start-up check ran; no thread under TESTING
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert LABEL_EN in page(app) and LABEL_ES in page(app, "es")
    assert statements == []


def publish_spanish_edit(
    app: Flask, tmp_path: Path, old: str, new: str, count: int = -1
) -> tuple[Any, Path]:
    """`flask content publish` of the files with `old` replaced in quiz.es.toml; (result, it)."""
    english = changed_files(tmp_path)
    spanish = english.with_name("quiz.es.toml")
    text = spanish.read_text(encoding="utf-8")
    assert old in text
    spanish.write_text(text.replace(old, new, count), encoding="utf-8")
    return cli(app, "content", "publish", str(english)), spanish


def test_an_invalid_document_is_refused_naming_file_and_key(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)
    page(app)
    result, spanish = publish_spanish_edit(app, tmp_path, "intro_title", "intro_titel", count=1)
    assert result.exit_code != 0
    assert "nothing was published" in result.output
    assert str(spanish) in result.output and "intro_title" in result.output
    assert "Traceback" not in result.output
    assert [v.id for v in versions(app)] == [1]
    assert LABEL_EN in page(app)


def test_a_format_spec_in_a_translation_is_refused_at_publish(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)
    page(app)
    # A width of 20 million would make every callback page 20 MB.
    result, spanish = publish_spanish_edit(app, tmp_path, "{spa_name}", "{spa_name:>20000000}")
    assert spanish.read_text(encoding="utf-8").count("{spa_name:>20000000}") > 1
    assert result.exit_code != 0 and "nothing was published" in result.output
    assert f"{spanish}: copy." in result.output and "write {spa_name} alone" in result.output
    assert [v.id for v in versions(app)] == [1]


def test_publishing_needs_an_admin_and_a_known_file(database_uri: str, tmp_path: Path) -> None:
    app = make_app(database_uri)
    result = cli(app, "content", "publish", str(changed_files(tmp_path)), "--as", "x@y.example")
    assert result.exit_code != 0 and "is not an active admin account" in result.output
    missing = cli(app, "content", "publish", str(tmp_path / "nope.toml"))
    assert missing.exit_code != 0 and "does not exist" in missing.output
    assert [v.id for v in versions(app)] == [1]  # the files, stored at start-up


def test_rollback_publishes_a_copy_and_the_old_text_is_served(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri, CONTENT_CHECK_SECONDS=0)
    assert LABEL_EN in page(app)
    assert cli(app, "content", "publish", str(changed_files(tmp_path))).exit_code == 0
    assert "Lines when I smile" in page(app)
    result = cli(app, "content", "rollback", "1", "--note", "back to the files")
    assert result.exit_code == 0, result.output
    assert "published version 3, a copy of version 1" in result.output
    assert LABEL_EN in page(app) and LABEL_ES in page(app, "es")
    rows = versions(app)
    assert [(v.id, v.based_on, v.restored_from) for v in rows] == [
        (3, 2, 1),
        (2, 1, None),
        (1, None, None),
    ]
    assert rows[0].document == rows[2].document  # a copy; version 1 itself is unchanged
    with app.app_context():
        actions = db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["content_publish", "content_rollback"]


def test_publishing_from_a_stale_version_is_refused(database_uri: str, tmp_path: Path) -> None:
    app = make_app(database_uri)
    page(app)
    edited = read_document(changed_files(tmp_path))
    languages = app.extensions["quiz_languages"]
    with app.app_context():
        first = content_publishing.publish(
            edited, author="a@spa.example", note="first", based_on=1, languages=languages
        )
        assert first.id == 2
        with pytest.raises(StaleVersion, match="version 2 was published since version 1"):
            content_publishing.publish(
                edited, author="b@spa.example", note="second", based_on=1, languages=languages
            )
    result = cli(app, "content", "publish", str(changed_files(tmp_path)), "--based-on", "1")
    assert result.exit_code != 0 and "nothing was published" in result.output
    assert [v.note for v in versions(app)] == ["first", "the content files, stored at first start"]


def test_the_render_cache_serves_the_new_page_right_after_the_switch(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri, CONTENT_CHECK_SECONDS=0)
    client = app.test_client()
    old = client.get(CONCERN_URL)
    assert client.get(CONCERN_URL).get_data() == old.get_data()  # now served from the cache
    assert cli(app, "content", "publish", str(changed_files(tmp_path))).exit_code == 0
    new = client.get(CONCERN_URL)
    assert "Lines when I smile" in new.get_data(as_text=True)
    assert new.headers["ETag"] != old.headers["ETag"]
    assert (
        client.get(CONCERN_URL, headers={"If-None-Match": old.headers["ETag"]}).status_code == 200
    )


def test_a_stored_version_parses_as_the_files_do() -> None:
    document = read_document(DEFAULT_CONTENT)
    again = ContentDocument.from_json(document.to_json())
    assert again.texts == document.texts


@pytest.mark.database  # its own database, from the fixture it names
@pytest.mark.parametrize("fixture", ["unmigrated_database_uri", "unreachable_database_uri"])
def test_without_the_table_the_files_are_served_and_logged_once(
    request: pytest.FixtureRequest, fixture: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="quiz.content.live"):
        app = make_app(request.getfixturevalue(fixture), CONTENT_CHECK_SECONDS=0)
        for lang in ("en", "es", "en"):
            response = app.test_client().get(f"{CONCERN_URL}?lang={lang}")
            assert response.status_code == 200
    assert LABEL_EN in page(app)
    warnings = [r for r in caplog.records if r.name == "quiz.content.live"]
    assert len(warnings) == 1 and "not migrated" in warnings[0].getMessage()
    with app.app_context():
        db.engine.dispose()


def test_the_cli_says_what_to_do_without_a_migrated_database(unmigrated_database_uri: str) -> None:
    result = cli(make_app(unmigrated_database_uri), "content", "history")
    assert result.exit_code != 0 and "flask db upgrade" in result.output


def test_show_refuses_an_unknown_version(database_uri: str) -> None:
    result = cli(make_app(database_uri), "content", "show", "9")
    assert result.exit_code != 0 and "there is no version 9" in result.output


def test_a_shared_folder_copy_is_served_like_the_files(database_uri: str, tmp_path: Path) -> None:
    # QUIZ_CONTENT_FILE elsewhere: its folder's quiz.es.toml comes along as on start-up.
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT.parent, folder)
    app = make_app(database_uri, QUIZ_CONTENT_FILE=str(folder / "quiz.toml"))
    assert LABEL_ES in page(app, "es")
    assert versions(app)[0].document == read_document(folder / "quiz.toml").to_json()


def test_export_then_import_round_trips_to_an_identical_document(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri)
    assert cli(app, "content", "publish", str(changed_files(tmp_path))).exit_code == 0
    out = tmp_path / "exported" / "quiz.toml"
    out.parent.mkdir()
    result = cli(app, "content", "export", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["quiz.es.toml", "quiz.toml"]
    assert cli(app, "content", "import", str(out), "--note", "again").exit_code == 0
    rows = versions(app)
    assert [v.id for v in rows] == [3, 2, 1] and rows[0].document == rows[1].document
    assert cli(app, "content", "export").output == out.read_text(encoding="utf-8")


def test_the_printed_english_export_imports_back_keeping_the_translation(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app(database_uri, CONTENT_CHECK_SECONDS=0)
    assert cli(app, "content", "publish", str(changed_files(tmp_path))).exit_code == 0
    english = tmp_path / "printed" / "quiz.toml"
    english.parent.mkdir()
    printed = cli(app, "content", "export").output  # English alone, as the help says
    english.write_text(printed.replace("Lines when I smile", "Smile lines"), encoding="utf-8")
    result = cli(app, "content", "import", str(english), "--note", "English only")
    assert result.exit_code == 0, result.output
    assert "kept the published quiz.es.toml (version 2)" in result.output
    assert "Smile lines" in page(app) and "Líneas al sonreír" in page(app, "es")
    # An English file whose ids moved away from the translation is refused, naming it.
    english.write_text(printed.replace('id = "expression"', 'id = "moving"'), encoding="utf-8")
    result = cli(app, "content", "import", str(english))
    assert result.exit_code == 1
    assert "comes without quiz.es.toml" in result.output
    assert "the published quiz.es.toml (version 3)" in result.output
    assert [v.id for v in versions(app)] == [3, 2, 1]


NOT_TOML = ContentDocument.of({"en": "not = [valid"})


@pytest.mark.parametrize(
    ("stored", "logged"),
    [
        (NOT_TOML.to_json(), "version 2 (quiz.toml): not valid TOML"),
        ('{"en": "unfinished', "the stored document is not JSON"),
    ],
    ids=["not TOML", "not JSON"],
)  # fmt: skip
def test_a_stored_version_that_fails_the_checks_is_not_served_and_logged_once(
    database_uri: str, caplog: pytest.LogCaptureFixture, stored: str, logged: str
) -> None:
    app = make_app(database_uri, CONTENT_CHECK_SECONDS=0)
    assert LABEL_EN in page(app)
    with app.app_context():  # past the checks, as a hand-edited row would be
        db.session.add(ContentVersion(id=2, author="x", note="", based_on=1, content_hash="x",
                                      document=stored))  # fmt: skip
        db.session.commit()
    for _ in range(3):
        assert LABEL_EN in page(app)  # the version in use stays
    errors = [r for r in caplog.records if r.name == "quiz.content.live"]
    assert len(errors) == 1 and logged in errors[0].getMessage()
