"""What every patient page shares: step URLs, the page-or-fragment rendering, the 400 page.

Every GET is a pure function of its URL (plus `HX-Request`): the full page for a
browser, only the step's fragment for htmx. Nothing here reads or sets a cookie.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, make_response, render_template, request
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from quiz.content import localized_content
from quiz.core.scoring import Answers, Result, parse_answers, score
from quiz.patient import bp
from quiz.patient.params import QuizParams, read_params
from quiz.web.languages import current_language, language_from_browser
from quiz.web.urls import fixed_url


@bp.app_template_global()
def step_url(endpoint: str, params: QuizParams, upto: str = "goal") -> str:
    """URL of a quiz step carrying the answers up to `upto` and the tracking values."""
    query = urlencode(params.query(upto=upto))
    return fixed_url(endpoint) + (f"?{query}" if query else "")


def quiz_params(values: MultiDict[str, str]) -> QuizParams:
    """The request's quiz parameters, `lang` set to the page's language so every link keeps it."""
    return replace(read_params(values), lang=current_language())


def wants_fragment() -> bool:
    """True for an htmx swap; a history restore needs the whole page."""
    return "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers


def render_step(partial: str, status: int = 200, *, cache: bool = True, **context: Any) -> Response:
    """Render the full page or, for htmx, just the partial; set caching headers."""
    return step_response(render_html(partial, **context), status, cache=cache)


def render_html(partial: str, **context: Any) -> str:
    """The full page or, for htmx, just the partial."""
    template = partial if wants_fragment() else "patient/page.html"
    return render_template(template, partial=partial, fragment=wants_fragment(), **context)


def step_response(html: str, status: int = 200, *, cache: bool = True) -> Response:
    """A step's response for its HTML, with the caching headers it may have."""
    response = make_response(html, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-History-Restore-Request")
    if language_from_browser():
        response.vary.add("Accept-Language")
    if cache and status == 200:
        response.cache_control.public = True
        response.cache_control.max_age = current_app.config["QUIZ_CACHE_SECONDS"]
        # A proxy in front (nginx) asks again once a worker may have switched to a newly
        # published version: a cheap 304 while nothing changed, the new page once it has.
        shared = max(1, math.ceil(current_app.config["CONTENT_CHECK_SECONDS"]))
        if shared < current_app.config["QUIZ_CACHE_SECONDS"]:
            response.cache_control.s_maxage = shared
        response.add_etag()
        response.make_conditional(request)
    elif cache and status == 400 and request.method == "GET":
        # A broken link is a pure function of its URL too, but may be fixed soon.
        response.cache_control.public = True
        response.cache_control.max_age = current_app.config["QUIZ_ERROR_CACHE_SECONDS"]
    else:
        response.cache_control.no_store = True
    return response


def problem(message: str, params: QuizParams) -> Response:
    """The 400 page: what was wrong with the link, and a way to start again."""
    title = gettext("Let's start that again")
    message = gettext(message)  # the domain's messages are in the catalog (quiz.content.locales.N_)
    return render_step("patient/_problem.html", 400, title=title, message=message, params=params)


def scored(params: QuizParams) -> Result:
    """The scored result for complete answers; AnswerError for missing or unknown ones."""
    content = localized_content()
    concern, areas, goal = parse_answers(content, params.concern, params.areas, params.goal)
    assert concern is not None and goal is not None
    return score(content, Answers(concern, areas, goal))
