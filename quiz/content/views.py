"""The content editor (admins): every text by screen, each language side by side, a draft.

`/staff/content` shows the editor's draft (or the latest version, until they
change something) with every problem the checks find next to its field;
each screen is saved on its own (a plain form: no JavaScript needed), as is
each language's whole file. The preview links open the draft as a patient
sees it (`quiz/content/preview.py`); publishing and history are
`content_publish_views.py`.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, flash, redirect, request, url_for
from flask import render_template as render
from markupsafe import escape
from werkzeug.wrappers import Response

from quiz.content import editing as content_editing
from quiz.content.edit import Problem
from quiz.content.fields import every_field, screen, screens, shown
from quiz.content.preview import PREVIEW_STAFF_KEY, preview_token
from quiz.core.model import ContentError
from quiz.staff import (
    EDIT_CONTENT,
    admin_required,
    bp,
    current_staff,
    error_page,
    is_admin,
    signed_in_staff,
)
from quiz.web.extensions import csrf


@bp.errorhandler(ContentError)
def no_version_yet(error: ContentError) -> Response:
    """No published version to edit yet (a database migrated after start-up): say what to do."""
    return error_page(503, f"The content can't be edited yet: {error}. Reload in a few seconds.")


@bp.get("/content")
@admin_required(EDIT_CONTENT)
def content() -> str:
    """The editor: the draft's screens, its problems, and the links to preview and publish."""
    staff = current_staff()
    draft = content_editing.draft_for(staff.id)
    raw = content_editing.layout(draft.document)
    found = content_editing.problems_in(draft.document)
    return render(
        "staff/content.html",
        title="Content",
        draft=draft,
        screens=screens(raw),
        values=_values(draft.document),
        problems=found,
        by_field=_by_field(found),
        locales=draft.document.locales,
        files=dict(draft.document.texts),
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
    try:
        content_editing.save_file(staff.id, locale, request.form.get("text", ""))
    except ContentError:
        abort(404)
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
    staff = current_staff()
    draft = content_editing.draft_for(staff.id)
    found = content_editing.problems_in(draft.document)
    raw = content_editing.layout(draft.document)
    questions = {q["id"]: q for q in raw.get("questions", [])}
    page = request.args.get("screen", "intro")
    if page not in ("intro", "concern", "area", "goal", "result", "callback"):
        page = "intro"
    lang = request.args.get("lang", draft.document.locales[0])
    if lang not in draft.document.locales:
        lang = draft.document.locales[0]
    answers: list[tuple[str, str]] = [("lang", lang)]
    for qid, many in (("concern", False), ("area", True), ("goal", False)):
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
    """Every preview request needs a signed-in admin, not just a valid link (app-wide hook)."""
    if request.environ.get(PREVIEW_STAFF_KEY) is None:
        return None
    staff = signed_in_staff()
    if not is_admin(staff):
        response = _calm("This preview is for the spa's staff: sign in, then open it again.")
        response.status_code = 403
        return response
    return None


def _calm(message: str) -> Response:
    html = f'<!doctype html><html lang="en"><title>Preview</title><p>{escape(message)}</p></html>'
    return Response(html, 200, {"Cache-Control": "no-store"}, mimetype="text/html")


def _values(document: Any) -> dict[str, dict[str, str]]:
    """Each field's text as the inputs show it: {locale: {key: text}} ("*" for shared)."""
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for locale in document.locales:
        try:
            raw = tomllib.loads(document.text(locale))
        except tomllib.TOMLDecodeError:
            continue  # the file view shows the text and the problem
        for field in every_field(raw):
            result["*" if field.shared else locale][field.key] = shown(raw, field)
    return result


def _by_field(found: list[Problem]) -> dict[str, list[Problem]]:
    result: dict[str, list[Problem]] = defaultdict(list)
    for problem in found:
        result["margin" if problem.key == "content.margin" else problem.key].append(problem)
    return result
