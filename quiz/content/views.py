"""The content editor at /staff/content: the draft by screen, review, publish, history, approval.

`/staff/content` (admins) shows the editor's draft (or the latest version,
until they change something) with every problem the checks find next to its
field; each screen is saved on its own (a plain form: no JavaScript needed),
as is each language's whole file. The preview links open the draft as a
patient sees it (`quiz/content/preview.py`).

Review runs every check a publish runs and shows the diff against the version
the draft started from; the publish form carries that version's number, so
a publish is refused when someone published since (the other change is then
shown, and the editor decides: keep their draft over it, or start again).
Rollback publishes a copy of an older version, checked like any publish.

A version that changes medical text or scoring waits for a clinician
(quiz/content/approval.py): the review page lists the medical keys it
changes, the history shows it as awaiting approval, and a clinical account
approves it on its page (POST …/approve); patients see it from then on.
Clinical accounts read the history and the versions; only admins edit,
publish and roll back. Everything is in the audit log (`content_publish`,
`content_rollback`, `content_approve`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, flash, redirect, request, url_for
from flask import render_template as render
from markupsafe import escape
from werkzeug.wrappers import Response

from quiz.content import approval as content_approval
from quiz.content import editing as content_editing
from quiz.content import publishing as content_publishing
from quiz.content.edit import Problem
from quiz.content.fields import every_field, screen, screens
from quiz.content.medical import medical_changes
from quiz.content.preview import PREVIEW_STAFF_KEY, preview_token
from quiz.content.versions import NOTE_LENGTH, StaleVersion
from quiz.core.model import MULTIPLE, QUESTION_IDS, ContentError
from quiz.db.models import ContentVersion, StaffUser
from quiz.staff import (
    ADMIN,
    APPROVE_CONTENT,
    CLINICAL,
    EDIT_CONTENT,
    READ_CONTENT,
    admin_required,
    bp,
    current_staff,
    error_page,
    is_admin,
    role_required,
    signed_in_staff,
)
from quiz.web.extensions import csrf


@bp.errorhandler(content_editing.NoVersionYet)
def no_version_yet(error: ContentError) -> Response:
    """No published version to edit yet (a database migrated after start-up): say what to do."""
    return error_page(503, f"The content can't be edited yet: {error}. Reload in a few seconds.")


@bp.errorhandler(ContentError)
def content_refused(error: ContentError) -> Response:
    """Any other content problem a staff page meets: named, with the way back to the editor.

    The editor itself always shows (with its discard button), whatever the draft holds.
    """
    return error_page(
        400,
        f"This can't be done with the content as it is: {error}. "
        "Fix it in the content editor, or discard your draft there.",
    )


def _editing() -> tuple[StaffUser, content_editing.Draft, dict[str, Any], list[Problem]]:
    """The signed-in editor, their draft, its parsed layout and every problem in it."""
    staff = current_staff()
    draft = content_editing.draft_for(staff.id)
    return (
        staff,
        draft,
        content_editing.layout(draft.document),
        content_editing.problems_in(draft.document),
    )


@bp.get("/content")
@admin_required(EDIT_CONTENT)
def content() -> str:
    """The editor: the draft's screens, its problems, and the links to preview and publish."""
    return _editor()


def _editor(refused: tuple[str, str, str] | None = None) -> str:
    """The editor's page; `refused`: (locale, text, why) of a file that was not saved."""
    staff, draft, raw, found = _editing()
    files = dict(draft.document.texts)
    if refused is not None:
        locale, text, why = refused
        files[locale] = text  # what was typed stays in the box
        found = [Problem(locale, "", f"Not saved: {why}"), *found]
    return render(
        "staff/content.html",
        title="Content",
        draft=draft,
        screens=screens(raw),
        values=content_editing.field_values(draft.document),
        problems=found,
        by_field=_by_field(found),
        locales=draft.document.locales,
        files=files,
    )


@bp.post("/content/screens/<screen_id>")
@admin_required(EDIT_CONTENT)
def save_screen(screen_id: str) -> Response:
    """Save one screen's fields into the draft (only the fields that changed are written)."""
    staff = current_staff()
    draft = content_editing.draft_for(staff.id)
    raw = content_editing.layout(draft.document)
    shown_screen = screen(raw, screen_id)
    if shown_screen is None:
        abort(404)
    fields = {f.key: f for f in every_field(raw)}
    edits: dict[tuple[str, str], str] = {}
    for field in shown_screen.fields:
        for locale in ("*",) if field.shared else draft.document.locales:
            sent = request.form.get(f"{locale}|{field.key}")
            if sent is not None:
                edits[(locale, field.key)] = sent
    content_editing.save_edits(staff.id, edits, fields)
    flash(f"Saved “{shown_screen.title}” in your draft. Nothing is published yet.")
    return redirect(url_for("staff.content", _anchor=f"screen-{screen_id}"), 303)


@bp.post("/content/files/<locale>")
@admin_required(EDIT_CONTENT)
def save_file(locale: str) -> Response:
    """Replace one language's whole file in the draft (ids, lists, anything the fields lack)."""
    staff = current_staff()
    text = request.form.get("text", "")
    try:
        content_editing.save_file(staff.id, locale, text)
    except content_editing.NoSuchLanguage:
        abort(404)
    except ContentError as error:
        page = _editor((locale, text.replace("\r\n", "\n"), str(error)))
        return Response(page, 400, mimetype="text/html")
    flash(f"Saved the {locale} file in your draft. Nothing is published yet.")
    return redirect(url_for("staff.content", _anchor=f"file-{locale}"), 303)


@bp.post("/content/discard")
@admin_required(EDIT_CONTENT)
def discard_draft() -> Response:
    content_editing.discard(current_staff().id)
    flash("Your draft was discarded: the editor shows the latest version.")
    return redirect(url_for("staff.content"), 303)


@bp.get("/content/preview")
@admin_required(EDIT_CONTENT)
def content_preview() -> str:
    """The draft at phone and desktop width: any screen, any answers, any language."""
    staff, draft, raw, found = _editing()
    questions = {q.get("id"): q for q in raw.get("questions", []) if isinstance(q, dict)}
    page = request.args.get("screen", "intro")
    if page not in ("intro", *QUESTION_IDS, "result", "callback"):
        page = "intro"
    lang = request.args.get("lang", draft.document.locales[0])
    if lang not in draft.document.locales:
        lang = draft.document.locales[0]
    answers: list[tuple[str, str]] = [("lang", lang)]
    for qid in QUESTION_IDS:
        many = MULTIPLE[qid]
        known = [o["id"] for o in questions.get(qid, {}).get("options", [])]
        chosen = [v for v in request.args.getlist(qid) if v in known] or known[:1]
        answers += [(qid, v) for v in (chosen if many else chosen[:1])]
    token = preview_token(current_app, staff.id)
    path = "quiz/" if page == "intro" else f"quiz/{page}"
    frame = url_for("staff.preview_not_served", token=token, rest=path)
    query = urlencode(answers)
    return render(
        "staff/content_preview.html",
        title="Preview",
        problems=found,
        page=page,
        lang=lang,
        locales=draft.document.locales,
        questions=questions,
        chosen=answers,
        frame_url=f"{frame}?{query}",
        minutes=current_app.config["CONTENT_PREVIEW_SECONDS"] // 60,
    )


@bp.route("/preview/<token>/<path:rest>", methods=["GET", "POST"])
@csrf.exempt  # it changes nothing: a form sent from a preview is answered here, not stored
@admin_required(EDIT_CONTENT)
def preview_not_served(token: str, rest: str) -> Response:
    """What the preview wrapper did not serve: an expired link, a form sent, a broken draft."""
    if request.method == "POST":
        message = "This is a preview: nothing was sent and no lead was stored."
    else:
        message = (
            "This preview link has expired, or your draft has a problem to fix first. "
            "Open the preview again from the editor."
        )
    return _calm(message)


def guard_previews() -> Response | None:
    """Every preview request needs its maker signed in, not just a valid link (app-wide hook).

    The link shows one account's draft, unpublished and unreviewed: another
    admin who is sent it opens their own preview from the editor instead
    (a draft is shared by publishing it, where the clinician reviews it).
    """
    maker = request.environ.get(PREVIEW_STAFF_KEY)
    if maker is None:
        return None
    staff = signed_in_staff()
    if not is_admin(staff):
        message = "This preview is for the spa's staff: sign in, then open it again."
    elif staff.id != maker:
        message = (
            "This preview shows another account's draft. Open your own preview from the editor."
        )
    else:
        return None
    response = _calm(message)
    response.status_code = 403
    return response


def _calm(message: str) -> Response:
    html = f'<!doctype html><html lang="en"><title>Preview</title><p>{escape(message)}</p></html>'
    return Response(html, 200, {"Cache-Control": "no-store"}, mimetype="text/html")


def _by_field(found: list[Problem]) -> dict[str, list[Problem]]:
    result: dict[str, list[Problem]] = defaultdict(list)
    for problem in found:
        result[problem.key].append(problem)
    return result


def _languages() -> tuple[str, ...]:
    return tuple(current_app.extensions["quiz_languages"])


@bp.get("/content/review")
@admin_required(EDIT_CONTENT)
def content_review() -> str | Response:
    """Every check, then the diff against the version the draft started from, and the note."""
    staff = current_staff()
    draft = content_editing.draft_for(staff.id)
    if not draft.changed:
        flash("Your draft has no changes to publish.")
        return redirect(url_for("staff.content"), 303)
    return _review(draft, error=None)


@bp.post("/content/publish")
@admin_required(EDIT_CONTENT)
def content_publish() -> str | Response:
    staff = current_staff()
    note = request.form.get("note", "").strip()[:NOTE_LENGTH]
    based_on = request.form.get("based_on", type=int)
    draft = content_editing.draft_for(staff.id)
    latest = content_publishing.latest()
    same = latest is not None and not content_publishing.diff(latest, draft.document)
    if not draft.changed or same and latest.id == draft.based_on:
        flash("Your draft is the same as the version patients see: nothing was published.")
        return redirect(url_for("staff.content"), 303)
    try:
        row = content_editing.publish_draft(staff, note, based_on, _languages())
    except StaleVersion:
        return _stale(draft.based_on)
    except ContentError as exc:
        return _review(draft, error=str(exc))
    _flash_published(row, f"Published version {row.id}.")
    return redirect(url_for("staff.content_history"), 303)


@bp.post("/content/rebase")
@admin_required(EDIT_CONTENT)
def content_rebase() -> Response:
    """Keep the draft over the newest version, whose changes the editor has seen."""
    onto = request.form.get("onto", type=int)
    latest = content_publishing.latest()
    if latest is None or onto != latest.id:
        return redirect(url_for("staff.content_review"), 303)
    content_editing.rebase(current_staff().id, onto)
    flash(f"Your draft now replaces version {onto}: review the changes again before publishing.")
    return redirect(url_for("staff.content_review"), 303)


@bp.get("/content/history")
@role_required(READ_CONTENT, (ADMIN, CLINICAL), "ask an admin")
def content_history() -> str:
    versions = content_publishing.history()
    return render(
        "staff/content_history.html",
        title="Content history",
        versions=versions,
        states=content_approval.states(versions),
    )


@bp.get("/content/history/<id:version_id>")
@role_required(READ_CONTENT, (ADMIN, CLINICAL), "ask an admin")
def content_version(version_id: int) -> str:
    """One version: who, when, why, what it changed, its approvals; approve it (clinicians).

    A version awaiting approval is compared with the live one, the text
    patients would stop seeing; any other with the version it replaced.
    """
    row = content_publishing.version(version_id)
    if row is None:
        abort(404)
    state = content_approval.states([row])[row.id]
    live = content_approval.live()
    if state.awaiting and live is not None and live.id != row.based_on:
        before = live
    else:
        before = content_publishing.version(row.based_on) if row.based_on is not None else None
    document = content_publishing.stored(row)
    medical = medical_changes(
        content_publishing.stored(before) if before is not None else None, document
    )
    newest = content_publishing.latest()
    latest = newest.id if newest is not None else row.id
    return render(
        "staff/content_version.html",
        title=f"Version {row.id}",
        row=row,
        before=before,
        diff=content_publishing.diff(before, row),
        medical=medical,
        latest=latest,
        live=live,
        state=state,
    )


@bp.post("/content/history/<id:version_id>/approve")
@role_required(APPROVE_CONTENT, (CLINICAL,), "ask the spa's clinician")
def content_approve(version_id: int) -> Response:
    """A clinician approves a version: it goes live (if it waited), with their reviewed line."""
    try:
        approval = content_approval.approve(version_id, current_staff().email)
    except content_approval.ApprovalRefused as exc:
        flash(f"Not approved: {exc}.")
        return redirect(url_for("staff.content_version", version_id=version_id), 303)
    flash(
        f"You approved version {version_id}. Patients read “Reviewed by {approval.name}, "
        f"{approval.credential}” under their result within "
        f"{current_app.config['CONTENT_CHECK_SECONDS']:g} seconds."
    )
    return redirect(url_for("staff.content_history"), 303)


@bp.post("/content/history/<id:version_id>/rollback")
@admin_required(EDIT_CONTENT)
def content_rollback(version_id: int) -> Response:
    staff = current_staff()
    note = request.form.get("note", "").strip()[:NOTE_LENGTH] or f"back to version {version_id}"
    try:
        row = content_publishing.rollback(
            version_id,
            author=staff.email,
            note=note,
            based_on=request.form.get("based_on", type=int),
            languages=_languages(),
        )
    except StaleVersion:
        flash("Another version was published meanwhile: look at it, then roll back again.")
        return redirect(url_for("staff.content_history"), 303)
    except ContentError as exc:
        flash(f"Version {version_id} can't be published again: {exc}")
        return redirect(url_for("staff.content_version", version_id=version_id), 303)
    _flash_published(row, f"Published version {row.id}, a copy of version {version_id}.")
    return redirect(url_for("staff.content_history"), 303)


def _flash_published(row: ContentVersion, said: str) -> None:
    seconds = f"{current_app.config['CONTENT_CHECK_SECONDS']:g}"
    if row.needs_approval:
        flash(
            f"{said} It changes medical text or scoring, so it goes live when a clinician "
            "approves it; patients keep seeing the approved version until then."
        )
    else:
        flash(f"{said} Every page patients open shows it within {seconds} seconds.")


def _review(draft: content_editing.Draft, *, error: str | None) -> str | Response:
    problems = content_editing.problems_in(draft.document)
    latest = content_publishing.latest()
    if latest is not None and latest.id != draft.based_on and not problems:
        return _stale(draft.based_on)
    html = render(
        "staff/content_review.html",
        title="Review and publish",
        draft=draft,
        problems=problems,
        diff=content_publishing.diff(latest, draft.document),
        medical=content_approval.changes_from_live(draft.document),
        needs_approval=content_approval.draft_needs_approval(draft.document),
        error=error,
    )
    return Response(html, 409 if error else 200, mimetype="text/html")


def _stale(based_on: int | None) -> Response:
    """Someone published since the draft began: show their change; nothing was stored."""
    since = content_publishing.published_since(based_on)
    changes = [
        (row, content_publishing.diff(content_publishing.version(row.based_on), row))
        if row.based_on is not None
        else (row, content_publishing.diff(None, row))
        for row in since
    ]
    html = render(
        "staff/content_stale.html",
        title="Published meanwhile",
        based_on=based_on,
        changes=changes,
        latest=since[-1].id if since else based_on,
    )
    return Response(html, 409, mimetype="text/html")
