"""The callback request: the form (one step from the result), and storing the lead.

The form carries a signed, time-stamped token (quiz.patient.tokens), so it is
never cached; the result it comes from stays cacheable. A form shown again keeps
the token it was sent with, so its clock runs from the first showing.

It also carries the consent it showed (`consent_shown`: the version and a
short hash of the exact sentence). When a version published since has another
sentence, the request stores nothing: the form comes back with the patient's
entries, the new sentence, the box unticked and a message beside it.
"""

from __future__ import annotations

from collections.abc import Hashable

from flask import Response, abort, current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from quiz.content import current_bundle, localized_content
from quiz.core import N_
from quiz.core.callback import BEST_TIME_PHRASES, BEST_TIMES, consent_fingerprint
from quiz.core.scoring import AnswerError, Result
from quiz.db.engine import db
from quiz.embed import requested_accent
from quiz.funnel import record_event
from quiz.leads import Consent, Contact, store_lead
from quiz.patient import bp
from quiz.patient.forms import CallbackForm, phone_hint
from quiz.patient.params import QuizParams
from quiz.patient.rendering import (
    problem,
    quiz_params,
    render_html,
    render_step,
    scored,
    step_response,
    step_url,
    wants_fragment,
)
from quiz.patient.tokens import (
    TokenError,
    check_form_token,
    is_cross_site_post,
    own_origin,
    token_for_this_showing,
    token_to_show_again,
)
from quiz.spas import current_details
from quiz.texts import SmsConsent, sms_consent, text_settings
from quiz.web import SPA_STAMP
from quiz.web.extensions import limiter
from quiz.web.languages import current_language
from quiz.web.spa_settings import settings as spa_settings

TOKEN_MESSAGES = {
    "too_fast": _l("That was very quick! Please check your details and press the button again."),
    "expired": _l(
        "This form was open for a long time. Please check your details and send it again."
    ),
    "tampered": _l("We couldn't read this form. Please check your details and send it again."),
}
CONSENT_CHANGED = _l(
    "The wording of this agreement has changed since the form was opened. Please read it "
    "and tick the box again if you agree."
)


@bp.get("/callback")
def callback_form() -> Response:
    """The callback form for these answers: in the result for htmx, its own page without."""
    params = quiz_params(request.args)
    try:
        res = scored(params)
    except AnswerError as err:
        return problem(str(err), params)
    return _render_form(res, params, CallbackForm(formdata=None), token=token_for_this_showing())


def _render_form(
    res: Result,
    params: QuizParams,
    form: CallbackForm,
    *,
    token: str,
    status: int = 200,
    notice: str = "",
) -> Response:
    """The form (never cached: its token is time-stamped), alone for htmx or as a page."""
    form.token.data = token
    form.consent_shown.data = consent_shown()
    if not wants_fragment():
        partial = "patient/_callback.html"
    elif request.method == "GET":
        partial = "patient/_callback_inline.html"  # opened in place, under the result
    else:
        partial = "patient/_callback_form.html"  # a resend with errors replaces the form
    return render_step(
        partial,
        status,
        cache=False,
        title=localized_content().copy["callback_title"],
        result=res,
        form=form,
        params=params,
        notice=notice,
        consent_text=consent_text(),
        sms_consent=texting_consent(),
        phone_hint=phone_hint(),
        best_times=BEST_TIMES,
        result_url=step_url("patient.result", params),
    )


def consent_text() -> str:
    """The consent sentence exactly as shown, with the spa's name filled in."""
    spa = current_details(current_app)
    return localized_content().copy["consent_text"].format(spa_name=spa.name)


def texting_consent() -> SmsConsent | None:
    """The texting consent this form shows, or None when patients are not texted."""
    settings = text_settings()
    return sms_consent(settings, current_language()) if settings else None


def consent_shown() -> str:
    """The fingerprint of the consents this request's content shows (see the module's doc).

    With texting on it covers the texting consent too: a patient who ticked a
    texting sentence since changed is asked again, like for the call consent.
    """
    text, version = consent_text(), localized_content().copy["consent_version"]
    sms = texting_consent()
    if sms is not None:
        text, version = f"{text}\n{sms.recorded_text}", f"{version}+{sms.version}"
    return consent_fingerprint(text, version)


def _consent_changed(form: CallbackForm) -> bool:
    """True if the form showed another consent than the current one; then untick and say so."""
    if (form.consent_shown.data or "") == consent_shown():
        return False
    form.consent.data = False
    form.consent.raw_data = []
    form.consent.errors = [str(CONSENT_CHANGED)]
    form.sms_consent.data = False
    form.sms_consent.raw_data = []
    return True


@bp.post("/callback")
@limiter.limit(lambda: current_app.config["CALLBACK_RATE_LIMIT"])
def callback() -> Response:
    """Store a callback request, or show what needs fixing; never half-store."""
    if is_cross_site_post(request):
        abort(403, "This form can only be sent from the quiz itself.")
    params = quiz_params(request.values)
    try:
        res = scored(params)
    except AnswerError as err:
        return _whole_widget(problem(str(err), params))

    form = CallbackForm()
    if form.is_bot:
        # Look like success so the bot learns nothing; store nothing.
        return _thanks("anytime", res)
    sent = form.token.data or ""
    try:
        token = check_form_token(sent)
    except TokenError as err:
        form.validate()  # show field errors too, so one resend fixes everything
        _consent_changed(form)
        current_app.logger.info("callback form refused: token %s", err.reason)
        notice = str(TOKEN_MESSAGES[err.reason])
        token_again = token_to_show_again(sent)
        return _render_form(res, params, form, token=token_again, status=400, notice=notice)
    valid = form.validate()
    if _consent_changed(form):  # published since the form was shown: ask again, store nothing
        current_app.logger.info("callback form shown again: the consent text changed")
        return _render_form(res, params, form, token=token_to_show_again(sent), status=409)
    if not valid:
        return _render_form(res, params, form, token=token_to_show_again(sent), status=422)

    lead, created = store_lead(
        contact=Contact(
            name=form.name.data,
            phone=form.phone_e164,
            email=form.email_normalized,
            best_time=form.best_time.data,
        ),
        result=res,
        consent=Consent(
            text=consent_text(),
            version=localized_content().copy["consent_version"],
            ip=request.remote_addr or "",
            user_agent=request.user_agent.string,
            origin=request.headers.get("Origin", ""),
            locale=params.lang or current_language(),
            sms=texting_consent() if form.sms_consent.data else None,
        ),
        tracking=params.tracking,
        referrer=_foreign_referrer(),
        nonce=token.nonce,
    )
    if created:
        current_app.logger.info("lead %s stored (outcome %s)", lead.id, res.outcome)
        record_event("callback")
    return _thanks(form.best_time.data, res)


def _whole_widget(response: Response) -> Response:
    """Make htmx swap this response into the whole widget, not just the form."""
    if wants_fragment():
        response.headers["HX-Retarget"] = "#quiz"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.errorhandler(SQLAlchemyError)
def database_unavailable(err: SQLAlchemyError) -> Response:
    """The calm 503 when the database can't take the request: the form kept, the spa's phone."""
    db.session.rollback()
    # The class only: the exception's text holds the SQL parameters (the patient's details).
    current_app.logger.error("callback not stored: database error %s", type(err).__name__)
    spa = current_details(current_app)
    params = quiz_params(request.values)
    try:
        res = scored(params)
    except AnswerError:
        abort(503)
    notice = gettext(
        "We couldn't save your request just now; nothing you did caused it. Please send it "
        "again in a minute, or call %(spa)s on %(phone)s.",
        spa=spa.name,
        phone=spa.phone_display,
    )
    form = CallbackForm()
    _consent_changed(form)
    token = token_to_show_again(form.token.data or "")
    response = _render_form(res, params, form, token=token, status=503, notice=notice)
    response.headers["Retry-After"] = "60"
    return response


def _foreign_referrer() -> str:
    """The Referer header, unless it is only the widget itself."""
    ref = request.referrer or ""
    return "" if ref.startswith(own_origin(request)) else ref


def callback_window() -> str:
    """The spa's promise in the page's language: SPA_CALLBACK_WINDOWS, else the catalog's."""
    spa = current_details(current_app)
    windows = spa_settings(current_app)["SPA_CALLBACK_WINDOWS"]
    # The default window is in the catalog; a spa's own wording is translated in settings.
    return windows.get(current_language()) or gettext(spa.callback_window)


# The default SPA_CALLBACK_WINDOW, for pybabel: translated when a spa keeps it.
N_("within one business day")


THANKS_KEPT = 256  # thanks pages kept per app: best times × outcomes × languages × accents


def _thanks(best_time: str, res: Result) -> Response:
    """The thanks page. It shows nothing of the patient's, so each one is rendered once.

    Kept per app, under everything it shows (the spa and its details, the
    content version, language, fragment or page, accent, best time, outcome),
    and never sent as cacheable.
    """
    key = (
        request.script_root,  # /s/<slug>: spas with the same content show their own details
        request.environ.get(SPA_STAMP, ""),
        current_bundle().version,
        current_language(),
        wants_fragment(),
        requested_accent(),
        best_time,
        res.outcome,
    )
    kept: dict[Hashable, str] = current_app.extensions.setdefault("quiz_thanks_pages", {})
    html = kept.get(key)
    if html is None:
        if len(kept) >= THANKS_KEPT:
            kept.clear()
        html = kept[key] = _render_thanks(best_time, res)
    return _whole_widget(step_response(html, cache=False))


def _render_thanks(best_time: str, res: Result) -> str:
    spa = current_details(current_app)
    text = (
        localized_content()
        .copy["thanks_text"]
        .format(
            spa_name=spa.name,
            window=callback_window(),
            best_time=gettext(BEST_TIME_PHRASES.get(best_time, BEST_TIME_PHRASES["anytime"])),
        )
    )
    return render_html(
        "patient/_thanks.html",
        title=localized_content().copy["thanks_title"],
        text=text,
        booking_url=spa.booking_url(res.outcome),
    )
