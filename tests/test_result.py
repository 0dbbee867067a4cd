"""The result page: short, cacheable, explained only by what was chosen; the form one step away."""

from __future__ import annotations

import html as html_lib
import re
from itertools import combinations
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import create_app
from quiz.content.live import EXTENSION
from quiz.settings import ConfigError
from tests.support.app import base_config, leads
from tests.support.clock import FrozenClock
from tests.support.patient import (
    RESULT_QUERY,
    callback_fields,
    callback_link,
    callback_page,
    valid_callback,
)

HX = {"HX-Request": "true"}
RESULT = f"/quiz/result?{RESULT_QUERY}"
AREAS = (
    "between_brows",
    "forehead",
    "crows_feet",
    "under_nose",
    "around_mouth",
    "marionette",
    "cheeks",
)


def text(response) -> str:
    return response.get_data(as_text=True)


def post(client: FlaskClient, data: dict, **headers: str):
    return client.post("/quiz/callback", data=data, headers=headers)


# --- a cacheable result --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_result_is_cacheable_and_conditional(client: FlaskClient, headers: dict) -> None:
    first = client.get(RESULT, headers=headers)
    assert first.status_code == 200
    assert first.cache_control.public and first.cache_control.max_age
    assert not first.cache_control.no_store
    assert "HX-Request" in first.headers["Vary"]
    assert "Set-Cookie" not in first.headers
    again = client.get(RESULT, headers=headers)
    assert again.data == first.data  # the same bytes: a pure function of the URL
    assert again.headers["ETag"] == first.headers["ETag"]
    cached = client.get(RESULT, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304 and cached.data == b""
    assert "Set-Cookie" not in cached.headers


def test_the_page_and_the_fragment_differ_and_are_told_apart(client: FlaskClient) -> None:
    page = client.get(RESULT)
    fragment = client.get(RESULT, headers=HX)
    assert "<html" in text(page) and "<html" not in text(fragment)
    assert page.headers["ETag"] != fragment.headers["ETag"]


def test_the_result_carries_no_form_and_no_token(client: FlaskClient) -> None:
    page = text(client.get(RESULT))
    assert 'id="callback"' not in page and 'name="token"' not in page


def test_the_result_leads_with_the_answer_then_the_actions(client: FlaskClient) -> None:
    page = text(client.get(RESULT))
    order = [
        'id="step-heading"',  # the outcome in words
        'class="lead"',  # why, in two or three sentences
        'id="request-callback"',  # the actions before the map: on the first screen
        'href="tel:+13018105740"',
        'class="face-map"',
        'class="note"',  # the licensed-professional note, visible
        "<details",  # the full explanation, closed
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))
    heading = re.search(r'id="step-heading"[^>]*>([^<]+)<', page).group(1)  # type: ignore[union-attr]
    # The heading names the kinds; products are named where they are used (the legend).
    assert "neuromodulator" in heading and "dermal filler" in heading
    assert '<span class="nowrap">(301) 810-5740</span>' in page  # the number never wraps


def test_every_fact_in_the_details_is_said_once(client: FlaskClient) -> None:
    page = html_lib.unescape(text(client.get(RESULT)))
    for sentence in (
        "A dermal filler leaves the muscle alone: it fills lines and restores lost volume",
        "Into the muscle, in the upper face",
        "Preventing means working on the cause of movement lines",
        "About three to four months",
    ):
        assert page.count(sentence) == 1, sentence


def test_the_face_map_marks_each_chosen_area_with_its_treatment(client: FlaskClient) -> None:
    query = "concern=etched&area=forehead&area=crows_feet&area=marionette&area=cheeks&goal=both"
    page = text(client.get(f"/quiz/result?{query}"))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg
    label = html_lib.unescape(re.search(r'aria-label="([^"]+)"', svg).group(1))  # type: ignore[union-attr]
    assert label == (
        "Face map: 1, Forehead, relax; 2, Corners of the eyes (crow's feet), relax; "
        "3, Down from the corners of the mouth (marionette lines), fill; 4, Cheeks, fill."
    )
    legend = re.findall(r'data-area="(\w+)" data-fit="(\w+)"', page)
    assert legend == [
        ("forehead", "relax"),
        ("crows_feet", "relax"),
        ("marionette", "fill"),
        ("cheeks", "fill"),
    ]
    # Relax marks are circles, fill marks squares: not colour alone.
    assert svg.count('class="mark mark-relax"') == 2 and svg.count('class="mark mark-fill"') == 2
    assert svg.count("<circle") == 1 + 2  # forehead, crow's feet on both sides
    assert svg.count("<rect") == 2 + 2  # marionette and cheeks on both sides


@pytest.mark.parametrize("concern", ["expression", "etched", "fine_lines", "volume"])
def test_every_explanation_line_names_an_answer_that_was_chosen(
    app: Flask, client: FlaskClient, concern: str
) -> None:
    """Over every area set and goal: each "You chose" on the page is one of the answers."""
    questions = {q.id: q for q in app.extensions[EXTENSION].english.questions}
    for size in range(1, len(AREAS) + 1):
        for areas in combinations(AREAS, size):
            for goal in ("prevent", "repair", "both"):
                query = [("concern", concern), *(("area", a) for a in areas), ("goal", goal)]
                page = html_lib.unescape(text(client.get(f"/quiz/result?{urlencode(query)}")))
                chosen = {questions[q].option(v).label for q, v in query}
                lines = re.findall(r'<li data-toward="(\w+)">(.*?)</li>', page, re.S)
                said = set()
                for toward, line in lines:
                    if toward != "rule":
                        said |= {label for label in chosen if f"You chose “{label}”." in line}
                    else:  # a rule quotes the answers that triggered it, and nothing else
                        for label in chosen:
                            line = line.replace(f"“{label}”", "")
                        assert "“" not in line, (query, line)
                assert said == chosen, query
                assert len([t for t, _ in lines if t != "rule"]) == len(query)


# --- the callback form, one step away -------------------------------------------------------


def test_the_result_links_to_the_form_for_the_same_answers(client: FlaskClient) -> None:
    link = callback_link(text(client.get(f"{RESULT}&utm_source=mail&accent=1a6b5c")))
    parts = urlsplit(link)
    assert parts.path == "/quiz/callback"
    assert parse_qsl(parts.query) == [
        ("concern", "expression"),
        ("area", "between_brows"),
        ("area", "cheeks"),
        ("goal", "prevent"),
        ("utm_source", "mail"),
        ("accent", "1a6b5c"),
        ("lang", "en"),
    ]


def test_without_javascript_the_form_is_a_page_that_is_never_cached(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get(callback_link(text(client.get(RESULT))))
    assert response.status_code == 200
    assert response.cache_control.no_store and "Set-Cookie" not in response.headers
    page = text(response)
    assert "<html" in page and '<h1 id="step-heading"' in page
    assert callback_fields(page)["token"]
    assert 'href="/quiz/result?concern=expression&amp;area=between_brows' in page  # way back
    assert post(client, valid_callback(client)).status_code == 200
    assert len(leads(app)) == 1


def test_with_javascript_the_form_opens_in_place_and_stores_a_lead(
    app: Flask, client: FlaskClient
) -> None:
    fragment = callback_page(client, **HX)
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<section class="callback-section"')
    assert 'id="callback-heading" tabindex="-1" data-focus' in fragment
    data = dict(callback_fields(fragment))
    data.update(name="Ada Patient", phone="(301) 810-5740", best_time="morning", consent="yes")
    response = post(client, data, **HX)
    assert response.status_code == 200
    # The thank-you replaces the whole widget, not just the form.
    assert response.headers["HX-Retarget"] == "#quiz"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert "will call you within one business day" in text(response)
    assert [lead.name for lead in leads(app)] == ["Ada Patient"]


def test_each_opening_of_the_form_gets_a_fresh_token(client: FlaskClient) -> None:
    first = callback_fields(callback_page(client))["token"]
    second = callback_fields(callback_page(client))["token"]
    assert first != second


def test_an_htmx_resend_with_errors_replaces_only_the_form(client: FlaskClient) -> None:
    response = post(client, valid_callback(client, name=""), **HX)
    assert response.status_code == 422
    assert "HX-Retarget" not in response.headers
    body = text(response)
    assert body.lstrip().startswith('<form id="callback"')
    assert 'id="name-error"' in body


def test_bad_answers_in_an_htmx_post_replace_the_whole_widget(client: FlaskClient) -> None:
    data = valid_callback(client)
    data["concern"] = "botox"
    response = post(client, data, **HX)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#quiz"
    assert "Start the quiz again" in text(response)


# --- a corrected form is accepted -----------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"MIN_FILL_SECONDS": 5}])
def test_a_corrected_form_sent_at_once_is_stored(
    app: Flask, client: FlaskClient, frozen_time: FrozenClock
) -> None:
    data = valid_callback(client, consent=None)  # the box left unticked
    frozen_time.advance(20)  # the patient takes 20 seconds over the form, then sends it
    refused = post(client, data)
    assert refused.status_code == 422
    assert "Please tick the box so that we may call you." in text(refused)
    assert leads(app) == []
    # Ticks the box and sends again straight away: no "That was very quick!".
    again = dict(callback_fields(text(refused)))
    assert again["token"] == data["token"]  # the clock of the form first opened
    data.update(again, consent="yes")
    stored = post(client, data)
    assert stored.status_code == 200, text(stored)
    assert "very quick" not in text(stored)
    assert [lead.name for lead in leads(app)] == ["Jane Patient"]


@pytest.mark.parametrize("app_config", [{"MIN_FILL_SECONDS": 5}])
def test_a_bot_posting_at_once_is_held_to_the_first_showing(
    app: Flask, client: FlaskClient, frozen_time: FrozenClock
) -> None:
    data = valid_callback(client)
    frozen_time.advance(1)
    first = post(client, data)
    assert first.status_code == 400 and "That was very quick!" in text(first)
    # Posting the re-shown form at once again is still too fast: the clock did not restart...
    data.update(callback_fields(text(first)))
    assert post(client, data).status_code == 400
    assert leads(app) == []
    # ... and it runs on from the first showing, so a person who waits is accepted.
    frozen_time.advance(5)  # 6 seconds after the form was first shown
    assert post(client, data).status_code == 200
    assert len(leads(app)) == 1


def test_a_form_refused_for_a_bad_token_gets_a_fresh_one(client: FlaskClient) -> None:
    data = valid_callback(client, token="forged")
    refused = post(client, data)
    assert refused.status_code == 400
    fresh = callback_fields(text(refused))["token"]
    assert fresh and fresh != ["forged"]


# --- booking per outcome --------------------------------------------------------------------

BOOKING = {
    "SPA_BOOKING_URL": "https://book.example/alazzo",
    "SPA_BOOKING_URLS": {
        "relax": "https://book.example/alazzo/neuromodulator?ref=site",
        "fill": "https://book.example/alazzo/filler",
        "consult": "https://book.example/alazzo/consultation",
    },
}


@pytest.mark.parametrize("app_config", [BOOKING])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "concern=expression&area=forehead&goal=prevent",
            "https://book.example/alazzo/neuromodulator?ref=site"
            "&utm_source=relax-or-fill&utm_content=relax",
        ),
        (
            "concern=volume&area=cheeks&goal=repair",
            "https://book.example/alazzo/filler?utm_source=relax-or-fill&utm_content=fill",
        ),
        (
            "concern=volume&area=forehead&goal=prevent",
            "https://book.example/alazzo/consultation?utm_source=relax-or-fill&utm_content=consult",
        ),
        (  # no booking page of its own for "both": the general one
            RESULT_QUERY,
            "https://book.example/alazzo?utm_source=relax-or-fill&utm_content=both",
        ),
    ],
)
def test_book_online_opens_the_booking_page_for_the_outcome(
    client: FlaskClient, query: str, expected: str
) -> None:
    page = text(client.get(f"/quiz/result?{query}"))
    assert f'<a class="button" href="{html_lib.escape(expected)}" target="_blank"' in page
    assert "Book online" in page


@pytest.mark.parametrize("app_config", [BOOKING])
def test_the_thank_you_offers_the_same_booking_page(client: FlaskClient) -> None:
    query = "concern=volume&area=cheeks&goal=repair"
    thanks = text(post(client, valid_callback(client, query)))
    assert "https://book.example/alazzo/filler?utm_source=relax-or-fill&amp;utm_content=fill" in (
        thanks
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"botox": "https://book.example/"}, "its keys are relax, fill, both"),
        ({"relax": "javascript:alert(1)"}, "must be a web address"),
        ("https://book.example/", "must map outcomes to URLs"),
    ],
)
def test_a_bad_booking_setting_stops_start_up(value: object, problem: str) -> None:
    with pytest.raises(ConfigError, match="SPA_BOOKING_URLS") as err:
        create_app(base_config("sqlite://", SPA_BOOKING_URLS=value))
    assert problem in str(err.value)


# --- copy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["concern", "area", "goal"])
def test_a_question_is_said_once_as_heading_and_legend(app: Flask, step: str) -> None:
    client = app.test_client(use_cookies=False)
    query = {"concern": "", "area": "concern=volume", "goal": "concern=volume&area=cheeks"}[step]
    page = html_lib.unescape(text(client.get(f"/quiz/{step}?{query}")))
    title = app.extensions[EXTENSION].english.question(step).title
    body = page[page.index("<body") :]
    assert body.count(title) == 1
    # The heading starts with the progress, so focusing it after a swap reads both.
    heading = r"<legend><h1 id=\"step-heading\"[^>]*><span class=\"progress-text\">Question \d of 3"
    assert re.search(heading + r"</span> <span class=\"question-title\">" + re.escape(title), body)


def test_the_thank_you_for_any_time_speaks_from_the_patients_side(
    client: FlaskClient,
) -> None:
    thanks = html_lib.unescape(text(post(client, valid_callback(client, best_time="anytime"))))
    assert "will call you within one business day, at any time of day, as you said suits you" in (
        thanks
    )
    assert "suits the team" not in thanks


# --- the site rule on the page --------------------------------------------------------


def test_lost_volume_above_the_nose_gets_a_consultation_with_the_callback_kept(
    client: FlaskClient,
) -> None:
    page = html_lib.unescape(text(client.get(
        "/quiz/result?concern=volume&area=forehead&area=between_brows&goal=repair"
    )))  # fmt: skip
    assert 'data-outcome="consult"' in page and 'data-lead="none"' in page
    assert "aren't used for lost volume between the brows, on the forehead" in page
    assert "A clinician will look at it with you." in page
    assert 'id="request-callback"' in page and 'href="tel:+13018105740"' in page
    assert "neuromodulator is what is used there, but it doesn't treat" in page
    assert re.findall(r'data-area="(\w+)" data-fit="(\w+)"', page) == [
        ("between_brows", "consult"),
        ("forehead", "consult"),
    ]
    assert "Relaxing: a neuromodulator</summary>" not in page  # no treatment is suggested
    expect = page[page.index('id="what-to-expect"') :]
    assert "A licensed clinician looks at the area with you" in expect


@pytest.mark.parametrize(
    "query",
    [
        "concern=expression&area=forehead&goal=prevent",
        "concern=volume&area=cheeks&goal=repair",
        "concern=etched&area=crows_feet&area=marionette&goal=both",
    ],
)
def test_every_treatment_result_says_what_to_expect(client: FlaskClient, query: str) -> None:
    page = html_lib.unescape(text(client.get(f"/quiz/result?{query}")))
    expect = page[page.index('id="what-to-expect"') : page.index("</details>", page.index(
        'id="what-to-expect"'
    ))]  # fmt: skip
    for heading in ("When it shows", "How long it lasts", "Common effects", "Who should wait"):
        assert heading in expect
    assert "pregnan" in expect and "breastfeeding" in expect and "allergy" in expect
    if "area=forehead" in query or "crows_feet" in query:
        assert "three to four months" in expect and "neuromuscular" in expect
    if "cheeks" in query or "marionette" in query:
        assert "6 months to a year or more" in expect and "bleeding disorder" in expect


def test_radiesse_is_never_named_for_the_lips(client: FlaskClient) -> None:
    lips = html_lib.unescape(text(client.get(
        "/quiz/result?concern=volume&area=around_mouth&goal=repair"
    )))  # fmt: skip
    assert "Radiesse" not in lips
    assert "hyaluronic acid (HA)" in lips
    both = html_lib.unescape(text(client.get(
        "/quiz/result?concern=volume&area=around_mouth&area=cheeks&goal=repair"
    )))  # fmt: skip
    legend = re.findall(r'data-area="(\w+)" data-fit="fill">(.*?)</li>', both, re.S)
    assert [(area, "Radiesse®" in words) for area, words in legend] == [
        ("around_mouth", False),
        ("cheeks", True),
    ]
