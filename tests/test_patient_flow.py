"""Every patient route through a cookie-less client, as a full page and as an htmx fragment."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

HX = {"HX-Request": "true"}
STEP_URLS = [
    "/quiz/",
    "/quiz/concern",
    "/quiz/area?concern=expression",
    "/quiz/goal?concern=expression&area=between_brows",
    "/quiz/result?concern=expression&area=between_brows&goal=prevent",
]


def text(response) -> str:
    return response.get_data(as_text=True)


def checked(html: str) -> set[str]:
    """The values of the checked inputs in a page."""
    return set(re.findall(r'value="([^"]+)" checked', html))


@pytest.mark.parametrize("url", STEP_URLS)
def test_full_page_without_cookies(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    html = text(response)
    assert html.startswith("<!doctype html>")
    assert '<main id="quiz"' in html
    assert "/quiz/widget.js?v=" in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("url", STEP_URLS)
def test_htmx_gets_only_the_fragment(client: FlaskClient, url: str) -> None:
    response = client.get(url, headers=HX)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    html = text(response)
    assert "<html" not in html and '<main id="quiz"' not in html
    assert 'id="step-heading"' in html
    assert html.lstrip().startswith("<title>")  # htmx updates the page title from it
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_full_page(client: FlaskClient) -> None:
    response = client.get(STEP_URLS[2], headers={**HX, "HX-History-Restore-Request": "true"})
    assert text(response).startswith("<!doctype html>")


def test_question_pages_are_cacheable_and_conditional(client: FlaskClient) -> None:
    first = client.get(STEP_URLS[2])
    assert first.cache_control.public and first.cache_control.max_age
    again = client.get(STEP_URLS[2])
    assert again.data == first.data  # a pure function of the URL
    cached = client.get(STEP_URLS[2], headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304


def test_each_question_is_a_fieldset_with_legend_and_labelled_inputs(client: FlaskClient) -> None:
    for url, kind, count in [
        (STEP_URLS[1], "radio", 4),
        (STEP_URLS[2], "checkbox", 7),
        (STEP_URLS[3], "radio", 3),
    ]:
        html = text(client.get(url))
        assert "<fieldset" in html and "<legend>" in html
        ids = re.findall(rf'<input type="{kind}" name="\w+"\s+id="([\w-]+)"', html)
        assert len(ids) == count
        for input_id in ids:
            assert f'<label for="{input_id}">' in html


def test_progress_indicator_counts_the_questions(client: FlaskClient) -> None:
    for number, url in enumerate(STEP_URLS[1:4], start=1):
        assert f"Question {number} of 3" in text(client.get(url))


def test_each_step_submits_to_the_next_carrying_earlier_answers(client: FlaskClient) -> None:
    html = text(client.get("/quiz/goal?concern=etched&area=forehead&area=cheeks&utm_source=fb"))
    assert 'action="/quiz/result"' in html
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html)
    assert hidden == [
        ("concern", "etched"),
        ("area", "forehead"),
        ("area", "cheeks"),
        ("utm_source", "fb"),
        ("lang", "en"),  # the page's language rides along like the answers
    ]


def test_back_link_keeps_every_answer(client: FlaskClient) -> None:
    html = text(client.get("/quiz/goal?concern=etched&area=forehead&area=cheeks&goal=repair"))
    back = re.search(r'<a class="back" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert back == "/quiz/area?concern=etched&area=forehead&area=cheeks&goal=repair&lang=en"
    area_page = text(client.get(back))
    assert checked(area_page) == {"forehead", "cheeks"}
    # ... and the goal chosen earlier rides along to the next step.
    assert '<input type="hidden" name="goal" value="repair">' in area_page


def test_answers_already_given_are_preselected(client: FlaskClient) -> None:
    html = text(client.get("/quiz/concern?concern=volume&area=cheeks&goal=repair"))
    assert checked(html) == {"volume"}


def test_submitting_a_question_without_an_answer_asks_again(client: FlaskClient) -> None:
    response = client.get("/quiz/goal?concern=expression")
    assert response.status_code == 400
    html = text(response)
    assert "Please choose at least one area of your face." in html
    assert "Where on your face?" in html


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/quiz/result?concern=botox&area=forehead&goal=prevent", "is not one we know"),
        ("/quiz/result?concern=expression&area=nose&goal=prevent", "is not one we know"),
        ("/quiz/result?concern=expression&area=forehead&goal=forever", "is not one we know"),
        ("/quiz/result?area=forehead&goal=prevent", "Please choose what bothers you most."),
        ("/quiz/result", "Please choose what bothers you most."),
        ("/quiz/goal?concern=" + "x" * 5000, "is not one we know"),
        ("/quiz/area?concern=expression&area=cheeks&goal=sometime", "is not one we know"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_unknown_or_missing_ids_get_a_400_with_a_restart(
    client: FlaskClient, url: str, message: str, headers: dict[str, str]
) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers
    html = text(response)
    assert message in html
    assert 'href="/quiz/?lang=en"' in html  # start again, in the same language
    assert "Traceback" not in html


def test_result_explains_itself(client: FlaskClient) -> None:
    html = text(
        client.get("/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent")
    )
    assert 'data-outcome="both"' in html
    for section in [  # each opens and closes on its own
        "Why your answers led here",
        "Relaxing: a neuromodulator",
        "Filling: a dermal filler",
        "What to expect",
        "Prevention or repair?",
    ]:
        assert f"{section}</summary>" in html, section
    for label in ["Where it is injected", "What Alazzo Med Spa uses for what you chose"]:
        assert f"{label}:</strong>" in html, label
    assert 'data-area="between_brows" data-fit="relax"' in html
    assert 'data-area="cheeks" data-fit="fill"' in html
    for product in ["BOTOX® Cosmetic", "Xeomin®", "Radiesse®", "hyaluronic acid (HA)"]:
        assert product in html
    assert "™" not in html  # registered marks: ®
    assert "licensed professional" in html
    assert 'href="tel:+13018105740"' in html
    assert "Book online" not in html  # no booking link configured


@pytest.mark.parametrize(
    ("query", "outcome", "absent"),
    [
        ("concern=expression&area=forehead&goal=prevent", "relax", "Filling: a dermal filler"),
        ("concern=volume&area=cheeks&goal=repair", "fill", "Relaxing: a neuromodulator"),
    ],
)
def test_result_names_only_the_treatment_that_fits(
    client: FlaskClient, query: str, outcome: str, absent: str
) -> None:
    html = text(client.get(f"/quiz/result?{query}"))
    assert f'data-outcome="{outcome}"' in html
    assert absent not in html


def test_tracking_values_ride_along_and_bad_ones_are_dropped(client: FlaskClient) -> None:
    long = "x" * 300
    html = text(
        client.get(
            "/quiz/concern?utm_source=newsletter&utm_campaign="
            + long
            + "&page=https://alazzo.example/blog&ref=javascript:alert(1)"
        )
    )
    assert '<input type="hidden" name="utm_source" value="newsletter">' in html
    assert '<input type="hidden" name="page" value="https://alazzo.example/blog">' in html
    assert long not in html and "javascript:" not in html


def test_demo_page_embeds_the_widget_and_shows_the_snippet(client: FlaskClient) -> None:
    html = text(client.get("/"))
    assert '<iframe src="http://localhost/quiz/"' in html
    assert "&lt;iframe src=&#34;http://localhost/quiz/&#34;" in html  # the snippet, escaped


def test_unknown_page_is_a_calm_404(client: FlaskClient) -> None:
    response = client.get("/quiz/nowhere")
    assert response.status_code == 404
    assert "We couldn&#39;t find that page." in text(response)


def test_unexpected_error_is_a_calm_500_that_logs_no_patient_data(
    app, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/quiz-boom")
    def boom() -> str:
        from flask import request

        raise ValueError(request.args["who"])  # as a database error would quote its data

    response = client.get("/quiz-boom?who=Jane+Patient+%2B13018105740")
    assert response.status_code == 500
    assert "Something went wrong on our side" in text(response)
    assert "Traceback" not in text(response) and "Jane" not in text(response)
    assert "unhandled ValueError on GET /quiz-boom" in caplog.text
    assert "Jane" not in caplog.text and "+1301" not in caplog.text
