"""The patient's path: intro, three questions, result, callback request.

Every GET is a pure function of its URL (plus `HX-Request`): the full page for a
browser, only the step's fragment for htmx. Nothing here reads or sets a cookie.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError

from quiz.domain.content import Content
from quiz.domain.scoring import AnswerError, Answers, Result, parse_answers, score
from quiz.funnel.counter import record_event
from quiz.leads.store import Consent, Contact, store_lead
from quiz.patient.face_map import face_map
from quiz.patient.forms import BEST_TIME_PHRASES, BEST_TIMES, CallbackForm
from quiz.patient.params import QuizParams, read_params
from quiz.patient.tokens import (
    TokenError,
    check_form_token,
    is_cross_site_post,
    issue_form_token,
    own_origin,
    token_to_show_again,
)
from quiz.storage.database import db
from quiz.web.extensions import limiter

bp = Blueprint("patient", __name__, url_prefix="/quiz")

STEPS = ("concern", "area", "goal")
TOKEN_MESSAGES = {
    "too_fast": "That was very quick! Please check your details and press the button again.",
    "expired": "This form was open for a long time. Please check your details and send it again.",
    "tampered": "We couldn't read this form. Please check your details and send it again.",
}


@bp.app_template_global()
def step_url(endpoint: str, params: QuizParams, upto: str = "goal") -> str:
    """URL of a quiz step carrying the answers up to `upto` and the tracking values."""
    query = urlencode(params.query(upto=upto))
    return url_for(endpoint) + (f"?{query}" if query else "")


def content() -> Content:
    return current_app.extensions["quiz_content"]


def wants_fragment() -> bool:
    """True for an htmx swap; a history restore needs the whole page."""
    return "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers


def render_step(partial: str, status: int = 200, *, cache: bool = True, **context: Any) -> Response:
    """Render the full page or, for htmx, just the partial; set caching headers."""
    template = partial if wants_fragment() else "patient/page.html"
    html = render_template(template, partial=partial, fragment=wants_fragment(), **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    if cache and status == 200:
        response.cache_control.public = True
        response.cache_control.max_age = current_app.config["QUIZ_CACHE_SECONDS"]
        response.add_etag()
        response.make_conditional(request)
    else:
        response.cache_control.no_store = True
    return response


def problem(message: str, params: QuizParams) -> Response:
    """The 400 page: what was wrong with the link, and a way to start again."""
    return render_step(
        "patient/_problem.html", 400, title="Let's start that again", message=message, params=params
    )


@bp.get("/")
def intro() -> Response:
    """The widget's first screen: what the quiz is, and a start button."""
    return render_step(
        "patient/_intro.html", title=content().copy["intro_title"], params=read_params(request.args)
    )


@bp.get("/concern")
def concern() -> Response:
    """Question 1: what bothers you."""
    return _question("concern")


@bp.get("/area")
def area() -> Response:
    """Question 2: where on the face (one or more)."""
    return _question("area")


@bp.get("/goal")
def goal() -> Response:
    """Question 3: prevent, repair or both."""
    return _question("goal")


def _question(step: str) -> Response:
    params = read_params(request.args)
    index = STEPS.index(step)
    try:
        parse_answers(content(), params.concern, params.areas, params.goal, need=STEPS[:index])
    except AnswerError as err:
        if err.missing and STEPS.index(err.field) == index - 1:
            # The previous question was sent without an answer: ask it again.
            return _render_question(err.field, params, error=str(err), status=400)
        return problem(str(err), params)
    return _render_question(step, params)


def _render_question(
    step: str, params: QuizParams, *, error: str = "", status: int = 200
) -> Response:
    index = STEPS.index(step)
    question = content().question(step)
    selected = {"concern": {params.concern}, "area": set(params.areas), "goal": {params.goal}}[step]
    nxt = STEPS[index + 1] if index + 1 < len(STEPS) else None
    action = url_for(f"patient.{nxt}") if nxt else url_for("patient.result")
    # Back links and hidden fields keep every answer, so going back and
    # forth never loses one.
    back = (
        step_url(f"patient.{STEPS[index - 1]}", params)
        if index
        else step_url("patient.intro", params, "none")
    )
    return render_step(
        "patient/_question.html",
        status,
        title=f"{question.title} (question {index + 1} of {len(STEPS)})",
        question=question,
        step_number=index + 1,
        step_count=len(STEPS),
        selected=selected,
        action=action,
        back=back,
        carry=[(k, v) for k, v in params.query() if k != step],
        error=error,
        params=params,
    )


@bp.get("/result")
def result() -> Response:
    """The scored, explained result: a pure function of its URL, so it is cacheable."""
    params = read_params(request.args)
    try:
        res = _scored(params)
    except AnswerError as err:
        if err.missing and err.field == "goal" and params.concern and params.areas:
            return _render_question("goal", params, error=str(err), status=400)
        return problem(str(err), params)
    record_event(f"outcome:{res.outcome}")
    spa = current_app.extensions["quiz_spa"]
    return render_step(
        "patient/_result.html",
        title=content().outcomes[res.outcome].headline,
        result=res,
        params=params,
        face_map=face_map(res),
        booking_url=spa.booking_url(res.outcome),
        callback_url=step_url("patient.callback_form", params),
        back=step_url("patient.goal", params),
    )


def _scored(params: QuizParams) -> Result:
    concern, areas, goal = parse_answers(content(), params.concern, params.areas, params.goal)
    assert concern is not None and goal is not None
    return score(content(), Answers(concern, areas, goal))


@bp.get("/callback")
def callback_form() -> Response:
    """The callback form for these answers: in the result for htmx, its own page without."""
    params = read_params(request.args)
    try:
        res = _scored(params)
    except AnswerError as err:
        return problem(str(err), params)
    return _render_form(res, params, CallbackForm(formdata=None), token=issue_form_token())


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
        title=content().copy["callback_title"],
        result=res,
        form=form,
        params=params,
        notice=notice,
        consent_text=consent_text(),
        best_times=BEST_TIMES,
        result_url=step_url("patient.result", params),
    )


def consent_text() -> str:
    """The consent sentence exactly as shown, with the spa's name filled in."""
    spa = current_app.extensions["quiz_spa"]
    return content().copy["consent_text"].format(spa_name=spa.name)


@bp.post("/callback")
@limiter.limit(lambda: current_app.config["CALLBACK_RATE_LIMIT"])
def callback() -> Response:
    """Store a callback request, or show what needs fixing; never half-store."""
    if is_cross_site_post(request):
        abort(403, "This form can only be sent from the quiz itself.")
    params = read_params(request.values)
    try:
        res = _scored(params)
    except AnswerError as err:
        return _whole_widget(problem(str(err), params))

    form = CallbackForm()
    if form.is_bot:
        # Look like success so the bot learns nothing; store nothing.
        return _thanks(form.name.data or "", "anytime", res)
    sent = form.token.data or ""
    try:
        token = check_form_token(sent)
    except TokenError as err:
        form.validate()  # show field errors too, so one resend fixes everything
        current_app.logger.info("callback form refused: token %s", err.reason)
        notice = TOKEN_MESSAGES[err.reason]
        token_again = token_to_show_again(sent)
        return _render_form(res, params, form, token=token_again, status=400, notice=notice)
    if not form.validate():
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
            version=content().copy["consent_version"],
            ip=request.remote_addr or "",
            user_agent=request.user_agent.string,
            origin=request.headers.get("Origin", ""),
        ),
        tracking=params.tracking,
        referrer=_foreign_referrer(),
        nonce=token.nonce,
    )
    if created:
        current_app.logger.info("lead %s stored (outcome %s)", lead.id, res.outcome)
        record_event("callback")
    return _thanks(form.name.data, form.best_time.data, res)


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
    spa = current_app.extensions["quiz_spa"]
    params = read_params(request.values)
    try:
        res = _scored(params)
    except AnswerError:
        abort(503)
    notice = (
        "We couldn't save your request just now; nothing you did caused it. Please send it "
        f"again in a minute, or call {spa.name} on {spa.phone_display}."
    )
    form = CallbackForm()
    token = token_to_show_again(form.token.data or "")
    response = _render_form(res, params, form, token=token, status=503, notice=notice)
    response.headers["Retry-After"] = "60"
    return response


def _foreign_referrer() -> str:
    """The Referer header, unless it is only the widget itself."""
    ref = request.referrer or ""
    return "" if ref.startswith(own_origin(request)) else ref


def _thanks(name: str, best_time: str, res: Result) -> Response:
    spa = current_app.extensions["quiz_spa"]
    text = (
        content()
        .copy["thanks_text"]
        .format(
            spa_name=spa.name,
            window=spa.callback_window,
            best_time=BEST_TIME_PHRASES.get(best_time, BEST_TIME_PHRASES["anytime"]),
        )
    )
    response = render_step(
        "patient/_thanks.html",
        cache=False,
        title=content().copy["thanks_title"],
        name=name,
        text=text,
        booking_url=spa.booking_url(res.outcome),
    )
    return _whole_widget(response)
