"""Clinical sign-off (issue 21, part 5): medical changes go live only once a clinician approves.

On a real database (a SQLite file, then PostgreSQL): an admin changes the
medical text in the editor, patients keep the approved text, a clinical
account approves it on the version's page, and patients then read the new
text with "Reviewed by …". The CLI's `--approved-by` and `approve`, the roles,
the banner and the audit log are tested the same way, through what a person
would see. Which keys are medical is checked for every key of the shipped
files against a list written here by hand.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.content import publishing as content_publishing
from quiz.content.document import ContentDocument, read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.live import live_content
from quiz.content.medical import medical_changes, medical_hash
from quiz.db.engine import db
from quiz.db.models import AuditLog, ContentApproval
from tests.support.staff import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CLINICIAN,
    CLINICIAN_CREDENTIAL,
    CLINICIAN_EMAIL,
    CLINICIAN_NAME,
    CLINICIAN_PASSWORD,
    cli,
    create_staff,
    csrf_token,
    signed_in_client,
)

RESULT = "/quiz/result?concern=expression&area=between_brows&goal=prevent"
LASTS = "treatments.relax.lasts"
OLD_LASTS = tomllib.loads(DEFAULT_CONTENT.read_text(encoding="utf-8"))["treatments"]["relax"][
    "lasts"
]
NEW_LASTS = "About three to four months, sometimes longer; it is repeated to keep the effect."
REVIEWED = f"Reviewed by {CLINICIAN_NAME}, {CLINICIAN_CREDENTIAL}, on "
BANNER = "not yet approved by a clinician"

# By hand, from the issue: what a patient reads that claims nothing medical.
SPA_WORDS = {
    "copy.intro_title",
    "copy.start",
    "copy.callback_title",
    "copy.callback_intro",
    "copy.consent_text",
    "copy.consent_version",
    "copy.thanks_title",
    "copy.thanks_text",
    "copy.quoted",
    "copy.list_and",
}


def expected_medical(key: str) -> bool:
    if key in SPA_WORDS:
        return False
    if key.startswith("questions."):
        # a question's title and hint, an option's label and hint; a changed id renames
        # every key under it (its weights, why, treats): that is a change of the scoring
        return key.rsplit(".", 1)[1] not in {"title", "hint", "label"}
    return True


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[list[Any], str]]:
    """Every leaf of a parsed TOML document: (the path to it, its dotted key)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            for path, name in leaves(inner, f"{prefix}.{key}" if prefix else key):
                yield [key, *path], name
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for index, entry in enumerate(value):
            for path, name in leaves(entry, f"{prefix}.{entry.get('id', index)}"):
                yield [index, *path], name
    else:
        yield [], prefix


def changed_leaf(text: str, path: list[Any]) -> str:
    """`text` with the leaf at `path` changed, written back as TOML by hand (flat values only)."""
    import tomlkit

    doc = tomlkit.parse(text)
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    old = node[path[-1]]
    if isinstance(old, bool):
        node[path[-1]] = not old
    elif isinstance(old, int | float):
        node[path[-1]] = old + 1
    elif isinstance(old, str):
        node[path[-1]] = old + " (changed)"
    else:  # a list of ids
        node[path[-1]] = [*old, "changed"]
    return tomlkit.dumps(doc)


FILES = read_document(DEFAULT_CONTENT)
EN_TEXT = FILES.text("en")
ALL_LEAVES = list(leaves(tomllib.loads(EN_TEXT)))


def test_every_key_of_the_files_is_medical_exactly_when_the_hand_list_says() -> None:
    """Each of the shipped file's keys changed alone: approval needed exactly for medical ones."""
    assert len(ALL_LEAVES) > 150  # every key, not a sample
    wrong = []
    base = medical_hash(FILES)
    for path, key in ALL_LEAVES:
        changed = ContentDocument.of({**dict(FILES.texts), "en": changed_leaf(EN_TEXT, path)})
        medical = medical_hash(changed) != base
        if medical != expected_medical(key):
            wrong.append(f"{key}: {'medical' if medical else 'not medical'}")
        if medical and not key.endswith(".id"):
            assert medical_changes(FILES, changed) == [f"en: {key}"]
    assert not wrong, "\n".join(wrong)


def test_a_comment_or_a_blank_line_is_not_a_medical_change() -> None:
    changed = ContentDocument.of({**dict(FILES.texts), "en": "# a note\n\n" + EN_TEXT})
    assert medical_hash(changed) == medical_hash(FILES)
    assert medical_changes(FILES, changed) == []


# --- through the staff console and the patient's page --------------------------------------


@pytest.fixture
def clinician(app: Flask) -> FlaskClient:
    create_staff(app, CLINICIAN_EMAIL, CLINICIAN_PASSWORD, "clinical", *CLINICIAN)
    return signed_in_client(app, CLINICIAN_EMAIL, CLINICIAN_PASSWORD)


def patient(app: Flask, url: str = RESULT) -> str:
    live_content(app).check()  # what each worker's thread does every few seconds
    return app.test_client(use_cookies=False).get(url).get_data(as_text=True)


def save_lasts(admin: FlaskClient, text: str = NEW_LASTS) -> None:
    page = admin.get("/staff/content").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), f"en|{LASTS}": text}
    assert admin.post("/staff/content/screens/result", data=form).status_code == 303


def publish(admin: FlaskClient, note: str = "longer for some") -> str:
    review = admin.get("/staff/content/review").get_data(as_text=True)
    based_on = re.search(r'name="based_on" value="(\d*)"', review)
    assert based_on, review
    form = {"csrf_token": csrf_token(review), "based_on": based_on.group(1), "note": note}
    response = admin.post("/staff/content/publish", data=form, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def approve(client: FlaskClient, version: int) -> Any:
    page = client.get(f"/staff/content/history/{version}").get_data(as_text=True)
    url = f"/staff/content/history/{version}/approve"
    return client.post(url, data={"csrf_token": csrf_token(page)}, follow_redirects=True)


def test_a_medical_change_waits_for_the_clinician_then_patients_read_it_reviewed(
    app: Flask, admin: FlaskClient, clinician: FlaskClient
) -> None:
    assert OLD_LASTS in patient(app) and "Reviewed by" not in patient(app)
    save_lasts(admin)
    review = admin.get("/staff/content/review").get_data(as_text=True)
    assert "it goes live when a clinician approves it" in review
    assert f"en: {LASTS}" in review
    said = publish(admin)
    assert "goes live when a clinician approves it" in said
    # Stored, not live: patients keep the text that was there.
    page = patient(app)
    assert OLD_LASTS in page and NEW_LASTS not in page
    history = clinician.get("/staff/content/history").get_data(as_text=True)
    assert "awaiting approval" in history and "Review and approve" in history
    version = clinician.get("/staff/content/history/2").get_data(as_text=True)
    assert f"en: {LASTS}" in version and f"Approve version 2 as {CLINICIAN_NAME}" in version
    response = approve(clinician, 2)
    assert f"You approved version 2. Patients read “Reviewed by {CLINICIAN_NAME}" in (
        response.get_data(as_text=True)
    )
    page = patient(app)
    assert NEW_LASTS in page
    assert REVIEWED in page and 'id="reviewed"' in page
    assert date.today().strftime("%B") in page  # "on December 6, 2026"
    history = admin.get("/staff/content/history").get_data(as_text=True)
    assert f"Approved by {CLINICIAN_NAME}, {CLINICIAN_CREDENTIAL}" in history
    with app.app_context():
        [entry] = db.session.query(AuditLog).filter_by(action="content_approve").all()
        assert entry.actor == CLINICIAN_EMAIL and '"version": 2' in entry.detail


def test_the_reviewed_line_is_in_spanish_for_a_spanish_patient(
    app: Flask, clinician: FlaskClient
) -> None:
    assert approve(clinician, 1).status_code == 200  # the files as shipped, now signed
    page = patient(app, RESULT + "&lang=es")
    assert f"Revisado por {CLINICIAN_NAME}, {CLINICIAN_CREDENTIAL}, el " in page
    months = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto")
    months += ("septiembre", "octubre", "noviembre", "diciembre")
    assert f"de {months[date.today().month - 1]} de {date.today().year}" in page


def test_the_banner_shows_until_a_clinician_approved_anything(
    app: Flask, admin: FlaskClient, clinician: FlaskClient
) -> None:
    for client in (admin, clinician):
        assert BANNER in client.get("/staff/").get_data(as_text=True)
    assert 'id="reviewed"' not in patient(app)
    approve(clinician, 1)
    for client in (admin, clinician):
        assert BANNER not in client.get("/staff/").get_data(as_text=True)
    assert REVIEWED in patient(app)


def test_the_editor_marks_the_fields_a_clinician_approves(admin: FlaskClient) -> None:
    page = admin.get("/staff/content").get_data(as_text=True)
    badge = r'<code class="muted">([^<]+)</code> <span class="badge medical"'
    marked = set(re.findall(badge, page))
    shown = set(re.findall(r'<code class="muted">([^<]+)</code>', page))
    assert LASTS in marked and "copy.callback_title" in shown - marked
    assert {key for key in shown if expected_medical(key)} == marked


def test_the_spas_own_words_go_live_at_once_and_keep_the_reviewed_line(
    app: Flask, admin: FlaskClient, clinician: FlaskClient
) -> None:
    approve(clinician, 1)
    page = admin.get("/staff/content").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "en|copy.callback_title": "Shall we call you?"}
    assert admin.post("/staff/content/screens/callback", data=form).status_code == 303
    review = admin.get("/staff/content/review").get_data(as_text=True)
    assert "goes live when a clinician approves" not in review
    assert "Every page patients open shows it" in publish(admin)
    assert "Shall we call you?" in patient(app, RESULT.replace("result", "callback"))
    assert REVIEWED in patient(app)


def test_only_a_clinical_account_approves(
    app: Flask, admin: FlaskClient, clinician: FlaskClient
) -> None:
    save_lasts(admin)
    publish(admin)
    token = csrf_token(admin.get("/staff/content/history/2").get_data(as_text=True))
    refused = admin.post("/staff/content/history/2/approve", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "can't approve medical content" in html.unescape(refused.get_data(as_text=True))
    create_staff(app, "desk@alazzo.example", "fern lantern oboe quarry", "desk")
    desk = signed_in_client(app, "desk@alazzo.example", "fern lantern oboe quarry")
    assert desk.get("/staff/content/history").status_code == 403
    assert NEW_LASTS not in patient(app)
    # A clinician reads the history but does not edit or publish.
    assert clinician.get("/staff/content").status_code == 403
    assert clinician.get("/staff/content/review").status_code == 403
    assert clinician.get("/staff/content/history").status_code == 200


def test_a_replaced_version_is_not_approved(
    app: Flask, admin: FlaskClient, clinician: FlaskClient
) -> None:
    save_lasts(admin)
    publish(admin)  # version 2, waiting
    save_lasts(admin, NEW_LASTS + " Ask us.")
    publish(admin, "and one more")  # version 3, on top of it, waiting too
    assert approve(clinician, 3).status_code == 200
    assert NEW_LASTS + " Ask us." in patient(app)
    said = approve(clinician, 2).get_data(as_text=True)
    assert "Not approved: version 2 was replaced by version 3" in said
    history = admin.get("/staff/content/history").get_data(as_text=True)
    assert "replaced before it was approved; never live" in history


def test_a_rollback_to_approved_text_needs_no_second_signature(
    app: Flask, admin: FlaskClient, clinician: FlaskClient
) -> None:
    approve(clinician, 1)
    save_lasts(admin)
    publish(admin)
    approve(clinician, 2)
    assert NEW_LASTS in patient(app)
    page = admin.get("/staff/content/history/1").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "based_on": "2", "note": "back"}
    assert admin.post("/staff/content/history/1/rollback", data=form).status_code == 303
    page = patient(app)
    assert OLD_LASTS in page and REVIEWED in page


def test_an_approval_reaches_another_worker(
    app: Flask, database_uri: str, clinician: FlaskClient
) -> None:
    from quiz import create_app
    from tests.support.app import base_config

    worker = create_app(base_config(database_uri, CONTENT_CHECK_SECONDS=5))
    assert "Reviewed by" not in patient(worker)  # cached in its render cache, too
    approve(clinician, 1)
    assert REVIEWED in patient(worker)


# --- the command line -----------------------------------------------------------------------


def files_with_new_lasts(tmp_path: Path) -> Path:
    for name in ("quiz.toml", "quiz.es.toml"):
        text = (DEFAULT_CONTENT.parent / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(OLD_LASTS, NEW_LASTS), encoding="utf-8")
    return tmp_path / "quiz.toml"


@pytest.fixture
def operator(app: Flask) -> Flask:
    create_staff(app, ADMIN_EMAIL, ADMIN_PASSWORD, "admin")
    create_staff(app, CLINICIAN_EMAIL, CLINICIAN_PASSWORD, "clinical", *CLINICIAN)
    return app


def test_the_cli_publishes_a_medical_change_for_approval_then_approves_it(
    operator: Flask, tmp_path: Path
) -> None:
    result = cli(operator, "content", "publish", str(files_with_new_lasts(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "patients keep seeing the approved version" in result.output
    assert "flask content approve 2 --by EMAIL" in result.output
    assert NEW_LASTS not in patient(operator)
    assert "2\t" in cli(operator, "content", "history").output
    assert "awaiting approval" in cli(operator, "content", "history").output
    result = cli(operator, "content", "approve", "2", "--by", CLINICIAN_EMAIL)
    assert result.exit_code == 0, result.output
    assert f"approved by {CLINICIAN_NAME}" in result.output
    assert NEW_LASTS in patient(operator) and REVIEWED in patient(operator)
    with operator.app_context():
        [entry] = db.session.query(AuditLog).filter_by(action="content_approve").all()
        assert '"via": "cli"' in entry.detail


def test_approved_by_a_clinician_goes_live_at_once(operator: Flask, tmp_path: Path) -> None:
    files = str(files_with_new_lasts(tmp_path))
    result = cli(operator, "content", "publish", files, "--approved-by", CLINICIAN_EMAIL)
    assert result.exit_code == 0, result.output
    assert f"approved by {CLINICIAN_NAME}, {CLINICIAN_CREDENTIAL}" in result.output
    assert NEW_LASTS in patient(operator) and REVIEWED in patient(operator)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (ADMIN_EMAIL, "is an admin account: only a clinical account approves"),
        ("nobody@alazzo.example", "is not a staff account"),
    ],
)
def test_approved_by_anyone_else_is_refused_and_nothing_is_published(
    operator: Flask, tmp_path: Path, email: str, message: str
) -> None:
    files = str(files_with_new_lasts(tmp_path))
    result = cli(operator, "content", "publish", files, "--approved-by", email)
    assert result.exit_code != 0
    assert "nothing was published" in result.output and message in result.output
    assert "Traceback" not in result.output
    with operator.app_context():
        assert [v.id for v in content_publishing.history()] == [1]
        assert db.session.query(ContentApproval).count() == 0


def test_a_disabled_clinician_cannot_approve(operator: Flask) -> None:
    assert cli(operator, "staff", "disable", CLINICIAN_EMAIL).exit_code == 0
    result = cli(operator, "content", "approve", "1", "--by", CLINICIAN_EMAIL)
    assert result.exit_code != 0 and "is disabled" in result.output


def test_a_clinical_account_needs_a_name_and_a_credential(app: Flask) -> None:
    args = ["staff", "create", "dr@alazzo.example", "--role", "clinical", "--name", "Dr. Lee"]
    result = app.test_cli_runner().invoke(args=args, input=CLINICIAN_PASSWORD + "\n")
    assert result.exit_code != 0 and "a clinical account needs --credential" in result.output
    listed = cli(app, "staff", "list").output
    assert "dr@alazzo.example" not in listed
    create_staff(app, "dr@alazzo.example", CLINICIAN_PASSWORD, "clinical", *CLINICIAN)
    assert f"({CLINICIAN_NAME}, {CLINICIAN_CREDENTIAL})" in cli(app, "staff", "list").output
    result = cli(
        app, "staff", "set-clinician", "dr@alazzo.example",
        "--name", "Dr. Lee Park", "--credential", "DO",
    )  # fmt: skip
    assert result.exit_code == 0 and "now signs as Dr. Lee Park, DO" in result.output
