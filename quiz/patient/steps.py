"""The quiz's steps: the intro, the three questions and the result (all cacheable)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_babel import format_date, gettext

from quiz.content import current_bundle, localized_content
from quiz.core.scoring import AnswerError, parse_answers
from quiz.funnel import record_event
from quiz.patient import bp
from quiz.patient.face_map import face_map
from quiz.patient.params import QuizParams
from quiz.patient.rendering import problem, quiz_params, render_step, scored, step_url
from quiz.spas import current_details
from quiz.web.urls import fixed_url

STEPS = ("concern", "area", "goal")
CACHED = ("intro", *STEPS, "result")  # pure functions of their URL: the render cache keeps them


@bp.get("/")
def intro() -> Response:
    """The widget's first screen: what the quiz is, and a start button."""
    return render_step(
        "patient/_intro.html",
        title=localized_content().copy["intro_title"],
        params=quiz_params(request.args),
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
    params = quiz_params(request.args)
    index = STEPS.index(step)
    try:
        parse_answers(
            localized_content(), params.concern, params.areas, params.goal, need=STEPS[:index]
        )
    except AnswerError as err:
        if err.missing and STEPS.index(err.field) == index - 1:
            # The previous question was sent without an answer: ask it again.
            return _render_question(err.field, params, error=gettext(str(err)), status=400)
        return problem(str(err), params)
    return _render_question(step, params)


def _render_question(
    step: str, params: QuizParams, *, error: str = "", status: int = 200
) -> Response:
    index = STEPS.index(step)
    question = localized_content().question(step)
    selected = {"concern": {params.concern}, "area": set(params.areas), "goal": {params.goal}}[step]
    nxt = STEPS[index + 1] if index + 1 < len(STEPS) else None
    action = fixed_url(f"patient.{nxt}" if nxt else "patient.result")
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
        title=gettext(
            "%(title)s (question %(number)s of %(count)s)",
            title=question.title,
            number=index + 1,
            count=len(STEPS),
        ),
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
    params = quiz_params(request.args)
    try:
        res = scored(params)
    except AnswerError as err:
        if err.missing and err.field == "goal" and params.concern and params.areas:
            return _render_question("goal", params, error=gettext(str(err)), status=400)
        return problem(str(err), params)
    record_event(f"outcome:{res.outcome}")
    spa = current_details(current_app)
    reviewed = current_bundle().reviewed  # the live version's clinician, None before any
    return render_step(
        "patient/_result.html",
        reviewed=reviewed,
        reviewed_on=format_date(reviewed.on, "long") if reviewed else None,
        title=localized_content().outcomes[res.outcome].headline,
        result=res,
        params=params,
        face_map=face_map(res),
        booking_url=spa.booking_url(res.outcome),
        callback_url=step_url("patient.callback_form", params),
        back=step_url("patient.goal", params),
    )
