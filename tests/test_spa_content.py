"""Each spa's own content: copied at creation, published on its own, reaching only its quiz.

A new spa starts from the default spa's live content (or --copy-from's), as
its own version 1; a version published for one spa changes that spa's quiz
and no other, in this worker and in another one after its check.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from quiz import create_app
from quiz.content import publishing as content_publishing
from quiz.content.document import read_document
from quiz.content.live import live_content
from quiz.db.engine import db
from quiz.db.models import ContentVersion, Spa
from quiz.db.scope import ALL_SPAS, DEFAULT_SPA_ID, spa_scope
from tests.support.app import base_config, stop_background
from tests.test_content_versions import LABEL_EN, changed_files

GLOW = "/s/glow-downtown"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SPA_CHECK_SECONDS": 0}


def make_spa(app: Flask, slug: str, *extra: str) -> int:
    args = ["spas", "create", slug, "--name", slug.title(), "--origin", f"https://{slug}.example"]
    result = app.test_cli_runner().invoke(args=[*args, *extra])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return db.session.execute(select(Spa.id).where(Spa.slug == slug)).scalar_one()


def concern(app: Flask, prefix: str = "") -> str:
    return app.test_client().get(f"{prefix}/quiz/concern").get_data(as_text=True)


def publish(app: Flask, spa_id: int, folder: Path, label: str) -> int:
    """Publish the files with the first concern's label changed, for one spa."""
    folder.mkdir(parents=True, exist_ok=True)
    document = read_document(changed_files(folder, en=label, es=label + " (es)"))
    with app.app_context(), spa_scope(spa_id):
        based_on = content_publishing.latest().id  # type: ignore[union-attr]
        row = content_publishing.publish(
            document, author="admin@example.com", note="words", based_on=based_on,
            languages=tuple(app.extensions["quiz_languages"]),
        )  # fmt: skip
        return row.id


def test_a_new_spa_starts_from_the_default_spas_live_content(app: Flask) -> None:
    glow = make_spa(app, "glow-downtown")
    with app.app_context(), spa_scope(ALL_SPAS):
        rows = db.session.execute(
            select(
                ContentVersion.spa_id,
                ContentVersion.id,
                ContentVersion.note,
                ContentVersion.document,
            ).order_by(ContentVersion.spa_id)  # fmt: skip
        ).all()
    (default_spa, one, _, default_doc), (spa, first, note, doc) = rows
    assert (default_spa, spa, one, first) == (DEFAULT_SPA_ID, glow, 1, 1)
    assert note == "copied from the default spa" and doc == default_doc
    assert LABEL_EN in concern(app, GLOW)


def test_a_publish_reaches_only_its_own_spa(app: Flask, tmp_path: Path) -> None:
    glow = make_spa(app, "glow-downtown")
    assert LABEL_EN in concern(app, GLOW) and LABEL_EN in concern(app)  # both rendered, cached
    assert publish(app, glow, tmp_path / "glow", "Lines when I smile") == 2
    live_content(app).check()
    assert "Lines when I smile" in concern(app, GLOW)
    assert LABEL_EN in concern(app) and "Lines when I smile" not in concern(app)
    publish(app, DEFAULT_SPA_ID, tmp_path / "default", "Frown lines, mostly")
    live_content(app).check()
    assert "Frown lines, mostly" in concern(app)
    glow_page = concern(app, GLOW)
    assert "Lines when I smile" in glow_page and "Frown lines, mostly" not in glow_page


def test_flask_content_spa_publishes_lists_and_rolls_back_that_spa_only(
    app: Flask, tmp_path: Path
) -> None:
    make_spa(app, "glow-downtown")
    runner = app.test_cli_runner()

    def content(*args: str) -> str:
        result = runner.invoke(args=["content", "--spa", "glow-downtown", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert content("history").splitlines()[0].endswith("copied from the default spa")
    files = str(changed_files(tmp_path, en="Lines when I smile", es="Líneas al sonreír"))
    assert "published version 2" in content("publish", files, "--note", "glow's words")
    live_content(app).check()
    assert "Lines when I smile" in concern(app, GLOW) and LABEL_EN in concern(app)
    assert [line.split("\t")[0] for line in content("history").splitlines()] == ["2", "1"]
    default = runner.invoke(args=["content", "history"]).output.splitlines()
    assert len(default) == 1 and "glow's words" not in default[0]  # the default spa's own list
    content("rollback", "1", "--note", "back")
    live_content(app).check()
    assert LABEL_EN in concern(app, GLOW)
    unknown = runner.invoke(args=["content", "--spa", "nope", "history"])
    assert unknown.exit_code == 2 and "there is no spa with that slug" in unknown.output


def test_copy_from_starts_from_that_spas_content(app: Flask, tmp_path: Path) -> None:
    glow = make_spa(app, "glow-downtown")
    publish(app, glow, tmp_path, "Lines when I smile")
    make_spa(app, "glow-west", "--copy-from", "glow-downtown")
    live_content(app).check()
    assert "Lines when I smile" in concern(app, "/s/glow-west")
    assert LABEL_EN in concern(app)


def test_another_worker_switches_a_spa_at_its_check(
    app: Flask, database_uri: str, tmp_path: Path
) -> None:
    glow = make_spa(app, "glow-downtown")
    worker = create_app(base_config(database_uri, SPA_CHECK_SECONDS=0))
    try:
        assert LABEL_EN in concern(worker, GLOW)  # the worker serves the spa: loaded
        publish(app, glow, tmp_path, "Lines when I smile")
        assert LABEL_EN in concern(worker, GLOW)  # until its check
        live_content(worker).check()
        assert "Lines when I smile" in concern(worker, GLOW)
        assert LABEL_EN in concern(worker)
    finally:
        stop_background(worker)
        with worker.app_context():
            db.engine.dispose()


def test_a_spas_admin_sees_and_previews_that_spas_content_only(app: Flask, tmp_path: Path) -> None:
    from tests.support.staff import PASSWORD, create_staff, signed_in_client

    glow = make_spa(app, "glow-downtown")
    publish(app, DEFAULT_SPA_ID, tmp_path, "Frown lines, mostly")
    create_staff(app, "admin@glow.example", PASSWORD, "admin", "--spa", "glow-downtown")
    staff = signed_in_client(app, "admin@glow.example", PASSWORD)
    history = staff.get("/staff/content/history").get_data(as_text=True)
    assert "copied from the default spa" in history and "words" not in history
    page = staff.get("/staff/content/preview?screen=concern").get_data(as_text=True)
    frame = re.search(r'src="(/staff/preview/[^"]+)"', page)
    assert frame, page
    shown = staff.get(frame.group(1).replace("&amp;", "&"))
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert LABEL_EN in html and "Frown lines, mostly" not in html and "Glow-Downtown" in html
    assert glow
