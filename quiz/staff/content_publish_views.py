"""Publishing the content (admins): review the draft's changes, publish, history, rollback.

Review runs every check a publish runs and shows the diff against the version
the draft started from; the publish form carries that version's number, so
a publish is refused when someone published since (the other change is then
shown, and the editor decides: keep their draft over it, or start again).
Rollback publishes a copy of an older version, checked like any publish.
Everything is in the audit log (`content_publish`, `content_rollback`).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask import render_template as render
from werkzeug.wrappers import Response

from quiz.domain.content import ContentError
from quiz.leads import content_editing, content_publishing
from quiz.staff import bp
from quiz.staff.auth import current_staff
from quiz.staff.roles import EDIT_CONTENT, admin_required
from quiz.storage.content_versions import NOTE_LENGTH, StaleVersion


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
    flash(
        f"Published version {row.id}. Every page patients open shows it within "
        f"{current_app.config['CONTENT_CHECK_SECONDS']:g} seconds."
    )
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
@admin_required(EDIT_CONTENT)
def content_history() -> str:
    versions = content_publishing.history()
    return render("staff/content_history.html", title="Content history", versions=versions)


@bp.get("/content/history/<id:version_id>")
@admin_required(EDIT_CONTENT)
def content_version(version_id: int) -> str:
    """One version: who, when, why, and what it changed from the version before it."""
    row = content_publishing.version(version_id)
    if row is None:
        abort(404)
    before = content_publishing.version(row.based_on) if row.based_on is not None else None
    diff = content_publishing.diff(before, row)
    newest = content_publishing.latest()
    latest = newest.id if newest is not None else row.id
    return render(
        "staff/content_version.html", title=f"Version {row.id}", row=row, diff=diff, latest=latest
    )


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
    flash(f"Published version {row.id}, a copy of version {version_id}.")
    return redirect(url_for("staff.content_history"), 303)


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
